package telegramtest

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf16"
)

// Telegram's limits, in UTF-16 code units of the text after entity parsing.
const (
	maxTextLen    = 4096
	maxCaptionLen = 1024
)

// plainText parses text the way parse_mode asks and returns what the user
// would see, or Telegram's "can't parse entities" reason.
func plainText(text, parseMode string) (string, error) {
	switch strings.ToLower(parseMode) {
	case "":
		return text, nil
	case "html":
		return parseHTML(text)
	case "markdownv2":
		return parseMarkdownV2(text)
	case "markdown":
		return parseMarkdown(text)
	}
	return "", fmt.Errorf("unsupported parse_mode")
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true, "strike": true,
	"del": true, "span": true, "tg-spoiler": true, "a": true, "code": true, "pre": true,
	"blockquote": true, "tg-emoji": true, "tg-time": true,
}

// parseHTML checks Telegram's HTML subset: known tags only, properly nested
// and closed, and '<' always starting a tag.
func parseHTML(text string) (string, error) {
	var out strings.Builder
	var stack []string
	i := 0
	for i < len(text) {
		c := text[i]
		if c != '<' {
			j := strings.IndexByte(text[i:], '<')
			if j < 0 {
				j = len(text) - i
			}
			out.WriteString(html.UnescapeString(text[i : i+j]))
			i += j
			continue
		}
		end := strings.IndexByte(text[i:], '>')
		if end < 0 {
			return "", fmt.Errorf("Unclosed start tag at byte offset %d", i)
		}
		tag := text[i+1 : i+end]
		if name, ok := strings.CutPrefix(tag, "/"); ok {
			name = strings.ToLower(strings.TrimSpace(name))
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return "", fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, last(stack), name)
			}
			stack = stack[:len(stack)-1]
		} else {
			name := strings.ToLower(tag)
			if k := strings.IndexAny(name, " \t\n"); k >= 0 {
				name = name[:k]
			}
			if !htmlTags[name] {
				return "", fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, i)
			}
			if name == "a" && !strings.Contains(tag, "href=") {
				return "", fmt.Errorf("Can't find href attribute of tag \"a\" at byte offset %d", i)
			}
			stack = append(stack, name)
		}
		i += end + 1
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1])
	}
	return out.String(), nil
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// parseMarkdownV2 checks MarkdownV2: reserved characters outside entities
// must be escaped, and every entity must be closed.
func parseMarkdownV2(text string) (string, error) {
	var out strings.Builder
	open := map[string]int{} // marker -> byte offset where it opened
	inCode := ""             // "`" or "```" while inside code
	codeAt := 0
	linkDepth := 0
	atLineStart := true
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' {
			if i+1 < len(text) {
				i++
				out.WriteByte(text[i])
			}
			atLineStart = false
			continue
		}
		if inCode != "" {
			if strings.HasPrefix(text[i:], inCode) {
				i += len(inCode) - 1
				inCode = ""
				continue
			}
			out.WriteByte(c)
			continue
		}
		switch c {
		case '`':
			inCode = "`"
			if strings.HasPrefix(text[i:], "```") {
				inCode = "```"
				i += 2
			}
			codeAt = i
			continue
		case '*', '_', '~':
			m := string(c)
			if c == '_' && strings.HasPrefix(text[i:], "__") {
				m = "__"
				i++
			}
			if _, ok := open[m]; ok {
				delete(open, m)
			} else {
				open[m] = i
			}
			continue
		case '|':
			if strings.HasPrefix(text[i:], "||") {
				if _, ok := open["||"]; ok {
					delete(open, "||")
				} else {
					open["||"] = i
				}
				i++
				continue
			}
		case '[':
			linkDepth++
			continue
		case ']':
			if linkDepth > 0 && i+1 < len(text) && text[i+1] == '(' {
				end := strings.IndexByte(text[i:], ')')
				if end < 0 {
					return "", fmt.Errorf("Can't find end of a URL at byte offset %d", i+1)
				}
				linkDepth--
				i += end
				continue
			}
		case '>':
			if atLineStart {
				continue
			}
		case '\n':
			atLineStart = true
			out.WriteByte(c)
			continue
		}
		if strings.IndexByte("_*[]()~`>#+-=|{}.!", c) >= 0 {
			return "", fmt.Errorf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
		}
		out.WriteByte(c)
		atLineStart = false
	}
	if inCode != "" {
		return "", fmt.Errorf("Can't find end of Pre entity at byte offset %d", codeAt)
	}
	for m, at := range open {
		return "", fmt.Errorf("Can't find end of %s entity at byte offset %d", mdName(m), at)
	}
	if linkDepth > 0 {
		return "", fmt.Errorf("Can't find end of TextUrl entity")
	}
	return out.String(), nil
}

func mdName(m string) string {
	switch m {
	case "*":
		return "Bold"
	case "_":
		return "Italic"
	case "__":
		return "Underline"
	case "~":
		return "Strikethrough"
	case "||":
		return "Spoiler"
	}
	return m
}

// parseMarkdown checks legacy Markdown: *bold*, _italic_, `code`, ```pre```
// and [text](url) must be closed.
func parseMarkdown(text string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '*', '_', '`':
			m := string(c)
			if c == '`' && strings.HasPrefix(text[i:], "```") {
				m = "```"
			}
			end := strings.Index(text[i+len(m):], m)
			if end < 0 {
				return "", fmt.Errorf("Can't find end of the entity starting at byte offset %d", i)
			}
			out.WriteString(text[i+len(m) : i+len(m)+end])
			i += len(m) + end + len(m) - 1
		case '[':
			close := strings.Index(text[i:], "](")
			end := strings.IndexByte(text[i:], ')')
			if close < 0 || end < close {
				return "", fmt.Errorf("Can't find end of the entity starting at byte offset %d", i)
			}
			out.WriteString(text[i+1 : i+close])
			i += end
		case '\\':
			if i+1 < len(text) && strings.IndexByte("*_`[", text[i+1]) >= 0 {
				i++
				out.WriteByte(text[i])
				continue
			}
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	return out.String(), nil
}

// checkText validates a message text or caption as Telegram does.
func checkText(text, parseMode string, caption bool) (string, *apiError) {
	plain, err := plainText(text, parseMode)
	if err != nil {
		return "", badRequest("can't parse entities: " + err.Error())
	}
	plain = strings.TrimSpace(plain)
	if caption {
		if utf16Len(plain) > maxCaptionLen {
			return "", badRequest("message caption is too long")
		}
		return plain, nil
	}
	if plain == "" {
		return "", badRequest("message text is empty")
	}
	if utf16Len(plain) > maxTextLen {
		return "", badRequest("message is too long")
	}
	return plain, nil
}
