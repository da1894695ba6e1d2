package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// querier is what *DB (the reader pool) and *Tx (a write transaction) have
// in common, so that read helpers serve both.
type querier interface {
	query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// isUniqueViolation reports whether err is a UNIQUE constraint failure, so
// that a duplicate becomes ECONFLICT even when two writers race past a
// pre-check on PostgreSQL.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// least and greatest name the scalar functions: SQLite's two-argument MIN
// and MAX are PostgreSQL's LEAST and GREATEST.
func (db *DB) least() string {
	if db.dialect == Postgres {
		return "LEAST"
	}
	return "MIN"
}

func (db *DB) greatest() string {
	if db.dialect == Postgres {
		return "GREATEST"
	}
	return "MAX"
}

// validCode accepts the short codes merchants and terminals are named by:
// 2 to 32 lowercase letters, digits, hyphens or underscores.
func validCode(code string) bool {
	if len(code) < 2 || len(code) > 32 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
