package discordtest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// localizedCommand is a valid command with every kind of localization.
func localizedCommand() *discordgo.ApplicationCommand {
	return &discordgo.ApplicationCommand{
		Name: "video", Description: "Make a video",
		NameLocalizations:        &map[discordgo.Locale]string{discordgo.Italian: "video"},
		DescriptionLocalizations: &map[discordgo.Locale]string{discordgo.Italian: "Crea un video", discordgo.ChineseCN: "生成视频"},
		Options: []*discordgo.ApplicationCommandOption{{
			Type: discordgo.ApplicationCommandOptionString, Name: "orientation", Description: "Portrait or landscape",
			DescriptionLocalizations: map[discordgo.Locale]string{discordgo.PortugueseBR: "Vertical ou horizontal", discordgo.Russian: "Ориентация"},
			Choices: []*discordgo.ApplicationCommandOptionChoice{{
				Name: "landscape", Value: "landscape",
				NameLocalizations: map[discordgo.Locale]string{discordgo.SpanishES: "horizontal", discordgo.ChineseCN: "横屏"},
			}},
		}},
	}
}

// The bulk overwrite keeps localizations, and refuses what Discord refuses:
// a locale key not in Discord's list, and a translation out of its bounds,
// with the error at the offending key.
func TestCommandLocalizations(t *testing.T) {
	srv := newServer(t, Options{})
	sess, _ := connect(t, srv, nil)
	app := srv.Options().AppID

	if _, err := sess.ApplicationCommandBulkOverwrite(app, guildID, []*discordgo.ApplicationCommand{localizedCommand()}); err != nil {
		t.Fatalf("valid localizations refused: %v", err)
	}
	got := srv.Commands(guildID)
	if len(got) != 1 || (*got[0].DescriptionLocalizations)[discordgo.ChineseCN] != "生成视频" ||
		got[0].Options[0].Choices[0].NameLocalizations[discordgo.SpanishES] != "horizontal" {
		t.Fatalf("stored %+v", got)
	}

	long := strings.Repeat("é", 101)
	for _, c := range []struct {
		name   string
		change func(c *discordgo.ApplicationCommand)
		path   []string // to the error's leaf
		code   string
	}{
		{"underscore locale", func(c *discordgo.ApplicationCommand) {
			(*c.DescriptionLocalizations)["pt_BR"] = "Crie um vídeo"
		}, []string{"0", "description_localizations", "pt_BR"}, "BASE_TYPE_CHOICES"},
		{"bare language as locale", func(c *discordgo.ApplicationCommand) {
			c.Options[0].DescriptionLocalizations["zh"] = "方向"
		}, []string{"0", "options", "0", "description_localizations", "zh"}, "BASE_TYPE_CHOICES"},
		{"choice locale", func(c *discordgo.ApplicationCommand) {
			c.Options[0].Choices[0].NameLocalizations["es"] = "horizontal"
		}, []string{"0", "options", "0", "choices", "0", "name_localizations", "es"}, "BASE_TYPE_CHOICES"},
		{"description of 101 characters", func(c *discordgo.ApplicationCommand) {
			(*c.DescriptionLocalizations)[discordgo.Italian] = long
		}, []string{"0", "description_localizations", "it"}, "BASE_TYPE_BAD_LENGTH"},
		{"empty option description", func(c *discordgo.ApplicationCommand) {
			c.Options[0].DescriptionLocalizations[discordgo.Russian] = ""
		}, []string{"0", "options", "0", "description_localizations", "ru"}, "BASE_TYPE_BAD_LENGTH"},
		{"choice name of 101 characters", func(c *discordgo.ApplicationCommand) {
			c.Options[0].Choices[0].NameLocalizations[discordgo.ChineseCN] = long
		}, []string{"0", "options", "0", "choices", "0", "name_localizations", "zh-CN"}, "BASE_TYPE_BAD_LENGTH"},
		{"upper-case command name", func(c *discordgo.ApplicationCommand) {
			(*c.NameLocalizations)[discordgo.Italian] = "Video"
		}, []string{"0", "name_localizations", "it"}, "APPLICATION_COMMAND_INVALID_NAME"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := localizedCommand()
			c.change(cmd)
			_, err := sess.ApplicationCommandBulkOverwrite(app, guildID, []*discordgo.ApplicationCommand{cmd})
			re := restErr(t, err)
			if re.Message == nil || re.Message.Code != 50035 {
				t.Fatalf("error %v, want 50035", err)
			}
			var body struct {
				Errors map[string]any `json:"errors"`
			}
			if err := json.Unmarshal(re.ResponseBody, &body); err != nil {
				t.Fatal(err)
			}
			var node any = body.Errors
			for _, k := range c.path {
				m, _ := node.(map[string]any)
				node = m[k]
			}
			leaf, _ := node.(map[string]any)
			errs, _ := leaf["_errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["code"] != c.code {
				t.Fatalf("errors %s, want %s at %v", re.ResponseBody, c.code, c.path)
			}
			if c.code == "BASE_TYPE_CHOICES" && !strings.Contains(errs[0].(map[string]any)["message"].(string), "'pt-BR'") {
				t.Errorf("message does not list Discord's locales: %s", re.ResponseBody)
			}
		})
	}
	if got := srv.Commands(guildID); (*got[0].DescriptionLocalizations)[discordgo.Italian] != "Crea un video" {
		t.Errorf("a refused overwrite changed the commands: %+v", got[0])
	}
}
