package core

import "log/slog"

// Secret is a token or key. It prints and logs as "[redacted]" so it never
// reaches a log line or a chat by accident; Reveal returns the value.
type Secret string

func (s Secret) String() string { return "[redacted]" }

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return `"[redacted]"` }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Reveal returns the secret's value, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }
