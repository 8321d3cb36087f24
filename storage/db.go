// Package storage keeps accounts, the credit ledger and jobs in a bbolt file.
//
// Every change that touches credits happens in one transaction with the job
// change that causes it, so the ledger, the balances and the jobs never
// disagree, even after kill -9.
package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"sorabot/core"
)

var _ core.Store = (*DB)(nil)

// Options tune Open.
type Options struct {
	// StartCredits is the balance of a new user.
	StartCredits int
	// Timeout is how long Open waits for the file lock (default 1 s).
	Timeout time.Duration
	// NoSync skips fsync on commit: faster, but a power loss may lose the
	// last transactions. For tests and benchmarks.
	NoSync bool
	// DailyCredits, when > 0, tops a balance below it up to it at the
	// user's first command of each UTC day (see allowance.go).
	DailyCredits int
	// Now is the clock of the daily allowance (time.Now when nil).
	Now func() time.Time
}

// DB is the bbolt-backed core.Store.
type DB struct {
	bolt         *bolt.DB
	path         string
	startCredits int
	dailyCredits int
	clock        func() time.Time
	group        group
}

// Bucket names.
var (
	bucketAccounts = []byte("accounts") // userID → JSON accountRecord
	bucketLedger   = []byte("ledger")   // seq8 → JSON core.LedgerEntry
	bucketJobs     = []byte("jobs")     // id8 → JSON core.Job
	bucketActive   = []byte("active")   // id8 → empty, non-terminal jobs only
	bucketIdem     = []byte("idem")     // idempotency key → id8
	bucketImages   = []byte("images")   // id8 index → image bytes
	bucketMeta     = []byte("meta")     // counter name → int64 (8 bytes BE)

	bucketPayments  = []byte("payments")  // payment key → JSON core.Payment
	bucketConsume   = []byte("consume")   // payment key → empty, granted but not consumed
	bucketRefunding = []byte("refunding") // payment key → empty, refund pending
	bucketPromos    = []byte("promos")    // code → JSON core.Promo
	bucketRedeemed  = []byte("redeemed")  // code NUL user → seq8 of the promo entry
)

var allBuckets = [][]byte{
	bucketAccounts, bucketLedger, bucketJobs, bucketActive, bucketIdem, bucketImages, bucketMeta,
	bucketPayments, bucketConsume, bucketRefunding, bucketPromos, bucketRedeemed,
}

// Counters in the meta bucket.
const (
	metaCharged  = "charged"  // sum of all charges
	metaRefunded = "refunded" // sum of all refunds
	metaUsers    = "users"    // number of accounts
	metaCredits  = "credits"  // sum of all ledger amounts = sum of balances

	metaPurchases        = "purchases"         // number of purchase entries
	metaPurchaseCredits  = "purchase_credits"  // sum of purchase entries
	metaPurchaseStars    = "purchase_stars"    // Stars paid for the purchases
	metaPurchaseRefunded = "purchase_refunded" // minus the sum of purchase_refund entries
	metaAllowance        = "allowance"         // sum of allowance entries
	metaPromo            = "promo"             // sum of promo entries
)

// metaJobs names the counter of jobs that ended in state s.
func metaJobs(s core.State) string { return "jobs:" + string(s) }

// Open opens (creating if needed) the database at path. It fails after
// opt.Timeout when another process holds the file.
func Open(path string, opt Options) (*DB, error) {
	if opt.StartCredits < 0 || opt.DailyCredits < 0 {
		return nil, fmt.Errorf("storage: start credits %d or daily credits %d < 0", opt.StartCredits, opt.DailyCredits)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.Timeout, NoSync: opt.NoSync})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("database %s is in use by another sorabot process: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		bdb.Close()
		return nil, fmt.Errorf("storage: init %s: %w", path, err)
	}
	return &DB{bolt: bdb, path: path, startCredits: opt.StartCredits, dailyCredits: opt.DailyCredits, clock: opt.Now}, nil
}

// Close closes the database file.
func (db *DB) Close() error { return db.bolt.Close() }

// Path is the database file.
func (db *DB) Path() string { return db.path }

// itob encodes a sequence number as 8 big-endian bytes, so keys sort by number.
func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// jobKey parses a job id as rendered by Accept; a malformed id is ENOTFOUND.
func jobKey(id string) ([]byte, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return nil, core.Errorf(core.ENOTFOUND, "There is no job %q.", id)
	}
	return itob(n), nil
}

func notFound(id string) error { return core.Errorf(core.ENOTFOUND, "There is no job %q.", id) }

func checkUser(userID string) error {
	if userID == "" || strings.IndexByte(userID, 0) >= 0 {
		return core.Errorf(core.EINVALID, "Invalid user id %q.", userID)
	}
	return nil
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("storage: decode %s/%x: %w", b.Tx().DB().Path(), key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode: %w", err)
	}
	return b.Put(key, data)
}

func getCounter(tx *bolt.Tx, name string) int {
	v := tx.Bucket(bucketMeta).Get([]byte(name))
	if len(v) != 8 {
		return 0
	}
	return int(int64(binary.BigEndian.Uint64(v)))
}

func addCounter(tx *bolt.Tx, name string, delta int) error {
	if delta == 0 {
		return nil
	}
	v := int64(getCounter(tx, name) + delta)
	return tx.Bucket(bucketMeta).Put([]byte(name), itob(uint64(v)))
}

// now is the time stored in new records.
func now() time.Time { return time.Now().UTC() }
