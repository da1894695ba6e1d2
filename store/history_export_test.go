package store

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// RedoMigration rolls the schema back to before version and applies it
// again, as an upgrade of an older deployment would.
func (db *DB) RedoMigration(ctx context.Context, version int64) error {
	sub, err := fs.Sub(migrations, "migrations/"+db.dialect)
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.write, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version-1); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
