package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	// mattn/go-sqlite3 was chosen over modernc.org/sqlite by measurement of
	// the ledger's write pattern; see docs/BENCHMARKS.md.
	_ "github.com/mattn/go-sqlite3"
)

// openSQLite opens one writer connection (WAL, synchronous=FULL so that a
// commit is on disk when it returns, BEGIN IMMEDIATE so that a write
// transaction never fails half-way on a lock upgrade) and a pool of
// read-only connections that WAL lets run beside the writer.
func (db *DB) openSQLite(ctx context.Context, path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("store: create data directory: %w", err)
		}
	}
	if err := createSQLite(ctx, path); err != nil {
		return err
	}
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_synchronous", "FULL")
	params.Set("_foreign_keys", "1")
	params.Set("_busy_timeout", "10000")
	params.Set("_txlock", "immediate")
	params.Set("_cache_size", "-65536") // 64 MiB of page cache
	w, err := sql.Open("sqlite3", "file:"+path+"?"+params.Encode())
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// Checkpoint every ~40 MiB of WAL rather than SQLite's 4 MiB: the hot
	// pages (account balances, index leaves) are rewritten by nearly every
	// batch, and a rarer checkpoint copies each of them back once for many
	// commits. Measured: about 15% more ledger throughput; see
	// docs/BENCHMARKS.md.
	if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint=10000"); err != nil {
		w.Close()
		return fmt.Errorf("store: sqlite checkpoint setting: %w", err)
	}
	params.Del("_txlock")
	params.Set("_query_only", "1")
	r, err := sql.Open("sqlite3", "file:"+path+"?"+params.Encode())
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite reader: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.write, db.read = w, r
	return nil
}

// sqlitePageSize is the page size of the databases OneCard creates: half
// SQLite's default. A ledger batch dirties a page for nearly every account
// row and key it writes, and the commit copies each into the WAL and
// fsyncs it, so smaller pages mean fewer bytes for the same rows: in 6 of
// 7 alternated pairs of 10 s runs of `onecard bench ledger` 2 KiB was
// faster than 4 KiB, by 1-12%, and the web app's bills pages were no slower
// (docs/BENCHMARKS.md). 8 KiB was slower, and 1 KiB in two runs of three.
// On another machine of the same kind 4 KiB was again slower in all three
// pairs, and 1 KiB ahead in four of six pairs of a noisy hour.
const sqlitePageSize = 2048

// createSQLite creates a new database file with sqlitePageSize pages. The
// page size is fixed when the first page is written, which setting WAL mode
// does, so it is set on a connection of its own before the store's
// connections (whose DSN sets WAL) open the file. An existing file keeps
// its page size.
func createSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // exists, or the open will say why not
	}
	c, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return fmt.Errorf("store: create sqlite: %w", err)
	}
	defer c.Close()
	for _, q := range []string{"PRAGMA page_size=" + strconv.Itoa(sqlitePageSize), "PRAGMA journal_mode=WAL"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: create sqlite %s: %w", path, err)
		}
	}
	return nil
}

// sqliteHot lists the statements the ledger runs in every batch on SQLite.
// They are prepared once on the writer connection when the store opens:
// SQLite's prepare was about 5% of the committer's CPU in a profile of
// `onecard bench ledger` when every batch prepared its statements anew.
var sqliteHot = []string{headSelect, headMove, journalInsert, accountsMove}

// prepareHot prepares sqliteHot on the writer connection, after migrations.
func (db *DB) prepareHot(ctx context.Context) error {
	db.stmts = make(map[string]*sql.Stmt, len(sqliteHot))
	for _, q := range sqliteHot {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}

// sqliteStmt is one of sqliteHot bound to a transaction. Like sqliteTx's
// statements it runs without watching its context: run by *sql.Stmt with
// a cancellable one, mattn/go-sqlite3 started and woke a goroutine for
// every row a ledger batch wrote (docs/BENCHMARKS.md).
type sqliteStmt struct{ st *sql.Stmt }

// sqliteStmt returns q, one of sqliteHot, bound to tx; database/sql reuses
// what the writer connection has prepared.
func (tx *Tx) sqliteStmt(ctx context.Context, q string) sqliteStmt {
	return sqliteStmt{tx.sqlTx.StmtContext(context.WithoutCancel(ctx), tx.db.stmts[q])}
}

func (s sqliteStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.st.ExecContext(context.WithoutCancel(ctx), args...)
}

func (s sqliteStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.st.QueryRowContext(context.WithoutCancel(ctx), args...)
}
