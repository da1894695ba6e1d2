package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

func TestOpenStartsAnEmptyLedger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		err := db.Audit(context.Background(), func(a ledger.Auditor) error {
			h, err := a.StoredHead(context.Background())
			if err != nil {
				return err
			}
			if h.TransferID != 0 || h.Hash != [32]byte{} {
				t.Errorf("new ledger head = %+v, want zero", h)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onecard.db")
	for i := 0; i < 2; i++ {
		db, err := store.Open(context.Background(), path, store.Options{Secret: storetest.Secret})
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		db.Close()
	}
}

// A new SQLite file gets the store's page size (see sqlitePageSize); a file
// made elsewhere with another page size keeps it and opens as before.
func TestSQLitePageSize(t *testing.T) {
	pageSize := func(path string) int {
		t.Helper()
		c, err := sql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var n int
		if err := c.QueryRow("PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	fresh := filepath.Join(t.TempDir(), "new.db")
	old := filepath.Join(t.TempDir(), "old.db")
	c, err := sql.Open("sqlite3", "file:"+old+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("PRAGMA user_version = 0"); err != nil { // creates the file at SQLite's default size
		t.Fatal(err)
	}
	c.Close()
	for path, want := range map[string]int{fresh: 2048, old: 4096} {
		db, err := store.Open(context.Background(), path, store.Options{Secret: storetest.Secret})
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		checkLedger(t, db)
		db.Close()
		if got := pageSize(path); got != want {
			t.Errorf("%s: page size %d, want %d", filepath.Base(path), got, want)
		}
	}
}
