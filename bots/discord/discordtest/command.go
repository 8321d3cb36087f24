package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

var commandNameRE = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// handleCommands serves GET and PUT (bulk overwrite) of global or guild commands.
func (s *Server) handleCommands(method, appID, guildID string, b *body) reply {
	if appID != s.opt.AppID {
		return fail(errNotApplication())
	}
	if method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := []any{}
		for _, c := range s.commands[guildID] {
			out = append(out, c)
		}
		return ok(out)
	}
	var in []*discordgo.ApplicationCommand
	if err := json.Unmarshal(b.raw, &in); err != nil {
		return fail(errForm(fieldErrors{"_errors": []map[string]string{{"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}}}))
	}
	if errs := checkCommands(in); errs != nil {
		return fail(errForm(errs))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]string{}
	for _, c := range s.commands[guildID] {
		old[fmt.Sprintf("%d/%s", c.Type, c.Name)] = c.ID
	}
	out := make([]*discordgo.ApplicationCommand, 0, len(in))
	for _, c := range in {
		cp := *c
		if cp.Type == 0 {
			cp.Type = discordgo.ChatApplicationCommand
		}
		cp.ID = old[fmt.Sprintf("%d/%s", cp.Type, cp.Name)]
		if cp.ID == "" {
			cp.ID = newID()
		}
		cp.ApplicationID = s.opt.AppID
		cp.GuildID = guildID
		cp.Version = newID()
		out = append(out, &cp)
	}
	s.commands[guildID] = out
	s.notifyLocked()
	return ok(out)
}

// checkCommands applies Discord's naming rules for commands and options.
func checkCommands(cmds []*discordgo.ApplicationCommand) fieldErrors {
	errs := fieldErrors{}
	seen := map[string]bool{}
	for i, c := range cmds {
		e := fieldErrors{}
		typ := c.Type
		if typ == 0 {
			typ = discordgo.ChatApplicationCommand
		}
		key := fmt.Sprintf("%d/%s", typ, c.Name)
		if seen[key] {
			e["name"] = leafError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		seen[key] = true
		switch typ {
		case discordgo.ChatApplicationCommand:
			if !commandNameRE.MatchString(c.Name) || c.Name != lower(c.Name) {
				e["name"] = leafError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			}
			if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
				e["description"] = leafError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
			}
			if c.NameLocalizations != nil {
				e.add("name_localizations", checkLocalizations(*c.NameLocalizations, checkName))
			}
			if c.DescriptionLocalizations != nil {
				e.add("description_localizations", checkLocalizations(*c.DescriptionLocalizations, checkDescription))
			}
		default:
			if n := utf8.RuneCountInString(c.Name); n < 1 || n > 32 {
				e["name"] = leafError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
			}
			if c.Description != "" {
				e["description"] = leafError("APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have description")
			}
			if c.NameLocalizations != nil {
				e.add("name_localizations", checkLocalizations(*c.NameLocalizations, checkLength(32)))
			}
		}
		if oe := checkOptions(c.Options); oe != nil {
			e["options"] = oe
		}
		if len(e) > 0 {
			errs[fmt.Sprint(i)] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkOptions(opts []*discordgo.ApplicationCommandOption) fieldErrors {
	if len(opts) > 25 {
		return leafError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	errs := fieldErrors{}
	optional := false
	for i, o := range opts {
		e := fieldErrors{}
		if !commandNameRE.MatchString(o.Name) || o.Name != lower(o.Name) {
			e["name"] = leafError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if n := utf8.RuneCountInString(o.Description); n < 1 || n > 100 {
			e["description"] = leafError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
		e.add("name_localizations", checkLocalizations(o.NameLocalizations, checkName))
		e.add("description_localizations", checkLocalizations(o.DescriptionLocalizations, checkDescription))
		if o.Type < 1 || o.Type > 11 {
			e["type"] = leafError("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
		}
		if o.Required && optional {
			e["required"] = leafError("APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
		}
		if !o.Required {
			optional = true
		}
		if len(o.Choices) > 25 {
			e["choices"] = leafError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		} else {
			e.add("choices", checkChoices(o.Choices))
		}
		if sub := checkOptions(o.Options); sub != nil {
			e["options"] = sub
		}
		if len(e) > 0 {
			errs[fmt.Sprint(i)] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkChoices(choices []*discordgo.ApplicationCommandOptionChoice) fieldErrors {
	errs := fieldErrors{}
	for i, c := range choices {
		e := fieldErrors{}
		e.add("name", checkLength(100)(c.Name))
		e.add("name_localizations", checkLocalizations(c.NameLocalizations, checkLength(100)))
		if len(e) > 0 {
			errs[fmt.Sprint(i)] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// add sets field to errs unless errs is nil.
func (e fieldErrors) add(field string, errs fieldErrors) {
	if errs != nil {
		e[field] = errs
	}
}

// locales are the keys Discord takes in name_localizations and
// description_localizations: its AvailableLocalesEnum.
var locales = sync.OnceValue(func() []string {
	var out []string
	enum, _ := loadSpec().schemas["AvailableLocalesEnum"].(map[string]any)
	members, _ := enum["oneOf"].([]any)
	for _, m := range members {
		if c, ok := m.(map[string]any)["const"].(string); ok {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		panic("discordtest: embedded OpenAPI spec has no AvailableLocalesEnum")
	}
	return out
})

// checkLocalizations checks a localization map: Discord's locales as keys
// (an unknown one, "pt_BR" or "zh", is refused as Discord refuses it),
// each value by check.
func checkLocalizations(m map[discordgo.Locale]string, check func(string) fieldErrors) fieldErrors {
	errs := fieldErrors{}
	for loc, v := range m {
		if !slices.Contains(locales(), string(loc)) {
			errs[string(loc)] = leafError("BASE_TYPE_CHOICES", "Value must be one of ('"+strings.Join(locales(), "', '")+"').")
			continue
		}
		errs.add(string(loc), check(v))
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// checkName checks a chat command's or an option's name in any language.
func checkName(name string) fieldErrors {
	if !commandNameRE.MatchString(name) || name != lower(name) {
		return leafError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
	}
	return nil
}

func checkDescription(d string) fieldErrors { return checkLength(100)(d) }

// checkLength checks that a text has 1 to max characters.
func checkLength(max int) func(string) fieldErrors {
	return func(s string) fieldErrors {
		if n := utf8.RuneCountInString(s); n < 1 || n > max {
			return leafError("BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between 1 and %d in length.", max))
		}
		return nil
	}
}

func lower(s string) string {
	r := []rune(s)
	for i, c := range r {
		if c >= 'A' && c <= 'Z' {
			r[i] = c + 'a' - 'A'
		}
	}
	return string(r)
}

// Commands returns the registered commands of a guild ("" = global).
func (s *Server) Commands(guildID string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*discordgo.ApplicationCommand, 0, len(s.commands[guildID]))
	for _, c := range s.commands[guildID] {
		cp := *c
		out = append(out, &cp)
	}
	return out
}

// commandLocked finds a registered command by type and name, guild first.
func (s *Server) commandLocked(guildID string, typ discordgo.ApplicationCommandType, name string) *discordgo.ApplicationCommand {
	scopes := []string{""}
	if guildID != "" {
		scopes = []string{guildID, ""}
	}
	for _, g := range scopes {
		for _, c := range s.commands[g] {
			if c.Type == typ && c.Name == name {
				return c
			}
		}
	}
	return nil
}
