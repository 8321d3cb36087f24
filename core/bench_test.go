package core_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/time/rate"

	"sorabot/core"
	"sorabot/storage"
)

// runParallel runs n operations on 64 goroutines and returns ops/s.
func runParallel(n int, op func(i int) error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// BenchmarkAccept measures accepted jobs per second (validate + charge +
// persist, fsync on) from 64 concurrent users, next to a bare bbolt file
// that commits one small key per db.Update, in the same run.
func BenchmarkAccept(b *testing.B) {
	dir := b.TempDir()
	raw, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("k")); return err }); err != nil {
		b.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(dir, "sorabot.db"), storage.Options{StartCredits: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cfg := fastConfig(dir)
	svc := core.NewService(cfg, db, &fakeProvider{}, core.DefaultCatalog())

	var bare, accepts float64
	round := 0
	for b.Loop() {
		round++
		n := max(b.N, 20000)
		bare, err = runParallel(n, func(i int) error {
			return raw.Update(func(tx *bolt.Tx) error {
				var k [16]byte
				binary.BigEndian.PutUint64(k[:], uint64(round))
				binary.BigEndian.PutUint64(k[8:], uint64(i))
				return tx.Bucket([]byte("k")).Put(k[:], []byte("v"))
			})
		})
		if err != nil {
			b.Fatal(err)
		}
		accepts, err = runParallel(n, func(i int) error {
			_, err := svc.Accept(context.Background(), core.Submission{
				UserID: fmt.Sprintf("bench:%d", i%64), Key: fmt.Sprintf("r%d-%d", round, i),
				Origin:  core.Origin{Platform: "bench"},
				Request: core.Request{Prompt: "a cat surfing a wave at sunset", Orientation: "portrait", Duration: 15},
			})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(accepts, "accepts/s")
	b.ReportMetric(bare, "bare-updates/s")
	b.ReportMetric(accepts/bare, "x-bare")
}

// slowProvider reports every task running, with progress rising over an hour.
type slowProvider struct {
	start time.Time
	calls atomic.Int64
}

func (p *slowProvider) Submit(context.Context, *core.Model, *core.Request) (string, error) {
	return "", fmt.Errorf("not used")
}

func (p *slowProvider) Status(context.Context, *core.Model, string) (core.TaskStatus, error) {
	p.calls.Add(1)
	return core.TaskStatus{State: core.TaskRunning, Progress: time.Since(p.start).Hours() * 100}, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScheduler10k holds 10,000 submitted jobs against an instant
// provider with no rate limit (the worst case for CPU: every job is looked
// at every 30 s) and reports heap in use and CPU while waiting.
func BenchmarkScheduler10k(b *testing.B) {
	const jobs = 10_000
	for b.Loop() {
		dir := b.TempDir()
		db, err := storage.Open(filepath.Join(dir, "s.db"), storage.Options{StartCredits: 1 << 30, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		submitted := time.Now().UTC().Add(-time.Minute)
		_, err = runParallel(jobs, func(i int) error {
			j := &core.Job{UserID: fmt.Sprintf("bench:%d", i%500), Origin: core.Origin{Platform: "bench"},
				Req: core.Request{Model: "sora-2-text-to-video", Prompt: "a slow job", Orientation: "landscape", Duration: 10}, Price: 100}
			if _, err := db.Accept(ctx, j, 0); err != nil {
				return err
			}
			_, _, err := db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) {
				j.State, j.TaskID, j.SubmittedAt = core.Submitted, "task-"+j.ID, submitted
			})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		p := &slowProvider{start: time.Now()}
		cfg := fastConfig(dir)
		cfg.ProviderRate = rate.Inf
		cfg.Poll = core.PollConfig{}
		cfg.MaxInflight = jobs
		svc := core.NewService(cfg, db, p, core.DefaultCatalog())
		if err := svc.Start(ctx); err != nil {
			b.Fatal(err)
		}
		// Wait for the first look at every job (they are all overdue).
		deadline := time.Now().Add(time.Minute)
		for p.calls.Load() < jobs {
			if time.Now().After(deadline) {
				b.Fatalf("only %d first looks", p.calls.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		// Measure over a little more than one keep-alive cycle (30 s).
		calls0, cpu0, wall0 := p.calls.Load(), cpuTime(), time.Now()
		time.Sleep(35 * time.Second)
		cpu, wall := cpuTime()-cpu0, time.Since(wall0)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
		b.ReportMetric(float64(p.calls.Load()-calls0)/wall.Seconds(), "polls/s")
		if svc.Polling() != jobs {
			b.Fatalf("scheduler holds %d jobs", svc.Polling())
		}
		svc.Stop()
		db.Close()
	}
}

// timedProvider is a slowProvider that records when each status call came.
type timedProvider struct {
	slowProvider
	mu    sync.Mutex
	times []time.Time
}

func (p *timedProvider) Status(ctx context.Context, m *core.Model, id string) (core.TaskStatus, error) {
	p.mu.Lock()
	p.times = append(p.times, time.Now())
	p.mu.Unlock()
	return p.slowProvider.Status(ctx, m, id)
}

// busiestSecond is the most calls in any one-second window.
func (p *timedProvider) busiestSecond() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	best, lo := 0, 0
	for hi, t := range p.times {
		for t.Sub(p.times[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// poolFigures runs a service whose providers hold 3,000 submitted jobs
// (each provider as many as its slots) and returns heap in use, CPU while
// polling, and each provider's busiest second.
func poolFigures(b *testing.B, provs []core.ProviderConfig) (heapMB, cpuPct float64, busiest []int) {
	dir := b.TempDir()
	db, err := storage.Open(filepath.Join(dir, "s.db"), storage.Options{StartCredits: 1 << 30, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var owner []string
	for i := range provs {
		p := &timedProvider{slowProvider: slowProvider{start: time.Now()}}
		provs[i].Client = p
		for range provs[i].MaxInflight {
			owner = append(owner, provs[i].Name)
		}
	}
	submitted := time.Now().UTC().Add(-time.Minute)
	_, err = runParallel(len(owner), func(i int) error {
		j := &core.Job{UserID: fmt.Sprintf("bench:%d", i%500), Origin: core.Origin{Platform: "bench"},
			Req: core.Request{Model: "sora-2-text-to-video", Prompt: "a slow job", Orientation: "landscape", Duration: 10}, Price: 100}
		if _, err := db.Accept(ctx, j, 0); err != nil {
			return err
		}
		_, _, err := db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) {
			j.State, j.TaskID, j.SubmittedAt = core.Submitted, "task-"+j.ID, submitted
			j.Provider, j.WireModel = owner[i], "sora-2-text-to-video"
		})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg := fastConfig(dir)
	cfg.Poll = core.PollConfig{}
	cfg.Providers = provs
	svc := core.NewService(cfg, db, nil, core.DefaultCatalog())
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer svc.Stop()
	if svc.Polling() != len(owner) {
		b.Fatalf("scheduler holds %d jobs", svc.Polling())
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu0, wall0 := cpuTime(), time.Now()
	time.Sleep(20 * time.Second)
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	for _, p := range provs {
		busiest = append(busiest, p.Client.(*timedProvider).busiestSecond())
	}
	return float64(ms.HeapInuse) / (1 << 20), 100 * cpu.Seconds() / wall.Seconds(), busiest
}

// BenchmarkPool3k holds 3,000 submitted jobs at three providers with
// different rates and slots (20/s × 1,500, 10/s × 1,000, 5/s × 500) and
// reports heap in use, CPU while polling and each provider's busiest
// second of real status calls, next to one provider with the same total
// (35/s × 3,000).
func BenchmarkPool3k(b *testing.B) {
	for b.Loop() {
		three := []core.ProviderConfig{{Name: "fast", Rate: 20, MaxInflight: 1500}, {Name: "mid", Rate: 10, MaxInflight: 1000},
			{Name: "slow", Rate: 5, MaxInflight: 500}}
		for i := range three {
			three[i].Protocol = core.ProtocolSoraPro
		}
		heap3, cpu3, busiest := poolFigures(b, three)
		heap1, cpu1, busiest1 := poolFigures(b, []core.ProviderConfig{{Name: "one", Protocol: core.ProtocolSoraPro, Rate: 35, MaxInflight: 3000}})
		b.ReportMetric(heap3, "heap-MB")
		b.ReportMetric(cpu3, "cpu-%")
		b.ReportMetric(heap1, "one-provider-heap-MB")
		b.ReportMetric(cpu1, "one-provider-cpu-%")
		for i, p := range three {
			b.ReportMetric(float64(busiest[i]), fmt.Sprintf("%s-busiest-s(rate-%v)", p.Name, p.Rate))
		}
		b.ReportMetric(float64(busiest1[0]), "one-provider-busiest-s(rate-35)")
	}
}
