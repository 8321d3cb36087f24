package discord

import (
	"fmt"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

func ptr[T any](v T) *T { return &v }

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
			cmds = append(cmds, &discordgo.ApplicationCommand{Name: sp.Name,
				Description: "A storyboard: shots like \"5s A city at dusk | 5s A runner\"",
				Options: []*discordgo.ApplicationCommandOption{
					{Type: discordgo.ApplicationCommandOptionString, Name: "shots", Description: "Shots separated by | (leave out to type them one per line)"},
					orientationOption(),
				}})
		default:
			c := &discordgo.ApplicationCommand{Name: sp.Name, Description: sp.Summary}
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
	o := &discordgo.ApplicationCommandOption{Name: a.Name, Description: a.Help, Required: !a.Optional,
		Type: discordgo.ApplicationCommandOptionString}
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
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "orientation",
		Description: "portrait or landscape (default landscape)", Choices: []*discordgo.ApplicationCommandOptionChoice{
			{Name: "landscape", Value: core.Landscape}, {Name: "portrait", Value: core.Portrait}}}
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
				qualities = append(qualities, &discordgo.ApplicationCommandOptionChoice{Name: q, Value: q})
			}
		}
	}
	var durChoices []*discordgo.ApplicationCommandOptionChoice
	for d := 1; d <= 60 && len(durChoices) < 25; d++ {
		if durations[d] {
			durChoices = append(durChoices, &discordgo.ApplicationCommandOptionChoice{Name: fmt.Sprintf("%d s", d), Value: d})
		}
	}
	video := &discordgo.ApplicationCommand{Name: chat.CmdVideo, Description: "Make a video from a description (attach an image to animate it)",
		Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What the video shows", Required: true, MaxLength: 2000},
			{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "A picture to animate (PNG, JPEG or WebP)"},
			orientationOption(),
			{Type: discordgo.ApplicationCommandOptionBoolean, Name: "pro", Description: "Use the pro tier"},
			{Type: discordgo.ApplicationCommandOptionBoolean, Name: "watermark", Description: "Accept a watermarked video"},
			{Type: discordgo.ApplicationCommandOptionBoolean, Name: "private", Description: "Do not publish the video (where the model allows)"},
		}}
	if len(models) > 0 {
		video.Options = append(video.Options, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString,
			Name: "model", Description: "A model (/models lists them with prices)", Choices: models})
	}
	if len(durChoices) > 0 {
		video.Options = append(video.Options, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger,
			Name: "duration", Description: "Length in seconds", Choices: durChoices})
	}
	if len(qualities) > 0 {
		video.Options = append(video.Options, &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString,
			Name: "quality", Description: "Quality (pro models)", Choices: qualities})
	}
	return video
}
