// Package chat is what the chat frontends (Telegram, Discord, the console)
// share: the commands (what each one does and answers), the typed command
// grammar, every reply text, and progress rendering. It imports only core,
// i18n and the standard library.
package chat

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"sorabot/core"
)

// Command is one parsed chat message.
type Command struct {
	// Name is one of the Cmd* constants, or "" for plain text (not a command).
	Name string
	// Bot is the @BotName suffix of "/video@BotName", without the "@";
	// frontends check that it names them.
	Bot string
	// Request is the request of a video or storyboard command.
	Request core.Request
	// Args are the words after any other command.
	Args []string
	// JobID is the job of /job and /cancel, without a leading "#".
	JobID string
	// Target, Amount and Set are /grant's: "/grant telegram:123 500" adds,
	// "=500" sets. Target is empty when only an amount was given (the
	// frontend may take it from a replied-to message).
	Target string
	Amount int
	Set    bool
}

// maxGrant bounds /grant amounts so that they never overflow.
const maxGrant = 999_999_999

// maxSeconds bounds durations written by users.
const maxSeconds = 10_000

// Parse parses one message text or caption. Errors are *core.Error with code
// EINVALID and a message for the user; even then the returned Command carries
// Bot (and Name when the command word was known), so a frontend can ignore a
// message addressed to another bot.
func Parse(text string) (Command, error) {
	s := strings.TrimLeftFunc(text, unicode.IsSpace)
	if !strings.HasPrefix(s, "/") {
		return Command{}, nil
	}
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		end = len(s)
	}
	word, body := s[:end], s[end:]
	name, bot, _ := strings.Cut(word[1:], "@")
	c := Command{Bot: bot}
	sp := Lookup(name)
	if sp == nil || !validCommandWord(name, bot) {
		return c, errUnknownCommand(word)
	}
	c.Name = sp.Name
	var err error
	switch sp.Name {
	case CmdVideo:
		c.Request, err = ParseVideo(body)
	case CmdStoryboard:
		c.Request, err = ParseStoryboard(body)
	default:
		if args := strings.Fields(body); len(args) > 0 {
			c.Args = args
		}
		if sp.parse != nil {
			err = sp.parse(&c)
		}
	}
	return c, err
}

// NewCommand is the command name with its arguments given one by one, as
// Discord's options give them, checked as Parse checks typed ones. It is
// for the commands that are not video requests.
func NewCommand(name string, args ...string) (Command, error) {
	sp := Lookup(name)
	if sp == nil || sp.Request {
		return Command{}, errUnknownCommand("/" + name)
	}
	c := Command{Name: sp.Name}
	if len(args) > 0 {
		c.Args = args
	}
	if sp.parse == nil {
		return c, nil
	}
	return c, sp.parse(&c)
}

// validCommandWord reports whether name and bot have the shape Telegram gives
// commands and bot usernames.
func validCommandWord(name, bot string) bool {
	word := func(s string, min, max int) bool {
		if len(s) < min || len(s) > max {
			return false
		}
		for _, r := range s {
			if r != '_' && !isASCIIAlnum(r) {
				return false
			}
		}
		return true
	}
	return word(name, 1, 32) && (bot == "" || word(bot, 1, 64))
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func parseJobArg(c *Command) error {
	var err error
	c.JobID, err = parseJobID(c.Name, c.Args)
	return err
}

func parseGrantArgs(c *Command) error {
	var err error
	c.Target, c.Amount, c.Set, err = parseGrant(c.Args)
	return err
}

func parseJobID(cmd string, args []string) (string, error) {
	if len(args) == 0 {
		return "", errJobUsage(cmd)
	}
	id := strings.TrimPrefix(args[0], "#")
	if id == "" || len(id) > 64 {
		return "", errBadJobID(args[0])
	}
	for _, r := range id {
		if r != '-' && r != '_' && !isASCIIAlnum(r) {
			return "", errBadJobID(args[0])
		}
	}
	return id, nil
}

// parseGrant reads "[user] amount" in either order; amount is N, +N, -N or =N.
func parseGrant(args []string) (target string, amount int, set bool, err error) {
	usage := errGrantUsage()
	if len(args) == 0 || len(args) > 2 {
		return "", 0, false, usage
	}
	haveAmount := false
	for _, a := range args {
		if n, s, ok := parseAmount(a); ok && !haveAmount {
			amount, set, haveAmount = n, s, true
			continue
		}
		if target != "" {
			return "", 0, false, usage
		}
		platform, id, ok := strings.Cut(a, ":")
		if !ok || platform == "" || id == "" {
			return "", 0, false, errBadUser(a)
		}
		target = strings.ToLower(platform) + ":" + id
	}
	if !haveAmount {
		return "", 0, false, usage
	}
	return target, amount, set, nil
}

func parseAmount(s string) (n int, set, ok bool) {
	sign := 1
	switch {
	case strings.HasPrefix(s, "="):
		set, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	}
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false, false
	}
	n, _ = strconv.Atoi(s)
	return sign * n, set, true
}

// ParseVideo parses the words after /video: options anywhere, every other
// word is the prompt (kept with the user's spacing and line breaks). The
// prompt may come back empty; core decides whether that is allowed.
func ParseVideo(text string) (core.Request, error) {
	var r core.Request
	prompt, err := consumeOptions(text, &r, true)
	r.Prompt = strings.TrimSpace(prompt)
	return r, err
}

// ParseStoryboard parses the text after /storyboard: options on the first
// line (or on a line of their own), then one shot per line or " | "-separated
// shots, each "<seconds>s <scene>".
func ParseStoryboard(text string) (core.Request, error) {
	r := core.Request{Storyboard: true}
	lines := strings.Split(text, "\n")
	var shots []string
	for i, line := range lines {
		if i > 0 && !onlyOptions(line) {
			shots = append(shots, line)
			continue
		}
		rest, err := consumeOptions(line, &r, i == 0)
		if err != nil {
			return r, err
		}
		shots = append(shots, rest)
	}
	var err error
	r.Shots, err = ParseShots(strings.Join(shots, "\n"))
	return r, err
}

// onlyOptions reports whether line has words and every one is a known option.
func onlyOptions(line string) bool {
	words := strings.Fields(line)
	for _, w := range words {
		var r core.Request
		if ok, err := applyOption(w, &r); !ok || err != nil {
			return false
		}
	}
	return len(words) > 0
}

// consumeOptions applies the option words of text to r and returns text
// without them. An unknown "--option" is an error when strict.
func consumeOptions(text string, r *core.Request, strict bool) (string, error) {
	var b strings.Builder
	b.Grow(len(text))
	i := 0
	for i < len(text) {
		ch, w := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(ch) {
			b.WriteString(text[i : i+w])
			i += w
			continue
		}
		j := i
		for j < len(text) {
			ch, w := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(ch) {
				break
			}
			j += w
		}
		tok := text[i:j]
		ok, err := applyOption(tok, r)
		if err != nil && strict {
			return "", err
		}
		if !ok || err != nil {
			b.WriteString(tok)
			i = j
			continue
		}
		// Drop the option and the blanks after it on its line; at a line's
		// end drop the blanks before it instead.
		i = j
		k := i
		for k < len(text) {
			ch, w := utf8.DecodeRuneInString(text[k:])
			if !isBlank(ch) {
				break
			}
			k += w
		}
		if k == len(text) || text[k] == '\n' || text[k] == '\r' {
			s := strings.TrimRightFunc(b.String(), isBlank)
			b.Reset()
			b.WriteString(s)
			if s == "" || strings.HasSuffix(s, "\n") {
				// The line held only options: drop it whole.
				if strings.HasPrefix(text[k:], "\r\n") {
					k += 2
				} else if k < len(text) {
					k++
				}
			}
		}
		i = k
	}
	return b.String(), nil
}

// isBlank is white space within a line.
func isBlank(r rune) bool { return r != '\n' && r != '\r' && unicode.IsSpace(r) }

// optionName returns the name of an option word ("--hd", "—hd" → "hd") and
// whether the word was written with dashes. Words such as "--", "-->" or
// "---" are not options.
func optionName(tok string) (name string, double bool, ok bool) {
	switch {
	case strings.HasPrefix(tok, "--"):
		name, double = tok[2:], true
	case strings.HasPrefix(tok, "—"), strings.HasPrefix(tok, "–"): // phones turn "--" into a dash
		name = tok[len("—"):]
	default:
		return "", false, false
	}
	first, _ := utf8.DecodeRuneInString(name)
	if !unicode.IsLetter(first) && !unicode.IsDigit(first) {
		return "", false, false
	}
	return name, double, true
}

// applyOption applies tok to r if it is an option. It reports whether tok is
// an option word at all; err is set when it is one but unknown or malformed
// (a dash-prefixed word that names no option is prose, not an error).
func applyOption(tok string, r *core.Request) (bool, error) {
	name, double, ok := optionName(tok)
	if !ok {
		return false, nil
	}
	key, value, hasValue := strings.Cut(name, "=")
	key = strings.ToLower(key)
	known := true
	switch {
	case hasValue && key != "model":
		known = false
	case key == "portrait", key == "vertical":
		r.Orientation = core.Portrait
	case key == "landscape", key == "horizontal":
		r.Orientation = core.Landscape
	case key == "hd":
		r.Quality = "hd"
	case key == "pro":
		r.Pro = true
	case key == "watermark":
		r.Watermark = true
	case key == "private":
		r.Private = true
	case key == "model":
		if strings.TrimSpace(value) == "" {
			return true, errModelUsage()
		}
		r.Model = value
	default:
		n, unit, isNum := splitNumber(key)
		if !isNum || (unit != "s" && unit != "sec" && !(unit == "" && double)) {
			known = false
			break
		}
		if n < 1 || n > maxSeconds {
			return true, errBadDuration(tok)
		}
		r.Duration = n
	}
	if !known {
		if !double {
			return false, nil
		}
		return true, errUnknownOption(tok)
	}
	return true, nil
}

// splitNumber splits "15s" into 15 and "s". It reports false when s does not
// start with a digit; n is -1 when the number is too long.
func splitNumber(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	if i > 6 {
		return -1, s[i:], true
	}
	n, _ = strconv.Atoi(s[:i])
	return n, s[i:], true
}

// ParseDuration reads a duration in seconds as users write it: "15", "15s",
// "15 s", "15sec", "15 seconds". Errors are EINVALID.
func ParseDuration(s string) (int, error) {
	n, unit, ok := splitNumber(strings.TrimSpace(s))
	unit = strings.ToLower(strings.TrimSpace(unit))
	if !ok || !isSecondsUnit(unit) && unit != "" {
		return 0, errNotDuration(s)
	}
	if n < 1 || n > maxSeconds {
		return 0, errNotDuration(s)
	}
	return n, nil
}

func isSecondsUnit(u string) bool {
	switch u {
	case "s", "sec", "secs", "second", "seconds":
		return true
	}
	return false
}

// ParseShots parses storyboard shots: one per line or " | "-separated, each
// "<seconds>s <scene>" (also "5 s", "5sec", "5: scene", "- 5s scene").
// Blank lines are skipped. A shot without a duration is an EINVALID error
// naming it; other rules (scene, sums, counts) are core's.
func ParseShots(text string) ([]core.Shot, error) {
	var shots []core.Shot
	for _, line := range strings.Split(text, "\n") {
		for _, part := range strings.Split(line, "|") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n := len(shots) + 1
			shot, err := parseShot(n, part)
			if err != nil {
				return nil, err
			}
			shots = append(shots, shot)
		}
	}
	return shots, nil
}

func parseShot(n int, s string) (core.Shot, error) {
	// A list bullet ("- ", "• ", "* ") or number ("1. ", "2) ") in front.
	for _, b := range []string{"- ", "• ", "* ", "– ", "— "} {
		if strings.HasPrefix(s, b) {
			s = strings.TrimSpace(s[len(b):])
			break
		}
	}
	shot, ok := shotDuration(s)
	if num, rest, isNum := splitNumber(s); isNum && num >= 0 && (strings.HasPrefix(rest, ". ") || strings.HasPrefix(rest, ") ")) {
		if listed, ok2 := shotDuration(strings.TrimSpace(rest[2:])); ok2 {
			shot, ok = listed, true
		}
	}
	if !ok {
		if _, rest, isNum := splitNumber(s); isNum && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, ",")) {
			if _, unit, ok := splitNumber(rest[1:]); ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(unit)), "s") {
				return core.Shot{}, errWholeSeconds(n)
			}
		}
		return core.Shot{}, errShotNeedsDuration(n, s)
	}
	if shot.Duration < 0 {
		return core.Shot{}, errShotTooLong(n)
	}
	return shot, nil
}

// shotDuration reads "<n>[ ]<unit>[sep] scene" or "<n>: scene".
func shotDuration(s string) (core.Shot, bool) {
	num, rest, ok := splitNumber(s)
	if !ok {
		return core.Shot{}, false
	}
	rest = strings.TrimLeftFunc(rest, isBlank)
	unitEnd := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	if unitEnd < 0 {
		unitEnd = len(rest)
	}
	unit := strings.ToLower(rest[:unitEnd])
	hasUnit := isSecondsUnit(unit)
	if hasUnit {
		rest = rest[unitEnd:]
	}
	rest = strings.TrimLeftFunc(rest, isBlank)
	hasSep := false
	for _, sep := range []string{":", "-", "–", "—"} {
		if strings.HasPrefix(rest, sep) {
			rest, hasSep = rest[len(sep):], true
			break
		}
	}
	if !hasUnit && !hasSep {
		return core.Shot{}, false
	}
	return core.Shot{Scene: strings.TrimSpace(rest), Duration: num}, true
}
