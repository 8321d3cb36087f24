package telegram

import (
	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
)

// commands are the menu Telegram clients show: every command but the
// hidden and the admin ones.
var commands = menu()

func menu() []models.BotCommand {
	var cmds []models.BotCommand
	for _, sp := range chat.Specs() {
		if !sp.Hidden && !sp.Admin {
			cmds = append(cmds, models.BotCommand{Command: sp.Name, Description: sp.Summary})
		}
	}
	return cmds
}
