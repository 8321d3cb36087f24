package core

import "context"

// EventType says what happened to a job.
type EventType string

const (
	EventQueued    EventType = "queued"    // accepted and charged (by Accept, before it returns); Position is its place in line
	EventPosition  EventType = "position"  // still queued, Position moved
	EventSubmitted EventType = "submitted" // the provider took it
	EventProgress  EventType = "progress"  // Progress changed
	EventRetrying  EventType = "retrying"  // a provider failed it; another one gets it (Job.Tried)
	EventFailed    EventType = "failed"    // failed and refunded
	EventCanceled  EventType = "canceled"  // canceled and refunded (by Cancel, before it returns)
	EventDelivered EventType = "delivered" // the video reached the user
)

// Event is a change in a job that a frontend may show.
type Event struct {
	Type     EventType
	Job      *Job // a snapshot; frontends must not modify it
	Position int  // 1-based queue position, for queued events
	Progress int  // 0–100, or -1 when unknown
	Balance  int  // the user's balance after the charge, for queued events
}

// Video is a finished video ready to deliver. Path is a local file, empty
// when the file is too big for the platform (then URL is the link to send).
type Video struct {
	Path string
	Size int64
	URL  string
}

// Frontend is a chat platform: it shows progress and delivers videos.
type Frontend interface {
	// Notify shows an event; it must not block on the network for long
	// (throttle and drop intermediate progress as needed).
	Notify(ctx context.Context, ev Event)
	// MaxUpload is the largest file the platform takes for this job.
	MaxUpload(j *Job) int64
	// Deliver sends the video (a file, or a link when v.Path is empty) and
	// returns how it went ("upload", "link", ...). ErrTooBig makes the service
	// retry with a link; Temporary errors are retried; any other error fails
	// the job and refunds it.
	Deliver(ctx context.Context, j *Job, v Video) (via string, err error)
}
