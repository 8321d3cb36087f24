package sorapro

import (
	"log/slog"
	"testing"

	"sorabot/core"
	"sorabot/core/provider/internal/wire/wiretest"
)

var quiet = slog.New(slog.DiscardHandler)

// covered lists every testdata file a table below reads, so a new reply
// shape cannot be added without a test.
var covered = map[string]bool{}

func TestParseCreate(t *testing.T) {
	wiretest.RunCreate(t, covered, []wiretest.CreateCase{
		{File: "create_ok.json", Status: 200, ID: "281e5b0a9c1d4e2fb3a4c5d6e7ff39b9"},
		{File: "create_ok_data_id.json", Status: 200, ID: "281e5b0a9c1d4e2fb3a4c5d6e7ff39b9"},
		{File: "create_ok_string_code.json", Status: 200, ID: "task-7"},
		{File: "create_err_model.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "model is unavailable"},
		{File: "create_err_paused.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "model is unavailable"},
		{File: "create_err_credits.json", Status: 200, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "create_err_policy.json", Status: 200, Code: core.EINVALID, Msg: "rephrase"},
		{File: "create_err_message_object.json", Status: 200, Code: core.EINVALID, Msg: "another image"},
		{File: "create_err_generic.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "create_err_concurrency.json", Status: 200, Code: core.EUNAVAILABLE, Temp: true, Msg: "busy"},
		{File: "create_garbage.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{File: "create_no_id.json", Status: 200, Code: core.EUNAVAILABLE, Msg: "could not take"},
		// The same bodies behind other HTTP statuses.
		{File: "create_garbage.json", Status: 502, Code: core.EUNAVAILABLE, Temp: true},
		{File: "create_err_generic.json", Status: 500, Code: core.EUNAVAILABLE, Temp: true},
		{File: "create_err_generic.json", Status: 429, Code: core.EUNAVAILABLE, Temp: true},
		{File: "create_garbage.json", Status: 504, Code: core.EUNAVAILABLE},
		{File: "balance_err.json", Status: 401, Code: core.EUNAVAILABLE, Operator: true, Msg: "busy"},
		{File: "create_err_policy.json", Status: 400, Code: core.EINVALID, Msg: "rephrase"},
	}, parseCreate)
}

func TestParseStatus(t *testing.T) {
	wiretest.RunStatus(t, covered, []wiretest.StatusCase{
		{File: "status_pending.json", Status: 200, State: core.TaskPending, Progress: 0},
		{File: "status_running.json", Status: 200, State: core.TaskRunning, Progress: 35},
		{File: "status_running_string_progress.json", Status: 200, State: core.TaskRunning, Progress: 42.5},
		{File: "status_running_no_progress.json", Status: 200, State: core.TaskRunning, Progress: -1},
		{File: "status_succeeded.json", Status: 200, State: core.TaskDone, Progress: 100, URL: "https://cdn.example.com/x.mp4"},
		{File: "status_succeeded_urls_only.json", Status: 200, State: core.TaskDone, Progress: 100, URL: "https://cdn.example.com/y.mp4"},
		{File: "status_failed_reason.json", Status: 200, State: core.TaskFailed, Progress: 12, ErrCode: core.EUNAVAILABLE},
		{File: "status_failed_policy.json", Status: 200, State: core.TaskFailed, Progress: -1, ErrCode: core.EINVALID},
		{File: "status_unknown_word.json", Status: 200, State: core.TaskRunning, Progress: 50},
		{File: "status_odd_types.json", Status: 200, State: core.TaskRunning, Progress: -1},
		{File: "status_code_error.json", Status: 200, Temp: true},
		{File: "status_garbage.json", Status: 200, Temp: true},
		{File: "status_no_data.json", Status: 200, Temp: true},
		{File: "status_garbage.json", Status: 503, Temp: true},
		{File: "status_code_error.json", Status: 500, Temp: true},
		{File: "status_code_error.json", Status: 429, Temp: true},
		{File: "status_code_error.json", Status: 504, Temp: true},
		{File: "balance_err.json", Status: 401, Fail: true},
		{File: "status_garbage.json", Status: 404, Fail: true},
	}, func(status int, body []byte) (core.TaskStatus, error) {
		return parseStatus(status, body, quiet)
	})
}

func TestParseBalance(t *testing.T) {
	tests := []struct {
		file   string
		status int
		want   float64
		fail   bool
	}{
		{file: "balance.json", status: 200, want: 1234.5},
		{file: "balance_string.json", status: 200, want: 980},
		{file: "balance_err.json", status: 200, fail: true},
		{file: "status_garbage.json", status: 200, fail: true},
	}
	for _, tt := range tests {
		covered[tt.file] = true
		got, err := parseBalance(tt.status, wiretest.ReadTestdata(t, tt.file))
		if (err != nil) != tt.fail || got != tt.want {
			t.Errorf("%s: parseBalance = %v, %v; want %v, fail %v", tt.file, got, err, tt.want, tt.fail)
		}
	}
}

func TestEveryTestdataFileIsTested(t *testing.T) {
	TestParseCreate(t)
	TestParseStatus(t)
	TestParseBalance(t)
	wiretest.CheckCovered(t, covered)
}

func FuzzParseStatus(f *testing.F) {
	wiretest.Seed(f, "testdata/*.json", 200)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if st, err := parseStatus(status, body, quiet); err == nil {
			wiretest.CheckStatus(t, st)
		}
		parseBalance(status, body)
	})
}

func FuzzParseCreate(f *testing.F) {
	wiretest.Seed(f, "testdata/create_*.json", 200)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		id, err := parseCreate(status, body)
		wiretest.CheckCreate(t, id, err)
	})
}
