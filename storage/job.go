package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// maxImages is how many images a job can store (the image key's index is a byte).
const maxImages = 256

// Accept checks j's idempotency key, creates the user's account if new,
// applies the daily allowance (allowance.go), checks the active-job limit
// (maxActive <= 0: none) and the balance, then
// debits j.Price and stores j as Queued with its images, all in one
// transaction. It fills in j.ID, j.State and j.CreatedAt (if zero).
// Errors: ERATELIMITED, ENOCREDITS, EINVALID (bad user id or price); a
// repeated key is a Duplicate result holding the earlier job.
//
// Concurrent calls are grouped into shared transactions (group commit, see group.go).
func (db *DB) Accept(ctx context.Context, j *core.Job, maxActive int) (core.AcceptResult, error) {
	if err := ctx.Err(); err != nil {
		return core.AcceptResult{}, err
	}
	if err := checkUser(j.UserID); err != nil {
		return core.AcceptResult{}, err
	}
	if j.Price < 0 {
		return core.AcceptResult{}, core.Errorf(core.EINVALID, "Invalid price %d.", j.Price)
	}
	if len(j.Req.Images) > maxImages {
		return core.AcceptResult{}, core.Errorf(core.EINVALID, "Too many images: %d.", len(j.Req.Images))
	}
	created := j.CreatedAt
	if created.IsZero() {
		created = now()
	}
	// The stored job, encoded before the transaction (which runs the
	// group's calls one after another) with its id left empty.
	s := j.Clone()
	s.ID, s.State, s.CreatedAt, s.Refunded = "", core.Queued, created, false
	tmpl, err := json.Marshal(s)
	if err == nil && !bytes.HasPrefix(tmpl, emptyJobID) {
		err = errors.New("the JSON does not start with the id")
	}
	if err != nil {
		return core.AcceptResult{}, fmt.Errorf("storage: accept: encode job: %w", err)
	}

	// Batch may run the function more than once (when another function of
	// the batch fails), so it starts from scratch each time, and business
	// refusals are results, not errors: an error would roll back the others.
	var (
		res    core.AcceptResult
		refuse error
		id     string
	)
	err = db.update(func(tx *bolt.Tx) error {
		res, refuse, id = core.AcceptResult{}, nil, ""
		jobs := tx.Bucket(bucketJobs)
		if j.Key != "" {
			if old := tx.Bucket(bucketIdem).Get([]byte(j.Key)); old != nil {
				dup, err := loadJob(tx, old)
				if err != nil {
					return fmt.Errorf("storage: idempotency key %q: %w", j.Key, err)
				}
				a, _, err := getAccount(tx, dup.UserID)
				if err != nil {
					return err
				}
				res = core.AcceptResult{Job: dup, Duplicate: true, Balance: a.Balance}
				return nil
			}
		}
		a, err := db.touchAccount(tx, j.UserID) // with the daily allowance
		if err != nil {
			return err
		}
		res.Balance = a.Balance
		if maxActive > 0 && a.Active >= maxActive {
			refuse = core.Errorf(core.ERATELIMITED, "You already have %d videos in progress; wait for one to finish.", a.Active)
			return nil
		}
		if a.Balance < j.Price {
			refuse = core.Errorf(core.ENOCREDITS, "This video costs %d credits; you have %d.", j.Price, a.Balance)
			return nil
		}
		seq, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		key := itob(seq)
		jobID := strconv.FormatUint(seq, 10)
		a.Balance -= s.Price
		a.Active++
		e := core.LedgerEntry{UserID: s.UserID, Kind: core.LedgerCharge, Amount: -s.Price, Balance: a.Balance, JobID: jobID}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		a.Jobs = pushRecent(a.Jobs, seq)
		if err := putAccount(tx, &a); err != nil {
			return err
		}
		if err := jobs.Put(key, withJobID(tmpl, jobID)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketActive).Put(key, []byte{}); err != nil {
			return err
		}
		if s.Key != "" {
			if err := tx.Bucket(bucketIdem).Put([]byte(s.Key), key); err != nil {
				return err
			}
		}
		images := tx.Bucket(bucketImages)
		for i, img := range s.Req.Images {
			if err := images.Put(imageKey(key, i), img.Data); err != nil {
				return err
			}
		}
		res.Balance = a.Balance
		id = jobID
		return nil
	})
	if err != nil {
		return core.AcceptResult{}, fmt.Errorf("storage: accept: %w", err)
	}
	if refuse != nil {
		return res, refuse
	}
	if !res.Duplicate {
		j.ID, j.State, j.CreatedAt, j.Refunded = id, core.Queued, created, false
		res.Job = j
	}
	return res, nil
}

// emptyJobID is how the JSON of a core.Job with an empty id starts.
var emptyJobID = []byte(`{"id":""`)

// withJobID returns a copy of tmpl, the JSON of a core.Job whose id is
// empty (it starts with emptyJobID), with the id set to id (digits only, so
// no escaping is needed).
func withJobID(tmpl []byte, id string) []byte {
	out := make([]byte, 0, len(tmpl)+len(id))
	out = append(out, `{"id":"`...)
	out = append(out, id...)
	return append(out, tmpl[len(emptyJobID)-1:]...)
}

// Job returns the job with that id. Errors: ENOTFOUND.
func (db *DB) Job(ctx context.Context, id string) (*core.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := jobKey(id)
	if err != nil {
		return nil, err
	}
	var j *core.Job
	err = db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		j, err = loadJob(tx, key)
		if j == nil && err == nil {
			err = notFound(id)
		}
		return err
	})
	return j, err
}

// Images returns copies of the image bytes stored with a job, in request
// order, or nil when it has none (or they were dropped when it finished).
// Errors: ENOTFOUND.
func (db *DB) Images(ctx context.Context, id string) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key, err := jobKey(id)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketJobs).Get(key) == nil {
			return notFound(id)
		}
		c := tx.Bucket(bucketImages).Cursor()
		for k, v := c.Seek(key); k != nil && bytes.HasPrefix(k, key); k, v = c.Next() {
			out = append(out, bytes.Clone(v))
		}
		return nil
	})
	return out, err
}

// Transition applies fn to a copy of the job and stores it if the job's
// state is one of from; otherwise it returns the stored job and ok=false.
// fn may change the state only to another non-terminal state (use Finish
// to end a job), and must not change the id, user, key, price or refund
// flag. fn runs inside the write transaction: it must be quick, must not
// call the store, and may be called more than once.
// Errors: ENOTFOUND.
func (db *DB) Transition(ctx context.Context, id string, from []core.State, fn func(*core.Job)) (*core.Job, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	key, err := jobKey(id)
	if err != nil {
		return nil, false, err
	}
	var (
		out    *core.Job
		ok     bool
		refuse error
	)
	err = db.update(func(tx *bolt.Tx) error {
		out, ok, refuse = nil, false, nil
		j, err := loadJob(tx, key)
		if err != nil {
			return err
		}
		if j == nil {
			refuse = notFound(id)
			return nil
		}
		if !slices.Contains(from, j.State) || j.State.Terminal() {
			out = j
			return nil
		}
		next := j.Clone()
		fn(next)
		if err := checkTransition(j, next); err != nil {
			refuse = err
			return nil
		}
		if err := putJSON(tx.Bucket(bucketJobs), key, next); err != nil {
			return err
		}
		out, ok = next, true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("storage: transition job %s: %w", id, err)
	}
	if refuse != nil {
		return nil, false, refuse
	}
	return out, ok, nil
}

// checkTransition refuses changes a Transition fn must not make.
func checkTransition(old, next *core.Job) error {
	if !slices.Contains(core.ActiveStates, next.State) {
		return fmt.Errorf("storage: transition of job %s to state %q refused: only Finish ends a job", old.ID, next.State)
	}
	if next.ID != old.ID || next.UserID != old.UserID || next.Key != old.Key ||
		next.Price != old.Price || next.Refunded != old.Refunded {
		return fmt.Errorf("storage: transition of job %s refused: id, user, key, price and refund flag are fixed", old.ID)
	}
	return nil
}

// Finish moves the job to the terminal state to if its state is one of
// from (a terminal job never matches); otherwise it returns the stored job
// and ok=false. For Failed and Canceled it records code and reason and
// refunds the price exactly once. It always releases the user's active-job
// slot and drops the job's images. Errors: ENOTFOUND.
func (db *DB) Finish(ctx context.Context, id string, from []core.State, to core.State, code, reason string) (*core.Job, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if !to.Terminal() {
		return nil, false, fmt.Errorf("storage: finish job %s: %q is not a terminal state", id, to)
	}
	key, err := jobKey(id)
	if err != nil {
		return nil, false, err
	}
	var (
		out    *core.Job
		ok     bool
		refuse error
	)
	err = db.update(func(tx *bolt.Tx) error {
		out, ok, refuse = nil, false, nil
		j, err := loadJob(tx, key)
		if err != nil {
			return err
		}
		if j == nil {
			refuse = notFound(id)
			return nil
		}
		if !slices.Contains(from, j.State) || j.State.Terminal() {
			out = j
			return nil
		}
		a, found, err := getAccount(tx, j.UserID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("account %q of job %s is missing", j.UserID, id)
		}
		j.State = to
		j.DoneAt = now()
		if to == core.Delivered && reason != "" {
			j.DeliveredVia = reason
		}
		if to == core.Failed || to == core.Canceled {
			j.ErrCode, j.Err = code, reason
			if j.Price > 0 && !j.Refunded {
				a.Balance += j.Price
				e := core.LedgerEntry{UserID: j.UserID, Kind: core.LedgerRefund, Amount: j.Price, Balance: a.Balance, JobID: j.ID}
				if err := appendLedger(tx, &a, &e); err != nil {
					return err
				}
				j.Refunded = true
			}
		}
		if a.Active > 0 {
			a.Active--
		}
		if err := putAccount(tx, &a); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketJobs), key, j); err != nil {
			return err
		}
		if err := tx.Bucket(bucketActive).Delete(key); err != nil {
			return err
		}
		if err := deleteImages(tx, key); err != nil {
			return err
		}
		if err := addCounter(tx, metaJobs(to), 1); err != nil {
			return err
		}
		out, ok = j, true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("storage: finish job %s: %w", id, err)
	}
	if refuse != nil {
		return nil, false, refuse
	}
	return out, ok, nil
}

// ActiveJobs returns every non-terminal job in id order. It reads the
// active index, not the job history.
func (db *DB) ActiveJobs(ctx context.Context) ([]*core.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*core.Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketActive).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			j, err := loadJob(tx, k)
			if err != nil {
				return err
			}
			if j == nil {
				return fmt.Errorf("storage: active job %x is missing", k)
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// History returns the user's newest jobs first, at most limit of them
// (limit <= 0: all that are listed). Only the newest recentCap jobs are
// listed per user.
func (db *DB) History(ctx context.Context, userID string, limit int) ([]*core.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	var out []*core.Job
	err := db.bolt.View(func(tx *bolt.Tx) error {
		a, _, err := getAccount(tx, userID)
		if err != nil {
			return err
		}
		for _, id := range newest(a.Jobs, limit) {
			j, err := loadJob(tx, itob(id))
			if err != nil {
				return err
			}
			if j == nil {
				return fmt.Errorf("storage: job %d of %s is missing", id, userID)
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// loadJob returns the job stored under key, or nil if there is none.
func loadJob(tx *bolt.Tx, key []byte) (*core.Job, error) {
	var j core.Job
	found, err := getJSON(tx.Bucket(bucketJobs), key, &j)
	if err != nil || !found {
		return nil, err
	}
	return &j, nil
}

func imageKey(jobKey []byte, i int) []byte {
	return append(append(make([]byte, 0, 9), jobKey...), byte(i))
}

func deleteImages(tx *bolt.Tx, jobKey []byte) error {
	b := tx.Bucket(bucketImages)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(jobKey); k != nil && bytes.HasPrefix(k, jobKey); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
