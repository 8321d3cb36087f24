package sorapro

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

// covered lists every testdata file a table below reads, so a new reply
// shape cannot be added without a test.
var covered = map[string]bool{}

func TestParseCreate(t *testing.T) {
	tests := []struct {
		file     string
		status   int
		id       string
		code     string // core error code; "" = success
		temp     bool
		operator bool
		msg      string // part of the user message
	}{
		{file: "create_ok.json", status: 200, id: "281e5b0a9c1d4e2fb3a4c5d6e7ff39b9"},
		{file: "create_ok_data_id.json", status: 200, id: "281e5b0a9c1d4e2fb3a4c5d6e7ff39b9"},
		{file: "create_ok_string_code.json", status: 200, id: "task-7"},
		{file: "create_err_model.json", status: 200, code: core.EUNAVAILABLE, msg: "model is unavailable"},
		{file: "create_err_paused.json", status: 200, code: core.EUNAVAILABLE, msg: "model is unavailable"},
		{file: "create_err_credits.json", status: 200, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "create_err_policy.json", status: 200, code: core.EINVALID, msg: "rephrase"},
		{file: "create_err_message_object.json", status: 200, code: core.EINVALID, msg: "another image"},
		{file: "create_err_generic.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "create_err_concurrency.json", status: 200, code: core.EUNAVAILABLE, temp: true, msg: "busy"},
		{file: "create_garbage.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		{file: "create_no_id.json", status: 200, code: core.EUNAVAILABLE, msg: "could not take"},
		// The same bodies behind other HTTP statuses.
		{file: "create_garbage.json", status: 502, code: core.EUNAVAILABLE, temp: true},
		{file: "create_err_generic.json", status: 500, code: core.EUNAVAILABLE, temp: true},
		{file: "create_err_generic.json", status: 429, code: core.EUNAVAILABLE, temp: true},
		{file: "create_garbage.json", status: 504, code: core.EUNAVAILABLE},
		{file: "balance_err.json", status: 401, code: core.EUNAVAILABLE, operator: true, msg: "busy"},
		{file: "create_err_policy.json", status: 400, code: core.EINVALID, msg: "rephrase"},
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
		errCode  string // TaskStatus.Err code
		temp     bool   // a Temporary error instead of a status
		fail     bool   // a lasting error
	}{
		{file: "status_pending.json", status: 200, state: core.TaskPending, progress: 0},
		{file: "status_running.json", status: 200, state: core.TaskRunning, progress: 35},
		{file: "status_running_string_progress.json", status: 200, state: core.TaskRunning, progress: 42.5},
		{file: "status_running_no_progress.json", status: 200, state: core.TaskRunning, progress: -1},
		{file: "status_succeeded.json", status: 200, state: core.TaskDone, progress: 100, url: "https://cdn.example.com/x.mp4"},
		{file: "status_succeeded_urls_only.json", status: 200, state: core.TaskDone, progress: 100, url: "https://cdn.example.com/y.mp4"},
		{file: "status_failed_reason.json", status: 200, state: core.TaskFailed, progress: 12, errCode: core.EUNAVAILABLE},
		{file: "status_failed_policy.json", status: 200, state: core.TaskFailed, progress: -1, errCode: core.EINVALID},
		{file: "status_unknown_word.json", status: 200, state: core.TaskRunning, progress: 50},
		{file: "status_odd_types.json", status: 200, state: core.TaskRunning, progress: -1},
		{file: "status_code_error.json", status: 200, temp: true},
		{file: "status_garbage.json", status: 200, temp: true},
		{file: "status_no_data.json", status: 200, temp: true},
		{file: "status_garbage.json", status: 503, temp: true},
		{file: "status_code_error.json", status: 500, temp: true},
		{file: "status_code_error.json", status: 429, temp: true},
		{file: "status_code_error.json", status: 504, temp: true},
		{file: "balance_err.json", status: 401, fail: true},
		{file: "status_garbage.json", status: 404, fail: true},
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
		got, err := parseBalance(tt.status, readTestdata(t, tt.file))
		if (err != nil) != tt.fail || got != tt.want {
			t.Errorf("%s: parseBalance = %v, %v; want %v, fail %v", tt.file, got, err, tt.want, tt.fail)
		}
	}
}

func TestEveryTestdataFileIsTested(t *testing.T) {
	TestParseCreate(t)
	TestParseStatus(t)
	TestParseBalance(t)
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
		if err == nil {
			if st.Progress != -1 && (st.Progress < 0 || st.Progress > 100) {
				t.Fatalf("progress %v out of range", st.Progress)
			}
			if st.State == core.TaskFailed && st.Err == nil {
				t.Fatal("failed without Err")
			}
		}
		parseBalance(status, body)
	})
}

func FuzzParseCreate(f *testing.F) {
	files, _ := filepath.Glob("testdata/create_*.json")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(200, b)
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
