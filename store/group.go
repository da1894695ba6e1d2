package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// maxGroup bounds the calls gathered into one grouped transaction.
const maxGroup = 128

// grouped is a call waiting for a grouped transaction.
type grouped struct {
	fn   func(*Tx) error
	err  error
	done chan struct{}
}

// grouper gathers concurrent WriteGrouped calls into one transaction.
type grouper struct {
	once sync.Once
	reqs chan *grouped
	quit chan struct{}
	wg   sync.WaitGroup
}

// WriteGrouped runs fn like Write, durably, but in a transaction it may
// share with other callers waiting at the same moment, so that under load
// (the lunch rush's record uploads and loads) one commit and one fsync
// serve many calls. Each fn runs inside a savepoint of its own: an error
// rolls back only its own writes and is returned only to its caller. If
// the shared commit fails, each fn that had succeeded runs again alone, so
// it must be safe to run twice (every store method is: it owns its
// transaction and keeps its results in variables it sets anew).
func (db *DB) WriteGrouped(ctx context.Context, fn func(*Tx) error) error {
	g := &db.group
	g.once.Do(func() {
		g.reqs, g.quit = make(chan *grouped, 1024), make(chan struct{})
		g.wg.Add(1)
		go db.runGroups()
	})
	r := &grouped{fn: fn, done: make(chan struct{})}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.quit:
		return db.Write(ctx, fn)
	}
	// Wait even if ctx ends: fn may be running in the shared transaction.
	<-r.done
	return r.err
}

func (db *DB) runGroups() {
	g := &db.group
	defer g.wg.Done()
	for {
		var first *grouped
		select {
		case first = <-g.reqs:
		case <-g.quit:
			for {
				select {
				case r := <-g.reqs:
					db.runGroup([]*grouped{r})
				default:
					return
				}
			}
		}
		batch := []*grouped{first}
	gather:
		for len(batch) < maxGroup {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		db.runGroup(batch)
	}
}

// runGroup runs a batch in one transaction, each call in its savepoint.
func (db *DB) runGroup(batch []*grouped) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(batch) == 1 {
		batch[0].err = db.Write(ctx, batch[0].fn)
		close(batch[0].done)
		return
	}
	ran := make([]bool, len(batch))
	err := db.Write(ctx, func(tx *Tx) error {
		for i, r := range batch {
			hooks := len(tx.afterCommit)
			if _, err := tx.exec(ctx, "SAVEPOINT grouped"); err != nil {
				return fmt.Errorf("store: savepoint: %w", err)
			}
			if r.err = r.fn(tx); r.err != nil {
				tx.afterCommit = tx.afterCommit[:hooks]
				if _, err := tx.exec(ctx, "ROLLBACK TO SAVEPOINT grouped"); err != nil {
					return fmt.Errorf("store: roll back to savepoint: %w", err)
				}
			} else {
				ran[i] = true
			}
			if _, err := tx.exec(ctx, "RELEASE SAVEPOINT grouped"); err != nil {
				return fmt.Errorf("store: release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, r := range batch {
		if err != nil && (ran[i] || r.err == nil) {
			// The shared transaction is gone: run this call by itself.
			r.err = db.Write(ctx, r.fn)
		}
		close(r.done)
	}
}

// closeGroups stops the grouper after the calls already queued.
func (db *DB) closeGroups() {
	g := &db.group
	g.once.Do(func() {}) // never start one after Close
	if g.quit != nil {
		close(g.quit)
		g.wg.Wait()
	}
}
