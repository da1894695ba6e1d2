package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a pgx pool behind database/sql. synchronous_commit is
// forced on: an acknowledged transfer must survive a crash of the server.
func (db *DB) openPostgres(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("store: parse postgres url: %w", err)
	}
	cfg.RuntimeParams["synchronous_commit"] = "on"
	cfg.RuntimeParams["timezone"] = "UTC"
	// Plan every execution with its parameters. pgx prepares statements,
	// and after five runs PostgreSQL may switch to one generic plan made
	// while a table was small (a sequential scan of a then-empty journal)
	// that it keeps as the table grows to millions of rows. The ledger
	// batch's writes, which find every row by primary key, are the
	// exception (writeBulk).
	cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	p := sql.OpenDB(stdlib.GetConnector(*cfg))
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(32)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return fmt.Errorf("store: connect to postgres: %w", err)
	}
	db.write, db.read = p, p
	return nil
}
