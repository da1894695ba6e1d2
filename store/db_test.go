package store_test

import (
	"context"
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
