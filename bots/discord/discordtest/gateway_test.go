package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

type frame struct {
	Op     int             `json:"op"`
	D      json.RawMessage `json:"d"`
	S      *int64          `json:"s"`
	T      *string         `json:"t"`
	binary bool
}

func dial(t *testing.T, srv *Server) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.GatewayURL+"/?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	return ws
}

func read(t *testing.T, ws *websocket.Conn) (frame, error) {
	t.Helper()
	mt, data, err := ws.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if mt == websocket.BinaryMessage {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		data, _ = io.ReadAll(zr)
		f.binary = true
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return f, nil
}

func send(t *testing.T, ws *websocket.Conn, op int, d any) {
	t.Helper()
	if err := ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		t.Fatal(err)
	}
}

func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	for {
		_, err := read(t, ws)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}
}

func TestGatewayProtocol(t *testing.T) {
	srv := newServer(t, Options{HeartbeatInterval: 500 * time.Millisecond})

	ws := dial(t, srv)
	hello, err := read(t, ws)
	var h struct {
		HeartbeatInterval int `json:"heartbeat_interval"`
	}
	if err != nil || hello.Op != 10 || json.Unmarshal(hello.D, &h) != nil || h.HeartbeatInterval != 500 {
		t.Fatalf("HELLO = %+v %s, %v", hello, hello.D, err)
	}
	send(t, ws, 1, nil)
	if ack, _ := read(t, ws); ack.Op != 11 {
		t.Fatalf("heartbeat answer op %d", ack.Op)
	}
	send(t, ws, 2, map[string]any{"token": "Bot " + testToken, "intents": discordgo.IntentsAllWithoutPrivileged, "compress": true, "properties": map[string]string{}})
	ready, _ := read(t, ws)
	var rd struct {
		SessionID        string `json:"session_id"`
		ResumeGatewayURL string `json:"resume_gateway_url"`
		Application      struct {
			ID string `json:"id"`
		} `json:"application"`
	}
	if ready.Op != 0 || *ready.T != "READY" || *ready.S != 1 || !ready.binary || json.Unmarshal(ready.D, &rd) != nil ||
		rd.SessionID == "" || rd.ResumeGatewayURL != srv.GatewayURL || rd.Application.ID != srv.Options().AppID {
		t.Fatalf("READY = %+v %s", ready, ready.D)
	}
	// An interaction dispatched now, then the connection drops and resumes.
	i := srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ev, _ := read(t, ws)
	if *ev.T != "INTERACTION_CREATE" || *ev.S != 2 {
		t.Fatalf("event = %+v", ev)
	}
	_ = ws.Close()

	ws2 := dial(t, srv)
	read(t, ws2) // HELLO
	send(t, ws2, 6, map[string]any{"token": "Bot " + testToken, "session_id": rd.SessionID, "seq": 1})
	replayed, _ := read(t, ws2)
	var got struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(replayed.D, &got)
	if *replayed.T != "INTERACTION_CREATE" || got.ID != i.ID {
		t.Fatalf("replay = %+v", replayed)
	}
	if resumed, _ := read(t, ws2); *resumed.T != "RESUMED" || *resumed.S != 3 {
		t.Fatalf("RESUMED = %+v", resumed)
	}

	// Unknown session: op 9 invalid session.
	ws3 := dial(t, srv)
	read(t, ws3)
	send(t, ws3, 6, map[string]any{"token": "Bot " + testToken, "session_id": "nope", "seq": 1})
	if inv, _ := read(t, ws3); inv.Op != 9 {
		t.Fatalf("resume of unknown session: %+v", inv)
	}

	closes := []struct {
		name     string
		op       int
		d        map[string]any
		wantCode int
	}{
		{"bad token", 2, map[string]any{"token": "Bot wrong", "intents": 1}, 4004},
		{"no intents", 2, map[string]any{"token": "Bot " + testToken}, 4013},
		{"privileged intent", 2, map[string]any{"token": "Bot " + testToken, "intents": discordgo.IntentsMessageContent}, 4014},
		{"not authenticated", 8, map[string]any{"guild_id": guildID}, 4003},
		{"unknown opcode", 42, nil, 4001},
	}
	for _, c := range closes {
		t.Run(c.name, func(t *testing.T) {
			ws := dial(t, srv)
			read(t, ws)
			send(t, ws, c.op, c.d)
			if code := closeCode(t, ws); code != c.wantCode {
				t.Fatalf("close code %d, want %d", code, c.wantCode)
			}
		})
	}
}

func TestDiscordgoResumesAfterDrop(t *testing.T) {
	srv := newServer(t, Options{})
	sess, inter := connect(t, srv, func(s *discordgo.Session) { s.ShouldReconnectOnError = true })
	srv.DropGateway()
	i := srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ic := receive(t, inter)
	if ic.ID != i.ID {
		t.Fatalf("got %s, want %s", ic.ID, i.ID)
	}
	if err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: 5}); err != nil {
		t.Fatal(err)
	}
	noViolations(t, srv)
}
