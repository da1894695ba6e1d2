// Package storetest runs tests against every store dialect: a temporary
// SQLite file always, and PostgreSQL when ONECARD_TEST_POSTGRES holds a URL
// (.ci/run sets it). Each PostgreSQL test gets a schema of its own, dropped
// afterwards, so tests never see each other's rows.
package storetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/store"
)

// PostgresEnv names the environment variable holding the test database URL.
const PostgresEnv = "ONECARD_TEST_POSTGRES"

// Secret is the store secret tests use.
var Secret = []byte("onecard-test-secret-0123456789abcdef")

// Each runs fn as a subtest per dialect ("sqlite", "postgres"). The
// PostgreSQL subtest skips with a message when the URL is unset.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	EachWith(t, store.Options{}, fn)
}

// EachWith is Each with store options (a clock, say); Secret defaults to
// the test secret.
func EachWith(t *testing.T, opts store.Options, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, dialect := range Dialects {
		t.Run(dialect, func(t *testing.T) {
			fn(t, Open(t, dialect, opts))
		})
	}
}

// Dialects lists the dialects every store test runs on.
var Dialects = []string{store.SQLite, store.Postgres}

// Open opens a fresh store of the dialect, closed when the test ends.
func Open(t testing.TB, dialect string, opts store.Options) *store.DB {
	t.Helper()
	return OpenAt(t, DSN(t, dialect), opts)
}

// OpenAt opens the store at dsn (from DSN), closed when the test ends. A
// second OpenAt of the same dsn is a second server process on the same
// database.
func OpenAt(t testing.TB, dsn string, opts store.Options) *store.DB {
	t.Helper()
	if opts.Secret == nil {
		opts.Secret = Secret
	}
	db, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Clock is a settable clock for store.Options.Now.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// PostgresURL returns the test PostgreSQL's URL, skipping the test when
// there is none.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL (bash .ci/run does)", PostgresEnv)
	}
	return base
}

// DSN returns a fresh database for the dialect: a temporary SQLite file, or
// a new schema on the test PostgreSQL (skipping the test when there is none).
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == store.SQLite {
		return filepath.Join(t.TempDir(), "onecard.db")
	}
	base := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, drop, err := store.IsolatedPostgres(ctx, base, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}
