package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/storage"
)

// buildBinary builds the real sorabot binary once for this test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sorabot")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func downloads(emu *providertest.Server) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/files/") {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// TestKill9 starts the real binary, SIGKILLs it at chosen and random
// moments across many jobs (before submit, while polling, while
// delivering), restarts it on the same database, and proves that every job
// ends delivered once or refunded once, that no task is created twice and
// that `sorabot ledger verify` passes.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	emu := providertest.New(providertest.Options{Key: testKey, Duration: 700 * time.Millisecond})
	defer emu.Close()
	env := append(os.Environ(), baseEnv(dir, emu, "sorapro")...)
	env = append(env, "SORABOT_START_CREDITS=100000", "SORABOT_USER_MAX_ACTIVE=1000", "SORABOT_USER_RATE=100000",
		"SORABOT_LOG_LEVEL=info")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	const rounds, perRound = 8, 4

	for round := range rounds {
		cmd := exec.Command(bin, "console")
		cmd.Env, cmd.Dir = env, dir
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out := &syncBuf{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		creates0, downloads0 := emu.Creates(), downloads(emu)
		for i := range perRound {
			fmt.Fprintf(stdin, "/video round %d job %d\n", round, i)
		}
		var moment string
		switch round % 4 {
		case 0:
			moment = "just accepted"
			waitFor(10*time.Second, func() bool { return strings.Count(out.String(), "queued") >= 1 })
		case 1:
			moment = "polling"
			waitFor(10*time.Second, func() bool { return emu.Creates() > creates0 })
		case 2:
			moment = "delivering"
			waitFor(10*time.Second, func() bool { return downloads(emu) > downloads0 })
		default:
			d := time.Duration(rng.IntN(1500)) * time.Millisecond
			moment = "after " + d.String()
			time.Sleep(d)
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("round %d: killed %s", round, moment)
	}

	// The last start has no input: it finishes every job and exits.
	cmd := exec.Command(bin, "console")
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdin = strings.NewReader("")
	done := make(chan error, 1)
	var last syncBuf
	cmd.Stdout, cmd.Stderr = &last, &last
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("final run: %v\n%s", err, last.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("final run did not finish:\n%s", last.String())
	}

	verify := exec.Command(bin, "ledger", "verify")
	verify.Env, verify.Dir = env, dir
	if b, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, b)
	}

	db, err := storage.Open(filepath.Join(dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	jobs, err := db.History(ctx, "console:alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) == 0 {
		t.Fatal("no job was accepted")
	}
	delivered, refunded := 0, 0
	tasks := map[string]string{}
	for _, j := range jobs {
		switch {
		case j.State == core.Delivered && !j.Refunded:
			delivered++
			checkVideo(t, filepath.Join(dir, "out", j.ID+".mp4"))
		case j.State == core.Failed && j.Refunded:
			refunded++
		default:
			t.Errorf("job %s ended %s (refunded %v)", j.ID, j.State, j.Refunded)
		}
		if j.TaskID != "" {
			if other, dup := tasks[j.TaskID]; dup {
				t.Errorf("jobs %s and %s share task %s", other, j.ID, j.TaskID)
			}
			tasks[j.TaskID] = j.ID
		}
	}
	prompts := map[string]int{}
	for _, b := range creates(emu) {
		prompts[fmt.Sprint(b["prompt"])]++
	}
	for p, n := range prompts {
		if n > 1 {
			t.Errorf("prompt %q was created %d times at the provider", p, n)
		}
	}
	a, err := db.Account(ctx, "console:alice")
	if err != nil {
		t.Fatal(err)
	}
	if want := 100000 - 100*delivered; a.Balance != want || a.Active != 0 {
		t.Errorf("balance %d active %d; want %d and 0", a.Balance, a.Active, want)
	}
	t.Logf("%d jobs: %d delivered, %d refunded; %d creates", len(jobs), delivered, refunded, len(creates(emu)))
}

// TestSIGTERMLosesNoJob stops the real binary with SIGTERM while a job is
// at the provider; the next start delivers it, charged once.
func TestSIGTERMLosesNoJob(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	emu := providertest.New(providertest.Options{Key: testKey, Duration: 2 * time.Second})
	defer emu.Close()
	env := append(os.Environ(), baseEnv(dir, emu, "sorapro")...)
	cmd := exec.Command(bin, "console")
	cmd.Env, cmd.Dir = env, dir
	stdin, _ := cmd.StdinPipe()
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, "/video a job that outlives its process")
	if !waitFor(10*time.Second, func() bool { return emu.Creates() == 1 }) {
		t.Fatalf("no create:\n%s", out.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, out.String())
	}
	again := exec.Command(bin, "console")
	again.Env, again.Dir, again.Stdin = env, dir, strings.NewReader("/balance\n")
	b, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, b)
	}
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
	if emu.Creates() != 1 {
		t.Fatalf("%d creates", emu.Creates())
	}
	if !strings.Contains(string(b), "400 credits") {
		t.Fatalf("second run:\n%s", b)
	}
}
