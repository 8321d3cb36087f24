package discordtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// User is a simulated Discord user.
type User struct {
	ID, Username string
}

func userObject(u User) map[string]any {
	return map[string]any{
		"id": u.ID, "username": u.Username, "global_name": u.Username, "discriminator": "0",
		"avatar": nil, "avatar_decoration_data": nil, "public_flags": 0, "flags": 0, "collectibles": nil,
	}
}

// interaction is the server-side state of one interaction.
type interaction struct {
	i          *discordgo.Interaction
	raw        []byte
	label      string // for messages: "/name", "button x", ...
	expires    time.Time
	acked      bool
	ackType    int
	failed     bool
	delivered  bool
	timer      *time.Timer
	original   *message
	target     *message // the message a component or context-menu acted on
	modal      json.RawMessage
	followups  []*message
	hasTimeout bool
	// httpPending is true while the HTTP POST delivering the interaction
	// awaits its answer (the initial response).
	httpPending bool
	answered    time.Time // when the HTTP answer was taken
}

// Response is an interaction's current original response, after edits.
type Response struct {
	InteractionID string
	Type          int    // the callback type: 4, 5, 6, 7, 9 (1 for PING)
	Content       string // message content ("" while deferred)
	Flags         int    // message flags (64 ephemeral, 128 loading while deferred)
	Components    string // JSON of the components ("" if none); for a modal, its components
	Files         []Upload
	Edits         int             // PATCHes of @original
	Data          json.RawMessage // the message as the REST API renders it, or the modal data
}

// Bot permission bits granted in a channel (view, send, embed, attach, history,
// reactions, external emojis, application commands, threads).
const (
	permView       = 1 << 10
	permSend       = 1 << 11
	botPermissions = 1<<6 | permView | permSend | 1<<14 | 1<<15 | 1<<16 | 1<<18 | 1<<31 | 1<<38
	userPermission = "2248473465835073"
)

// SlashCommand simulates a user running a chat-input command in a guild
// channel (guildID "" = the user's DM with the bot, channelID "" = that DM
// channel). The INTERACTION_CREATE is dispatched over the gateway (or POSTed
// to the interactions endpoint, see SetInteractionsEndpoint).
func (s *Server) SlashCommand(guildID, channelID string, u User, name string, options []*discordgo.ApplicationCommandInteractionDataOption, resolved *discordgo.ApplicationCommandInteractionDataResolved) *discordgo.Interaction {
	s.mu.Lock()
	cmd := s.commandLocked(guildID, discordgo.ChatApplicationCommand, name)
	s.mu.Unlock()
	data := map[string]any{"name": name, "type": 1}
	if cmd != nil {
		data["id"] = cmd.ID
		if cmd.GuildID != "" {
			data["guild_id"] = cmd.GuildID
		}
	} else {
		data["id"] = newID()
	}
	if options != nil {
		data["options"] = options
	}
	if resolved != nil {
		data["resolved"] = resolved
	}
	it := s.newInteraction(discordgo.InteractionApplicationCommand, guildID, channelID, u, data, "/"+name, nil)
	return it.i
}

// MessageCommand simulates a user running a message context-menu command
// (e.g. "Animate") on target. Missing target fields (id, channel, author,
// timestamp) are filled in; the target becomes a known message.
func (s *Server) MessageCommand(guildID, channelID string, u User, name string, target *discordgo.Message) *discordgo.Interaction {
	if target == nil {
		target = &discordgo.Message{}
	}
	t := *target
	if t.ID == "" {
		t.ID = newID()
	}
	if t.Author == nil {
		t.Author = &discordgo.User{ID: u.ID, Username: u.Username}
	}
	if t.Timestamp.IsZero() {
		t.Timestamp = time.Now().UTC()
	}
	s.mu.Lock()
	cmd := s.commandLocked(guildID, discordgo.MessageApplicationCommand, name)
	s.mu.Unlock()
	data := map[string]any{"name": name, "type": 3, "target_id": t.ID}
	if cmd != nil {
		data["id"] = cmd.ID
		if cmd.GuildID != "" {
			data["guild_id"] = cmd.GuildID
		}
	} else {
		data["id"] = newID()
	}
	it := s.newInteraction(discordgo.InteractionApplicationCommand, guildID, channelID, u, data, "message command "+name, func(chID string) *message {
		t.ChannelID = chID
		if guildID != "" {
			t.GuildID = guildID
		}
		data["resolved"] = map[string]any{"messages": map[string]any{t.ID: &t}}
		m := &message{ID: t.ID, ChannelID: chID, GuildID: guildID, Content: t.Content, Created: t.Timestamp,
			Author: userObject(User{ID: t.Author.ID, Username: t.Author.Username}), Bot: t.Author.ID == s.opt.BotUserID,
			interactionID: "external"}
		for _, a := range t.Attachments {
			m.Attachments = append(m.Attachments, attachment{ID: a.ID, Upload: Upload{Filename: a.Filename, ContentType: a.ContentType, Size: int64(a.Size)}, url: a.URL, proxyURL: a.ProxyURL})
		}
		return m
	})
	return it.i
}

// ModalSubmit simulates a user submitting a modal the bot showed, with the
// text inputs' values by custom_id. Submitting a modal no interaction
// answered with is a Violation (Discord cannot deliver it).
func (s *Server) ModalSubmit(guildID, channelID string, u User, customID string, values map[string]string) *discordgo.Interaction {
	s.mu.Lock()
	if !s.modals[customID] {
		s.violatef("modal %q submitted, but no interaction was answered with that modal", customID)
	}
	s.mu.Unlock()
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := []any{}
	for _, k := range keys {
		rows = append(rows, map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 4, "custom_id": k, "value": values[k]},
		}})
	}
	data := map[string]any{"custom_id": customID, "components": rows}
	it := s.newInteraction(discordgo.InteractionModalSubmit, guildID, channelID, u, data, "modal "+customID, nil)
	return it.i
}

// Button simulates a user clicking the button customID on message messageID.
// A message the fake knows is sent along (and a button that is not on it is
// a Violation); an unknown id gets a stub bot message.
func (s *Server) Button(guildID, channelID string, u User, customID string, messageID string) *discordgo.Interaction {
	data := map[string]any{"custom_id": customID, "component_type": 2}
	it := s.newInteraction(discordgo.InteractionMessageComponent, guildID, channelID, u, data, "button "+customID, func(chID string) *message {
		m := s.messages[messageID]
		if m == nil {
			comps, _ := json.Marshal([]any{map[string]any{"type": 1, "components": []any{
				map[string]any{"type": 2, "style": 1, "label": customID, "custom_id": customID},
			}}})
			m = &message{ID: messageID, ChannelID: chID, GuildID: guildID, Bot: true, Author: s.author(),
				Created: time.Now(), Components: comps, interactionID: "external"}
			return m
		}
		if !strings.Contains(string(m.Components), fmt.Sprintf("%q", customID)) {
			s.violatef("button %q clicked, but message %s has no such component", customID, messageID)
		}
		return m
	})
	return it.i
}

// newInteraction builds the payload like Discord does, stores it, and delivers it.
// target, if set, is called (under the lock) with the channel id and returns
// the message the interaction acts on.
func (s *Server) newInteraction(typ discordgo.InteractionType, guildID, channelID string, u User, data map[string]any, label string, target func(channelID string) *message) *interaction {
	if u.ID == "" {
		u.ID = newID()
	}
	if u.Username == "" {
		u.Username = "user" + u.ID
	}
	s.mu.Lock()
	s.users[u.ID] = u
	var ch *channel
	if guildID == "" {
		if channelID == "" {
			ch = s.dmChannelLocked(u.ID)
		} else if ch = s.channels[channelID]; ch == nil {
			ch = &channel{ID: channelID, Type: 1, Recipient: u.ID}
			s.channels[channelID] = ch
			if _, ok := s.dmByUser[u.ID]; !ok {
				s.dmByUser[u.ID] = channelID
			}
		}
	} else {
		if channelID == "" {
			channelID = newID()
		}
		if ch = s.channels[channelID]; ch == nil {
			ch = &channel{ID: channelID, GuildID: guildID}
			s.channels[channelID] = ch
		}
	}
	id := newID()
	it := &interaction{label: label, expires: time.Now().Add(s.opt.TokenTTL)}
	if target != nil {
		it.target = target(ch.ID)
		if it.target != nil {
			if _, known := s.messages[it.target.ID]; !known {
				s.messages[it.target.ID] = it.target
			}
		}
	}
	perms := int64(botPermissions)
	if s.denied[ch.ID] {
		perms &^= permView | permSend
	}
	p := map[string]any{
		"id": id, "application_id": s.opt.AppID, "type": int(typ), "data": data, "token": newToken(id),
		"version": 1, "app_permissions": itoa(perms), "locale": "en-US", "entitlements": s.activeEntitlementsLocked(u.ID, guildID),
		"channel_id": ch.ID, "channel": s.renderChannel(ch), "attachment_size_limit": s.opt.AttachmentSizeLimit,
	}
	if guildID != "" {
		p["guild_id"] = guildID
		p["guild"] = map[string]any{"id": guildID, "locale": "en-US", "features": []any{}}
		p["guild_locale"] = "en-US"
		p["context"] = 0
		p["authorizing_integration_owners"] = map[string]string{"0": guildID}
		p["member"] = map[string]any{
			"user": userObject(u), "roles": []any{}, "joined_at": timestamp(time.Now().Add(-24 * time.Hour)),
			"deaf": false, "mute": false, "flags": 0, "pending": false, "nick": nil, "avatar": nil,
			"premium_since": nil, "communication_disabled_until": nil, "permissions": userPermission,
		}
		chp := p["channel"].(map[string]any)
		chp["permissions"] = userPermission
	} else {
		p["user"] = userObject(u)
		p["context"] = 1
		p["authorizing_integration_owners"] = map[string]string{"0": "0"}
	}
	if it.target != nil && typ == discordgo.InteractionMessageComponent {
		p["message"] = it.target.render()
	}
	raw, err := json.Marshal(p)
	if err != nil {
		s.mu.Unlock()
		panic("discordtest: marshal interaction: " + err.Error())
	}
	var di discordgo.Interaction
	if err := json.Unmarshal(raw, &di); err != nil {
		s.mu.Unlock()
		panic("discordtest: discordgo cannot parse the interaction: " + err.Error())
	}
	it.i, it.raw = &di, raw
	s.interactions[id] = it
	s.byToken[di.Token] = it
	s.order = append(s.order, it)
	s.notifyLocked()
	s.mu.Unlock()

	s.deliver(it)
	return it
}

// deliver sends the interaction to the bot and starts its 3 s clock.
func (s *Server) deliver(it *interaction) {
	s.mu.Lock()
	url := s.interactURL
	closing := s.ctx.Err() != nil
	if url != "" && !closing {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closing {
		return
	}
	if url != "" {
		s.startAckTimer(it)
		s.mu.Lock()
		it.httpPending = true
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				it.httpPending = false
				s.notifyLocked()
				s.mu.Unlock()
			}()
			s.postInteraction(url, it)
		}()
		return
	}
	if err := s.dispatch("INTERACTION_CREATE", it.raw); err != nil {
		s.mu.Lock()
		s.violatef("interaction %s (%s) not delivered: %v", it.i.ID, it.label, err)
		s.mu.Unlock()
		return
	}
	s.startAckTimer(it)
}

func (s *Server) startAckTimer(it *interaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it.delivered = true
	if it.hasTimeout || it.acked {
		return
	}
	it.hasTimeout = true
	it.timer = time.AfterFunc(s.opt.AckTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !it.acked && s.ctx.Err() == nil {
			it.failed = true
			s.violatef("interaction %s (%s) was not acknowledged within %s: the user sees \"The application did not respond\"", it.i.ID, it.label, s.opt.AckTimeout)
		}
	})
}

// Redeliver dispatches the same interaction again (same id and token), as a
// gateway replay would; a second acknowledgement is then answered 40060.
func (s *Server) Redeliver(i *discordgo.Interaction) {
	s.mu.Lock()
	it := s.interactions[i.ID]
	s.mu.Unlock()
	if it == nil {
		return
	}
	s.deliver(it)
}

// InteractionPayload returns the raw INTERACTION_CREATE data of an
// interaction, e.g. to sign and POST it in an HTTP-interactions test.
func (s *Server) InteractionPayload(i *discordgo.Interaction) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it := s.interactions[i.ID]; it != nil {
		return append([]byte(nil), it.raw...)
	}
	return nil
}

// ExpireTokens makes every interaction token issued so far expired, as after
// 15 minutes: edits and follow-ups then answer 401 Invalid Webhook Token (50027).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, it := range s.interactions {
		it.expires = past
	}
}

func (s *Server) handleCallback(id, token string, b *body) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[id]
	if it == nil || it.i.Token != token {
		return fail(errUnknownInteract())
	}
	return s.ackLocked(it, b)
}

func intField(p map[string]any, key string) (int, bool) {
	n, ok := p[key].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return int(v), err == nil
}

// validCallbacks lists the response types Discord accepts per interaction type.
var validCallbacks = map[discordgo.InteractionType][]int{
	discordgo.InteractionPing:                           {1},
	discordgo.InteractionApplicationCommand:             {4, 5, 9},
	discordgo.InteractionMessageComponent:               {4, 5, 6, 7, 9},
	discordgo.InteractionApplicationCommandAutocomplete: {8},
	discordgo.InteractionModalSubmit:                    {4, 5, 6, 7},
}

// ackLocked applies an interaction's initial response (s.mu held).
func (s *Server) ackLocked(it *interaction, b *body) reply {
	if it.acked {
		s.violatef("interaction %s (%s) acknowledged twice", it.i.ID, it.label)
		return fail(errAlreadyAcked())
	}
	if it.failed {
		return fail(errUnknownInteract())
	}
	p := b.obj()
	typ, _ := intField(p, "type")
	valid := false
	for _, t := range validCallbacks[it.i.Type] {
		valid = valid || t == typ
	}
	if typ == 6 || typ == 7 {
		valid = valid && it.target != nil
	}
	if !valid {
		return fail(errForm(fieldErrors{"type": leafError("INTERACTION_CALLBACK_TYPE_INVALID", fmt.Sprintf("Interaction callback type %d is not valid for this interaction.", typ))}))
	}
	data, _ := p["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	switch typ {
	case 4:
		if e := checkMessage(data, len(b.files), true); e != nil {
			return fail(e)
		}
		m := s.interactionMessage(it)
		m.apply(data, false)
		s.attach(m, data, b.files)
		it.original = m
	case 5:
		m := s.interactionMessage(it)
		m.Flags = flagLoading
		if f, _ := intField(data, "flags"); f&flagEphemeral != 0 {
			m.Flags |= flagEphemeral
		}
		it.original = m
	case 6:
		it.original = it.target
	case 7:
		if e := checkMessage(data, len(b.files), false); e != nil {
			return fail(e)
		}
		it.target.apply(data, true)
		s.attach(it.target, data, b.files)
		it.target.Edited = time.Now()
		it.original = it.target
	case 9:
		cid, _ := data["custom_id"].(string)
		s.modals[cid] = true
		it.modal, _ = json.Marshal(data)
	}
	it.acked, it.ackType = true, typ
	if it.timer != nil {
		it.timer.Stop()
	}
	s.notifyLocked()
	return noContent()
}

// interactionMessage creates the message an interaction response posts.
func (s *Server) interactionMessage(it *interaction) *message {
	m := &message{ID: newID(), ChannelID: it.i.ChannelID, GuildID: it.i.GuildID, Bot: true, Author: s.author(),
		Created: time.Now(), WebhookID: s.opt.AppID, interactionID: it.i.ID, Type: 19}
	if it.i.Type == discordgo.InteractionApplicationCommand {
		m.Type = 20
		if d, ok := it.i.Data.(discordgo.ApplicationCommandInteractionData); ok && d.CommandType != discordgo.ChatApplicationCommand {
			m.Type = 23
		}
	}
	s.messages[m.ID] = m
	return m
}
