package discordtest

type channel struct {
	ID        string
	GuildID   string
	Type      int    // 0 guild text, 1 DM
	Recipient string // DM only
}

func (s *Server) channelLocked(id string) *channel { return s.channels[id] }

// AddChannel registers a guild text channel the bot can post to.
func (s *Server) AddChannel(guildID, channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[channelID]; !ok {
		s.channels[channelID] = &channel{ID: channelID, GuildID: guildID, Type: 0}
	}
}

// DenyChannel makes the channel inaccessible to the bot: posting or reading
// answers 403 Missing Access (50001).
func (s *Server) DenyChannel(id string) {
	s.mu.Lock()
	s.denied[id] = true
	s.mu.Unlock()
}

// DenyDM makes the user refuse DMs from the bot: sending into their DM
// channel answers 403 Cannot send messages to this user (50007).
func (s *Server) DenyDM(userID string) {
	s.mu.Lock()
	s.deniedDM[userID] = true
	s.mu.Unlock()
}

// dmChannelLocked returns (creating) the DM channel with a user.
func (s *Server) dmChannelLocked(userID string) *channel {
	if id, ok := s.dmByUser[userID]; ok {
		return s.channels[id]
	}
	c := &channel{ID: newID(), Type: 1, Recipient: userID}
	s.channels[c.ID] = c
	s.dmByUser[userID] = c.ID
	return c
}

// DMChannel returns the id of the DM channel with a user, creating it.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannelLocked(userID).ID
}

func (s *Server) userJSON(id string) map[string]any {
	u, ok := s.users[id]
	if !ok {
		u = User{ID: id, Username: "user" + id}
	}
	return userObject(u)
}

func (s *Server) renderChannel(c *channel) map[string]any {
	if c.Type == 1 {
		return map[string]any{"id": c.ID, "type": 1, "last_message_id": nil, "flags": 0,
			"recipients": []any{s.userJSON(c.Recipient)}}
	}
	return map[string]any{"id": c.ID, "type": 0, "guild_id": c.GuildID, "name": "general", "position": 0,
		"permission_overwrites": []any{}, "nsfw": false, "topic": nil, "last_message_id": nil,
		"rate_limit_per_user": 0, "parent_id": nil, "flags": 0}
}

func (s *Server) handleGetChannel(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[id] {
		return fail(errMissingAccess())
	}
	c := s.channelLocked(id)
	if c == nil {
		return fail(errUnknownChannel())
	}
	return ok(s.renderChannel(c))
}

func (s *Server) handleCreateDM(b *body) reply {
	p := b.obj()
	rid, _ := p["recipient_id"].(string)
	if rid == "" {
		return fail(errForm(fieldErrors{"recipient_id": leafError("BASE_TYPE_REQUIRED", "This field is required")}))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok(s.renderChannel(s.dmChannelLocked(rid)))
}
