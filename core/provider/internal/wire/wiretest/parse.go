package wiretest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// ReadTestdata reads testdata/name.
func ReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CreateCase is a create reply (a testdata file behind an HTTP status) and
// what reading it must give.
type CreateCase struct {
	File     string
	Status   int
	ID       string
	Code     string // core error code; "" = success
	Temp     bool
	Operator bool
	Msg      string // part of the user message
}

// RunCreate reads every case with parse, marking its file in covered.
func RunCreate(t *testing.T, covered map[string]bool, tests []CreateCase, parse func(status int, body []byte) (string, error)) {
	for _, tt := range tests {
		covered[tt.File] = true
		t.Run(tt.File, func(t *testing.T) {
			id, err := parse(tt.Status, ReadTestdata(t, tt.File))
			if tt.Code == "" {
				if err != nil || id != tt.ID {
					t.Fatalf("parseCreate = %q, %v; want %q", id, err, tt.ID)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseCreate = %q, nil; want a %s error", id, tt.Code)
			}
			if got := core.ErrorCode(err); got != tt.Code {
				t.Errorf("code %s, want %s (%v)", got, tt.Code, err)
			}
			if got := core.IsTemporary(err); got != tt.Temp {
				t.Errorf("temporary %v, want %v (%v)", got, tt.Temp, err)
			}
			var f *wire.Failure
			if !errors.As(err, &f) || f.Operator != tt.Operator {
				t.Errorf("operator %v, want %v (%v)", f != nil && f.Operator, tt.Operator, err)
			}
			if !strings.Contains(core.ErrorMessage(err), tt.Msg) {
				t.Errorf("message %q lacks %q", core.ErrorMessage(err), tt.Msg)
			}
		})
	}
}

// StatusCase is a status reply (a testdata file behind an HTTP status) and
// what reading it must give.
type StatusCase struct {
	File     string
	Status   int
	State    core.TaskState
	Progress float64
	URL      string
	ErrCode  string // TaskStatus.Err code
	Temp     bool   // a Temporary error instead of a status
	Fail     bool   // a lasting error
}

// RunStatus reads every case with parse, marking its file in covered.
func RunStatus(t *testing.T, covered map[string]bool, tests []StatusCase, parse func(status int, body []byte) (core.TaskStatus, error)) {
	for _, tt := range tests {
		covered[tt.File] = true
		t.Run(tt.File, func(t *testing.T) {
			st, err := parse(tt.Status, ReadTestdata(t, tt.File))
			if tt.Temp || tt.Fail {
				if err == nil || core.IsTemporary(err) != tt.Temp {
					t.Fatalf("parseStatus = %+v, %v; want temporary=%v error", st, err, tt.Temp)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStatus: %v", err)
			}
			if st.State != tt.State || st.Progress != tt.Progress || st.VideoURL != tt.URL {
				t.Errorf("got %v %v %q, want %v %v %q", st.State, st.Progress, st.VideoURL, tt.State, tt.Progress, tt.URL)
			}
			switch {
			case tt.ErrCode == "" && st.Err != nil:
				t.Errorf("Err = %v, want nil", st.Err)
			case tt.ErrCode != "" && (st.Err == nil || st.Err.Code != tt.ErrCode):
				t.Errorf("Err = %v, want code %s", st.Err, tt.ErrCode)
			}
		})
	}
}

// CheckCovered fails for every testdata/*.json file missing from covered,
// so a new reply shape cannot be added without a test.
func CheckCovered(t *testing.T, covered map[string]bool) {
	t.Helper()
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

// Seed adds every file matching glob to the fuzz corpus, once behind each
// of statuses.
func Seed(f *testing.F, glob string, statuses ...int) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		b, _ := os.ReadFile(name)
		for _, status := range statuses {
			f.Add(status, b)
		}
	}
}

// CheckStatus fails when a status read without error breaks an invariant.
func CheckStatus(t *testing.T, st core.TaskStatus) {
	t.Helper()
	if st.Progress != -1 && (st.Progress < 0 || st.Progress > 100) {
		t.Fatalf("progress %v out of range", st.Progress)
	}
	if st.State == core.TaskFailed && st.Err == nil {
		t.Fatal("failed without Err")
	}
}

// CheckCreate fails unless a create reply gave an id or a user-safe error.
func CheckCreate(t *testing.T, id string, err error) {
	t.Helper()
	if (err == nil) == (id == "") {
		t.Fatalf("parseCreate = %q, %v: want an id or an error", id, err)
	}
	if err != nil && core.ErrorCode(err) == core.EINTERNAL {
		t.Fatalf("error without a user-safe code: %v", err)
	}
}
