// Package store keeps OneCard's state in SQLite (the embedded default) or
// PostgreSQL (production), behind one implementation of the domain services.
// Queries are written once with ? placeholders and rebound for PostgreSQL;
// the few places where the dialects differ (row locks, bulk writes of the
// ledger's hot path) say so. Each exported method owns its transaction;
// unexported (ctx, tx, ...) helpers compose inside it.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
)

// Dialect names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options configure a store.
type Options struct {
	// Secret keys the PIN pepper and the ID-number hashes. It must be the
	// same for every process sharing a database and must not be lost:
	// without it no PIN verifies. At least 32 bytes.
	Secret []byte
	// Now returns the current time; tests swap it.
	Now func() time.Time
	// Logger receives internal errors and slow operations.
	Logger *slog.Logger
}

// DB is an open store. It implements the onecard service interfaces,
// ledger.DB, ledger.Reader and ledger.Auditor.
type DB struct {
	dialect string
	write   *sql.DB // SQLite: one connection, BEGIN IMMEDIATE; PostgreSQL: the pool
	read    *sql.DB // SQLite: a pool of read-only connections; PostgreSQL: the same pool
	writeMu sync.Mutex
	group   grouper // see WriteGrouped
	// issuers caches each school's purse issuer (school ID to
	// *purse.Issuer): the server verifies a TAC for every uploaded record.
	issuers sync.Map
	secret  []byte
	now     func() time.Time
	log     *slog.Logger
	pepper  []byte               // derived from secret, for PIN and password hashes
	idKey   []byte               // derived from secret, for ID-number hashes
	cache   ledgerCache          // the ledger committer's accounts; see ledger_cache.go
	stmts   map[string]*sql.Stmt // SQLite: sqliteHot, prepared on the writer
}

// Open connects to dsn (a postgres:// URL or an SQLite file path), applies
// the embedded migrations and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if len(opts.Secret) < 32 {
		return nil, errors.New("store: the secret must be at least 32 bytes")
	}
	db := &DB{secret: opts.Secret, now: opts.Now, log: opts.Logger}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	db.pepper = derive(opts.Secret, "onecard pin pepper v1")
	db.idKey = derive(opts.Secret, "onecard id number hash v1")
	var err error
	if IsPostgresURL(dsn) {
		db.dialect = Postgres
		err = db.openPostgres(ctx, dsn)
	} else {
		db.dialect = SQLite
		err = db.openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.dialect == SQLite {
		if err := db.prepareHot(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// IsPostgresURL reports whether dsn names a PostgreSQL database rather than
// an SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string { return db.dialect }

// Close closes the connections.
func (db *DB) Close() error {
	db.closeGroups()
	for _, st := range db.stmts {
		st.Close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Write runs fn in a durable write transaction with one fixed now and
// commits when fn returns nil. SQLite has one writer, so writes queue here
// rather than fail with SQLITE_BUSY. On PostgreSQL the transaction holds a
// connection of its own and sends BEGIN with its first statements, so the
// ledger's hot path can pipeline everything it reads into one round trip.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) (err error) {
	return db.write1(ctx, true, fn)
}

// writeEphemeral runs fn in a write transaction whose commit need not wait
// for the disk, for state a crash may lose without harm (request nonces:
// every call that moves money is idempotent by its own key). On PostgreSQL
// synchronous_commit is off for the transaction; on SQLite the commit skips
// its fsync, and the next durable commit writes it out.
func (db *DB) writeEphemeral(ctx context.Context, fn func(*Tx) error) error {
	return db.write1(ctx, false, fn)
}

func (db *DB) write1(ctx context.Context, durable bool, fn func(*Tx) error) (err error) {
	tx := &Tx{db: db, now: db.now().Truncate(time.Microsecond)}
	if db.dialect == SQLite {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
		if !durable {
			// The single writer connection: no other write runs until FULL is back.
			if _, err := db.write.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
				return fmt.Errorf("store: relax sync: %w", err)
			}
			defer db.write.ExecContext(context.Background(), "PRAGMA synchronous=FULL")
		}
		if tx.sqlTx, err = db.write.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		tx.q, tx.begun = sqliteTx{tx.sqlTx}, true
	} else {
		if tx.conn, err = db.write.Conn(ctx); err != nil {
			return fmt.Errorf("store: connect: %w", err)
		}
		defer tx.conn.Close()
		tx.q = tx.conn
	}
	if !durable && db.dialect == Postgres {
		if _, err := tx.exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			tx.rollback()
			return fmt.Errorf("store: relax sync: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func (tx *Tx) commit(ctx context.Context) error {
	if tx.sqlTx != nil {
		return tx.sqlTx.Commit()
	}
	if !tx.begun || (tx.batch != nil && tx.batch.committed) {
		return nil
	}
	if _, err := tx.conn.ExecContext(ctx, "COMMIT"); err != nil {
		tx.discardConn()
		return err
	}
	return nil
}

func (tx *Tx) rollback() {
	if tx.sqlTx != nil {
		_ = tx.sqlTx.Rollback()
		return
	}
	if !tx.begun || (tx.batch != nil && tx.batch.committed) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tx.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		tx.discardConn()
	}
}

// discardConn makes database/sql close the connection instead of pooling
// it, for when its transaction state is unknown.
func (tx *Tx) discardConn() {
	_ = tx.conn.Raw(func(any) error { return driver.ErrBadConn })
}

// begin sends BEGIN on PostgreSQL before the transaction's first statement.
func (tx *Tx) begin(ctx context.Context) error {
	if tx.begun {
		return nil
	}
	if _, err := tx.conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx.begun = true
	return nil
}

// Now returns the store's clock reading, truncated to what the database keeps.
func (db *DB) Now() time.Time { return db.now().Truncate(time.Microsecond) }

// Tx is a write transaction. It implements ledger.Tx, so domain operations
// run ledger transfers atomically with their own writes.
type Tx struct {
	q           sqlConn
	sqlTx       *sql.Tx   // SQLite
	conn        *sql.Conn // PostgreSQL
	begun       bool
	db          *DB
	now         time.Time
	afterCommit []func()
	// accountOwner is filled by a ledger batch's Accounts call; see settleArrears.
	accountOwner map[int64]accountOwner
	batch        *ledgerBatch // set in the ledger committer's transactions (Update)
}

// Now returns the transaction's fixed time.
func (tx *Tx) Now() time.Time { return tx.now }

// AfterCommit registers f to run once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// sqliteTx runs a SQLite transaction's statements without watching their
// context: mattn/go-sqlite3 starts a goroutine per statement to interrupt
// it when a cancellable context ends (their start and wake-ups were about
// 3% of the ledger benchmark's CPU), while a statement of the one
// in-process writer finishes in microseconds anyway. The transaction itself still ends
// when its context does (database/sql rolls it back). Prepared statements
// run the same way through sqliteStmt.
type sqliteTx struct{ *sql.Tx }

func (t sqliteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (t sqliteTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (t sqliteTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// sqlConn is what *sql.Tx and *sql.Conn have in common.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := tx.begin(ctx); err != nil {
		return nil, err
	}
	return tx.q.ExecContext(ctx, tx.db.rebind(q), args...)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := tx.begin(ctx); err != nil {
		return nil, err
	}
	return tx.q.QueryContext(ctx, tx.db.rebind(q), args...)
}

// queryRow runs a single-row query. A failed BEGIN surfaces as the row's
// error when the statement itself fails on the connection.
func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	_ = tx.begin(ctx)
	return tx.q.QueryRowContext(ctx, tx.db.rebind(q), args...)
}

// forUpdate returns the row-lock clause for a SELECT inside a write
// transaction: PostgreSQL needs it, SQLite's single writer already has it.
func (tx *Tx) forUpdate() string {
	if tx.db.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// insertID runs an INSERT ... RETURNING id and returns the id.
func (tx *Tx) insertID(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, q+" RETURNING id", args...).Scan(&id)
	return id, err
}

func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.rebind(q), args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.rebind(q), args...)
}

// rebind turns ? placeholders into $1, $2... for PostgreSQL. Queries never
// hold a literal question mark.
func (db *DB) rebind(q string) string {
	if db.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
		} else {
			b.WriteByte(q[i])
		}
	}
	return b.String()
}

// notFound maps sql.ErrNoRows to ENOTFOUND with the message given and wraps
// anything else with where it came from.
func notFound(err error, where, format string, args ...any) error {
	if err == nil {
		return nil
	} else if errors.Is(err, sql.ErrNoRows) {
		return onecard.Errorf(onecard.ENOTFOUND, format, args...)
	}
	return fmt.Errorf("store: %s: %w", where, err)
}

func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func fromMicroPtr(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := fromMicro(us)
	return &t
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ExecRaw runs a statement outside any service, in its own write
// transaction: for tests that tamper with rows and for maintenance tools.
func (db *DB) ExecRaw(ctx context.Context, q string, args ...any) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, q, args...)
		return err
	})
}
