package discord

import (
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
	"sorabot/i18n"
)

func ptr[T any](v T) *T { return &v }

// localized is message id in the default language, which Discord shows
// where it has no translation, and its translations keyed by Discord locale
// (it, zh-CN, es-ES, pt-BR, ru).
func localized(id string, args i18n.Args) (string, map[discordgo.Locale]string) {
	tr := map[discordgo.Locale]string{}
	for _, lang := range i18n.Languages {
		if loc := i18n.DiscordLocale(lang); loc != "" {
			tr[discordgo.Locale(loc)] = i18n.T(lang, id, args)
		}
	}
	return i18n.T(i18n.Default, id, args), tr
}

// command is a slash command described by message id.
func command(name, id string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
	desc, tr := localized(id, nil)
	return &discordgo.ApplicationCommand{Name: name, Description: desc, DescriptionLocalizations: &tr, Options: opts}
}

// option is an option described by message id.
func option(typ discordgo.ApplicationCommandOptionType, name, id string) *discordgo.ApplicationCommandOption {
	desc, tr := localized(id, nil)
	return &discordgo.ApplicationCommandOption{Type: typ, Name: name, Description: desc, DescriptionLocalizations: tr}
}

// choice is a choice whose name is message id.
func choice(id string, args i18n.Args, value any) *discordgo.ApplicationCommandOptionChoice {
	name, tr := localized(id, args)
	return &discordgo.ApplicationCommandOptionChoice{Name: name, NameLocalizations: tr, Value: value}
}

// commands are the slash and context-menu commands: /video and /storyboard
// with options built from the catalog, then every other command of
// chat.Specs with its arguments as options, then "Animate".
func commands(cat *core.Catalog, protocol string) []*discordgo.ApplicationCommand {
	var cmds []*discordgo.ApplicationCommand
	admin := int64(discordgo.PermissionAdministrator)
	for _, sp := range chat.Specs() {
		switch {
		case sp.Hidden, sp.TypedOnly:
		case sp.Name == chat.CmdVideo:
			cmds = append(cmds, videoCommand(cat, protocol))
		case sp.Name == chat.CmdStoryboard:
			cmds = append(cmds, command(sp.Name, "discord.storyboard",
				option(discordgo.ApplicationCommandOptionString, "shots", "discord.shots"),
				orientationOption()))
		default:
			c := command(sp.Name, sp.Summary)
			for _, a := range sp.Args {
				c.Options = append(c.Options, argOption(a))
			}
			if sp.Admin {
				c.DefaultMemberPermissions = &admin
			}
			cmds = append(cmds, c)
		}
	}
	return append(cmds, &discordgo.ApplicationCommand{Name: "Animate", Type: discordgo.MessageApplicationCommand})
}

// argOption is a command argument as a Discord option.
func argOption(a chat.Arg) *discordgo.ApplicationCommandOption {
	o := option(discordgo.ApplicationCommandOptionString, a.Name, a.Help)
	o.Required = !a.Optional
	// A language's name is the same in every locale ("Italiano"): its
	// choices need no localizations.
	for _, c := range a.Choices {
		o.Choices = append(o.Choices, &discordgo.ApplicationCommandOptionChoice{Name: c.Label, Value: c.Value})
	}
	switch a.Kind {
	case chat.ArgInt:
		o.Type = discordgo.ApplicationCommandOptionInteger
	case chat.ArgUser:
		o.Type = discordgo.ApplicationCommandOptionUser
	}
	return o
}

// optionArgs reads a command's options as its arguments, in the spec's
// order (a user is "discord:<id>"); missing optional ones are left out.
func optionArgs(sp *chat.Spec, opts []*discordgo.ApplicationCommandInteractionDataOption) []string {
	var args []string
	for _, a := range sp.Args {
		o := optionNamed(opts, a.Name)
		if o == nil {
			continue
		}
		v := optionText(o)
		if a.Kind == chat.ArgUser {
			v = Platform + ":" + v
		}
		args = append(args, v)
	}
	return args
}

func optionNamed(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) *discordgo.ApplicationCommandInteractionDataOption {
	for _, o := range opts {
		if o != nil && o.Name == name {
			return o
		}
	}
	return nil
}

// optionText is an option's value as text, whatever its type (discordgo's
// StringValue and IntValue panic on a value of another type).
func optionText(o *discordgo.ApplicationCommandInteractionDataOption) string {
	switch v := o.Value.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	return fmt.Sprint(o.Value)
}

func orientationOption() *discordgo.ApplicationCommandOption {
	o := option(discordgo.ApplicationCommandOptionString, "orientation", "discord.orientation")
	o.Choices = []*discordgo.ApplicationCommandOptionChoice{
		choice("choice.landscape", nil, core.Landscape), choice("choice.portrait", nil, core.Portrait)}
	return o
}

// qualityChoice is a quality as a choice: the known wire names translated,
// any other one as it is.
func qualityChoice(q string) *discordgo.ApplicationCommandOptionChoice {
	switch q {
	case "standard", "high", "small", "large":
		return choice("choice.quality."+q, nil, q)
	}
	return &discordgo.ApplicationCommandOptionChoice{Name: q, Value: q}
}

// videoCommand is /video, with the catalog's models, durations and qualities as choices.
func videoCommand(cat *core.Catalog, protocol string) *discordgo.ApplicationCommand {
	var models, qualities []*discordgo.ApplicationCommandOptionChoice
	durations := map[int]bool{}
	seenQ := map[string]bool{}
	for _, m := range cat.Enabled(protocol) {
		if len(models) < 25 {
			models = append(models, &discordgo.ApplicationCommandOptionChoice{Name: m.ID, Value: m.ID})
		}
		for _, d := range m.Durations {
			durations[d] = true
		}
		for _, q := range m.Qualities {
			if !seenQ[q] && len(qualities) < 25 {
				seenQ[q] = true
				qualities = append(qualities, qualityChoice(q))
			}
		}
	}
	var durChoices []*discordgo.ApplicationCommandOptionChoice
	for d := 1; d <= 60 && len(durChoices) < 25; d++ {
		if durations[d] {
			durChoices = append(durChoices, choice("choice.seconds", i18n.Args{"Seconds": d}, d))
		}
	}
	prompt := option(discordgo.ApplicationCommandOptionString, "prompt", "arg.prompt")
	prompt.Required, prompt.MaxLength = true, 2000
	video := command(chat.CmdVideo, "discord.video",
		prompt,
		option(discordgo.ApplicationCommandOptionAttachment, "image", "discord.image"),
		orientationOption(),
		option(discordgo.ApplicationCommandOptionBoolean, "pro", "discord.pro"),
		option(discordgo.ApplicationCommandOptionBoolean, "watermark", "discord.watermark"),
		option(discordgo.ApplicationCommandOptionBoolean, "private", "discord.private"))
	if len(models) > 0 {
		o := option(discordgo.ApplicationCommandOptionString, "model", "discord.model")
		o.Choices = models
		video.Options = append(video.Options, o)
	}
	if len(durChoices) > 0 {
		o := option(discordgo.ApplicationCommandOptionInteger, "duration", "discord.duration")
		o.Choices = durChoices
		video.Options = append(video.Options, o)
	}
	if len(qualities) > 0 {
		o := option(discordgo.ApplicationCommandOptionString, "quality", "discord.quality")
		o.Choices = qualities
		video.Options = append(video.Options, o)
	}
	return video
}
