package store

import "context"

// RedoMigration rolls the schema back to before version and applies it
// again, as an upgrade of an older deployment would.
func (db *DB) RedoMigration(ctx context.Context, version int64) error {
	p, err := db.migrations()
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version-1); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
