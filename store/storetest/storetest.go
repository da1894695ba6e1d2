// Package storetest runs tests against every store dialect: a temporary
// SQLite file always, and PostgreSQL when ONECARD_TEST_POSTGRES holds a URL
// (.ci/run sets it). Each PostgreSQL test gets a schema of its own, dropped
// afterwards, so tests never see each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

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
	for _, dialect := range []string{store.SQLite, store.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			dsn := DSN(t, dialect)
			db, err := store.Open(context.Background(), dsn, store.Options{Secret: Secret})
			if err != nil {
				t.Fatalf("open %s store: %v", dialect, err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db)
		})
	}
}

// DSN returns a fresh database for the dialect: a temporary SQLite file, or
// a new schema on the test PostgreSQL (skipping the test when there is none).
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == store.SQLite {
		return filepath.Join(t.TempDir(), "onecard.db")
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a postgres:// URL (bash .ci/run does)", PostgresEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
