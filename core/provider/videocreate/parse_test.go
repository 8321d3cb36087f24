package videocreate

import (
	"log/slog"
	"testing"

	"sorabot/core"
	"sorabot/core/provider/internal/wire/wiretest"
)

var quiet = slog.New(slog.DiscardHandler)

// covered lists every testdata file a table below reads.
var covered = map[string]bool{}

func TestParseCreate(t *testing.T) {
	wiretest.RunCreate(t, covered, []wiretest.CreateCase{
		{File: "create_ok.json", Status: 200, ID: "sora-2:task_01k9009g8ef1esae6388chgcpx"},
		{File: "create_ok_task_id.json", Status: 200, ID: "sora-2-pro:task_01k9009g8ef1esae6388chgcpy"},
		{File: "create_status_error.json", Status: 200, Code: core.EINVALID, Msg: "rephrase"},
		{File: "create_status_error_generic.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "create_no_id.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "create_garbage.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "create_garbage.json", Status: 502, Code: core.EUNAVAILABLE, Temp: true, Msg: "busy"},
		{File: "create_garbage.json", Status: 504, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "error_quota.json", Status: 403, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "error_quota.json", Status: 402, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "error_quota.json", Status: 429, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "error_invalid_key.json", Status: 401, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "error_rate_limit.json", Status: 429, Code: core.EUNAVAILABLE, Temp: true, Msg: "busy"},
		{File: "error_policy.json", Status: 400, Code: core.EINVALID, Msg: "rephrase"},
		{File: "error_model.json", Status: 400, Code: core.EUNAVAILABLE, Msg: "model is unavailable"},
		{File: "error_model.json", Status: 503, Code: core.EUNAVAILABLE, Msg: "model is unavailable"},
		{File: "error_upstream.json", Status: 500, Code: core.EUNAVAILABLE, Temp: true, Msg: "busy"},
		{File: "error_flat.json", Status: 400, Code: core.EUNAVAILABLE, Msg: "could not take"},
	}, parseCreate)
}

func TestParseStatus(t *testing.T) {
	wiretest.RunStatus(t, covered, []wiretest.StatusCase{
		{File: "query_pending.json", Status: 200, State: core.TaskPending, Progress: 0},
		{File: "query_queued_pct.json", Status: 200, State: core.TaskPending, Progress: 42},
		{File: "query_processing.json", Status: 200, State: core.TaskRunning, Progress: 57},
		{File: "query_in_progress_string.json", Status: 200, State: core.TaskRunning, Progress: 73},
		{File: "query_completed.json", Status: 200, State: core.TaskDone, Progress: 100, URL: "https://cdn.example.com/video.mp4"},
		{File: "query_completed_backticks.json", Status: 200, State: core.TaskDone, Progress: 100, URL: "https://cdn.example.com/video.mp4"},
		{File: "query_success.json", Status: 200, State: core.TaskDone, Progress: 100, URL: "https://cdn.example.com/v2.mp4"},
		{File: "query_succeeded_no_url.json", Status: 200, State: core.TaskDone, Progress: 100},
		{File: "query_failed.json", Status: 200, State: core.TaskFailed, Progress: -1, ErrCode: core.EUNAVAILABLE},
		{File: "query_failed_object.json", Status: 200, State: core.TaskFailed, Progress: -1, ErrCode: core.EINVALID},
		{File: "query_error_word.json", Status: 200, State: core.TaskFailed, Progress: -1, ErrCode: core.EUNAVAILABLE},
		{File: "query_cancelled.json", Status: 200, State: core.TaskFailed, Progress: -1, ErrCode: core.EUNAVAILABLE},
		{File: "query_unknown_word.json", Status: 200, State: core.TaskRunning, Progress: 12},
		{File: "query_odd_types.json", Status: 200, State: core.TaskRunning, Progress: -1},
		{File: "query_garbage.json", Status: 200, Temp: true},
		{File: "query_garbage.json", Status: 502, Temp: true},
		{File: "error_rate_limit.json", Status: 429, Temp: true},
		{File: "error_upstream.json", Status: 504, Temp: true},
		{File: "error_upstream.json", Status: 200, Temp: true},
		{File: "error_invalid_key.json", Status: 401, Fail: true},
		{File: "error_flat.json", Status: 404, Fail: true},
	}, func(status int, body []byte) (core.TaskStatus, error) {
		return parseStatus(status, body, quiet)
	})
}

func TestEveryTestdataFileIsTested(t *testing.T) {
	TestParseCreate(t)
	TestParseStatus(t)
	wiretest.CheckCovered(t, covered)
}

func FuzzParseStatus(f *testing.F) {
	wiretest.Seed(f, "testdata/*.json", 200)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if st, err := parseStatus(status, body, quiet); err == nil {
			wiretest.CheckStatus(t, st)
		}
	})
}

func FuzzParseCreate(f *testing.F) {
	wiretest.Seed(f, "testdata/*.json", 200, 400)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		id, err := parseCreate(status, body)
		wiretest.CheckCreate(t, id, err)
	})
}
