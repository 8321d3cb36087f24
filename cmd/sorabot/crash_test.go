package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// kill9Seed is the random seed of TestKill9: SORABOT_KILL9_SEED when set
// (to repeat a run), else the clock.
func kill9Seed(t *testing.T) uint64 {
	if v := os.Getenv("SORABOT_KILL9_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SORABOT_KILL9_SEED=%q: %v", v, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// openJobs reads every job of the (stopped) binary's database.
func openJobs(t *testing.T, dir string) []*core.Job {
	t.Helper()
	db, err := storage.Open(filepath.Join(dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	jobs, err := db.History(context.Background(), "console:alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// TestKill9 starts the real binary, SIGKILLs it at chosen and random
// moments across many jobs (just after acceptance, while polling, while
// delivering), restarts it on the same database, and proves that every job
// ends delivered once or refunded once, that no task is created twice and
// that `sorabot ledger verify` passes. A round whose chosen moment was not
// reached is tried again, and fails the test after three tries.
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
	// While delivering, the console's output path is a file, so every
	// delivery fails and is retried: the kill lands mid-delivery for sure.
	blocked := filepath.Join(dir, "blocked")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	seed := kill9Seed(t)
	t.Logf("seed %d (SORABOT_KILL9_SEED=%d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	const rounds, perRound, tries = 8, 4, 3

	for round := range rounds {
		for try := 1; ; try++ {
			moment, reached := kill9Round(t, bin, env, dir, blocked, emu, rng, round, try, perRound)
			if reached {
				t.Logf("round %d: killed %s", round, moment)
				break
			}
			if try == tries {
				t.Fatalf("round %d: never killed %s in %d tries", round, moment, tries)
			}
			t.Logf("round %d, try %d: the kill missed the moment %q; trying again", round, try, moment)
		}
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

// kill9Round starts the binary, sends it perRound jobs, waits for the
// round's moment and kills it. It reports the moment and whether the kill
// found the jobs there (read from the database after the kill).
func kill9Round(t *testing.T, bin string, env []string, dir, blocked string, emu *providertest.Server,
	rng *rand.Rand, round, try, perRound int) (string, bool) {
	t.Helper()
	moment := [...]string{"just accepted", "polling", "delivering", ""}[round%4]
	if moment == "delivering" {
		env = append(slices.Clone(env), "SORABOT_OUT_DIR="+filepath.Join(blocked, "out"))
	}
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
	creates0 := emu.Creates()
	prefix := fmt.Sprintf("round %d try %d ", round, try)
	for i := range perRound {
		fmt.Fprintf(stdin, "/video %sjob %d\n", prefix, i)
	}
	var waited bool
	switch moment {
	case "just accepted":
		// The reply to an accepted job ("🎬 Job #7 queued (position 1) …");
		// logs and position updates of older jobs say "queued" too.
		waited = waitFor(10*time.Second, func() bool { return strings.Contains(out.String(), " queued (position ") })
	case "polling":
		// A status call for a task of this round: its id is stored.
		waited = waitFor(10*time.Second, func() bool {
			tasks := emu.Tasks()
			return slices.ContainsFunc(tasks[min(creates0, len(tasks)):], func(ti providertest.TaskInfo) bool { return ti.Polls > 0 })
		})
	case "delivering":
		waited = waitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "delivery failed; retrying") })
	default:
		d := time.Duration(rng.IntN(1500)) * time.Millisecond
		moment = "after " + d.String()
		time.Sleep(d)
		waited = true
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !waited {
		t.Logf("round %d, try %d: waited in vain for %s; output:\n%s", round, try, moment, out.String())
		return moment, false
	}
	// Where the kill left the jobs.
	var mine []*core.Job
	states := map[core.State]int{}
	for _, j := range openJobs(t, dir) {
		if strings.HasPrefix(j.Req.Prompt, prefix) {
			mine = append(mine, j)
		}
		states[j.State]++
	}
	switch moment {
	case "just accepted":
		return moment, slices.ContainsFunc(mine, func(j *core.Job) bool { return !j.State.Terminal() })
	case "polling":
		return moment, slices.ContainsFunc(mine, func(j *core.Job) bool { return j.State == core.Submitted })
	case "delivering":
		return moment, states[core.Succeeded] > 0
	}
	return moment, true
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
