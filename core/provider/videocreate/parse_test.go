package videocreate

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sorabot/core"
)

var quiet = slog.New(slog.DiscardHandler)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// covered lists every testdata file a table below reads.
var covered = map[string]bool{}

func TestParseCreate(t *testing.T) {
	tests := []struct {
		file     string
		status   int
		id       string
		code     string // core error code; "" = success
		temp     bool
		operator bool
		msg      string
	}{
		{file: "create_ok.json", status: 200, id: "sora-2:task_01k9009g8ef1esae6388chgcpx"},
		{file: "create_ok_task_id.json", status: 200, id: "sora-2-pro:task_01k9009g8ef1esae6388chgcpy"},
		{file: "create_status_error.json", status: 200, code: core.EINVALID, msg: "rephrase"},
		{file: "create_status_error_generic.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "create_no_id.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "create_garbage.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "create_garbage.json", status: 502, code: core.EUNAVAILABLE, temp: true, msg: "busy"},
		{file: "create_garbage.json", status: 504, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "error_quota.json", status: 403, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "error_quota.json", status: 402, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "error_quota.json", status: 429, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "error_invalid_key.json", status: 401, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "error_rate_limit.json", status: 429, code: core.EUNAVAILABLE, temp: true, msg: "busy"},
		{file: "error_policy.json", status: 400, code: core.EINVALID, msg: "rephrase"},
		{file: "error_model.json", status: 400, code: core.EUNAVAILABLE, msg: "model is unavailable"},
		{file: "error_model.json", status: 503, code: core.EUNAVAILABLE, msg: "model is unavailable"},
		{file: "error_upstream.json", status: 500, code: core.EUNAVAILABLE, temp: true, msg: "busy"},
		{file: "error_flat.json", status: 400, code: core.EUNAVAILABLE, msg: "could not take"},
	}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			id, err := parseCreate(tt.status, readTestdata(t, tt.file))
			if tt.code == "" {
				if err != nil || id != tt.id {
					t.Fatalf("parseCreate = %q, %v; want %q", id, err, tt.id)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseCreate = %q, nil; want a %s error", id, tt.code)
			}
			if got := core.ErrorCode(err); got != tt.code {
				t.Errorf("code %s, want %s (%v)", got, tt.code, err)
			}
			if got := core.IsTemporary(err); got != tt.temp {
				t.Errorf("temporary %v, want %v (%v)", got, tt.temp, err)
			}
			var pe *providerError
			if !errors.As(err, &pe) || pe.operator != tt.operator {
				t.Errorf("operator %v, want %v (%v)", pe != nil && pe.operator, tt.operator, err)
			}
			if !strings.Contains(core.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q lacks %q", core.ErrorMessage(err), tt.msg)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		file     string
		status   int
		state    core.TaskState
		progress float64
		url      string
		errCode  string
		temp     bool // a Temporary error instead of a status
		fail     bool // a lasting error
	}{
		{file: "query_pending.json", status: 200, state: core.TaskPending, progress: 0},
		{file: "query_queued_pct.json", status: 200, state: core.TaskPending, progress: 42},
		{file: "query_processing.json", status: 200, state: core.TaskRunning, progress: 57},
		{file: "query_in_progress_string.json", status: 200, state: core.TaskRunning, progress: 73},
		{file: "query_completed.json", status: 200, state: core.TaskDone, progress: 100, url: "https://cdn.example.com/video.mp4"},
		{file: "query_completed_backticks.json", status: 200, state: core.TaskDone, progress: 100, url: "https://cdn.example.com/video.mp4"},
		{file: "query_success.json", status: 200, state: core.TaskDone, progress: 100, url: "https://cdn.example.com/v2.mp4"},
		{file: "query_succeeded_no_url.json", status: 200, state: core.TaskDone, progress: 100},
		{file: "query_failed.json", status: 200, state: core.TaskFailed, progress: -1, errCode: core.EUNAVAILABLE},
		{file: "query_failed_object.json", status: 200, state: core.TaskFailed, progress: -1, errCode: core.EINVALID},
		{file: "query_error_word.json", status: 200, state: core.TaskFailed, progress: -1, errCode: core.EUNAVAILABLE},
		{file: "query_cancelled.json", status: 200, state: core.TaskFailed, progress: -1, errCode: core.EUNAVAILABLE},
		{file: "query_unknown_word.json", status: 200, state: core.TaskRunning, progress: 12},
		{file: "query_odd_types.json", status: 200, state: core.TaskRunning, progress: -1},
		{file: "query_garbage.json", status: 200, temp: true},
		{file: "query_garbage.json", status: 502, temp: true},
		{file: "error_rate_limit.json", status: 429, temp: true},
		{file: "error_upstream.json", status: 504, temp: true},
		{file: "error_upstream.json", status: 200, temp: true},
		{file: "error_invalid_key.json", status: 401, fail: true},
		{file: "error_flat.json", status: 404, fail: true},
	}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			st, err := parseStatus(tt.status, readTestdata(t, tt.file), quiet)
			if tt.temp || tt.fail {
				if err == nil || core.IsTemporary(err) != tt.temp {
					t.Fatalf("parseStatus = %+v, %v; want temporary=%v error", st, err, tt.temp)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStatus: %v", err)
			}
			if st.State != tt.state || st.Progress != tt.progress || st.VideoURL != tt.url {
				t.Errorf("got %v %v %q, want %v %v %q", st.State, st.Progress, st.VideoURL, tt.state, tt.progress, tt.url)
			}
			switch {
			case tt.errCode == "" && st.Err != nil:
				t.Errorf("Err = %v, want nil", st.Err)
			case tt.errCode != "" && (st.Err == nil || st.Err.Code != tt.errCode):
				t.Errorf("Err = %v, want code %s", st.Err, tt.errCode)
			}
		})
	}
}

func TestEveryTestdataFileIsTested(t *testing.T) {
	TestParseCreate(t)
	TestParseStatus(t)
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s is in no table", f)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(200, b)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		st, err := parseStatus(status, body, quiet)
		if err != nil {
			return
		}
		if st.Progress != -1 && (st.Progress < 0 || st.Progress > 100) {
			t.Fatalf("progress %v out of range", st.Progress)
		}
		if st.State == core.TaskFailed && st.Err == nil {
			t.Fatal("failed without Err")
		}
	})
}

func FuzzParseCreate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(200, b)
		f.Add(400, b)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		id, err := parseCreate(status, body)
		if (err == nil) == (id == "") {
			t.Fatalf("parseCreate = %q, %v: want an id or an error", id, err)
		}
		if err != nil && core.ErrorCode(err) == core.EINTERNAL {
			t.Fatalf("error without a user-safe code: %v", err)
		}
	})
}
