package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// benchWorkers is how many goroutines the benchmarks run, like a busy bot.
const benchWorkers = 64

// runWorkers calls op b.N times in total from benchWorkers goroutines and
// reports the rate.
func runWorkers(b *testing.B, op func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchWorkers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := op(int(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkBareUpdate is the baseline: one small key per bbolt Update,
// fsync on, from 64 goroutines. Every op pays its own fsync.
func BenchmarkBareUpdate(b *testing.B) {
	bdb, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bdb.Close()
	name := []byte("k")
	if err := bdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(name); return err }); err != nil {
		b.Fatal(err)
	}
	runWorkers(b, func(i int) error {
		return bdb.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(name).Put(itob(uint64(i)), []byte("small value"))
		})
	})
}

// BenchmarkAccept accepts jobs for 64 users from 64 goroutines, fsync on;
// concurrent accepts share transactions.
func BenchmarkAccept(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "accept.db"), Options{StartCredits: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	runWorkers(b, func(i int) error {
		_, err := db.Accept(ctx, newJob(fmt.Sprintf("telegram:%d", i%benchWorkers), 100, fmt.Sprintf("k%d", i)), 0)
		return err
	})
}
