package storage

import (
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many calls share one transaction.
const maxGroup = 512

// group commits concurrent write functions together: while one
// transaction commits, new calls wait, and the next transaction takes all
// of them at once (group commit, with no timer). Unlike bbolt's Batch it
// never closes a group before the previous commit has finished, so with n
// concurrent callers groups hold about n calls.
type group struct {
	mu      sync.Mutex
	pending []*groupCall
	running bool
	commits atomic.Int64 // write transactions begun, for tests
}

type groupCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// update runs fn in a write transaction shared with other concurrent calls.
// As with bbolt's Batch, fn may run more than once: when a call in the group
// fails, the group is rolled back, the failing call is run alone and the
// rest are run again. Business outcomes must therefore be results captured
// by fn, not errors.
func (db *DB) update(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g := &db.group
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if !g.running {
		g.running = true
		go db.commitLoop()
	}
	g.mu.Unlock()
	return <-c.done
}

func (db *DB) commitLoop() {
	g := &db.group
	for {
		g.mu.Lock()
		calls := g.pending
		if len(calls) > maxGroup {
			calls = calls[:maxGroup:maxGroup]
			g.pending = g.pending[maxGroup:]
		} else {
			g.pending = nil
		}
		if len(calls) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		db.commitGroup(calls)
	}
}

func (db *DB) commitGroup(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		db.group.commits.Add(1)
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safeCall(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		// Run the failing call alone, then the others again.
		bad := calls[failed]
		db.group.commits.Add(1)
		bad.done <- db.bolt.Update(func(tx *bolt.Tx) error { return safeCall(bad.fn, tx) })
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("storage: panic in transaction: %v", p)
		}
	}()
	return fn(tx)
}
