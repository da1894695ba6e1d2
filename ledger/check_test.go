package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

func violations(t *testing.T, db *store.DB) []string {
	t.Helper()
	var rep *ledger.Report
	err := db.Audit(context.Background(), func(a ledger.Auditor) error {
		var err error
		rep, err = ledger.Check(context.Background(), a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Violations
}

func TestCheckFindsTampering(t *testing.T) {
	for _, c := range []struct {
		name string
		// tamper changes the database as someone bypassing the ledger would.
		tamper func(t *testing.T, f *fixture, dialect string)
		want   string
	}{
		{"a balance changed by hand", func(t *testing.T, f *fixture, _ string) {
			f.exec(t, `UPDATE accounts SET balance = balance + 100 WHERE id = ?`, f.purse)
		}, "the journal says"},
		{"money created on both sides", func(t *testing.T, f *fixture, _ string) {
			f.exec(t, `UPDATE accounts SET balance = balance + 100 WHERE id = ?`, f.purse)
			f.exec(t, `UPDATE accounts SET balance = balance - 100 WHERE id = ?`, f.bank)
		}, "the journal says"},
		{"a transfer rewritten, balances to match, with the trigger dropped", func(t *testing.T, f *fixture, dialect string) {
			dropJournalTriggers(t, f, dialect)
			f.exec(t, `UPDATE journal SET amount = amount + 1 WHERE id = 1`)
			f.exec(t, `UPDATE accounts SET balance = balance + 1 WHERE id = ?`, f.purse)
			f.exec(t, `UPDATE accounts SET balance = balance - 1 WHERE id = ?`, f.bank)
		}, "hash does not match"},
		{"a transfer deleted with the trigger dropped", func(t *testing.T, f *fixture, dialect string) {
			dropJournalTriggers(t, f, dialect)
			f.exec(t, `DELETE FROM journal WHERE id = 1`)
		}, "transfers are missing"},
		{"a voided hold marked pending again", func(t *testing.T, f *fixture, _ string) {
			f.submit(t, ledger.Transfer{Key: "h", Debit: f.purse, Credit: f.other, Amount: 1, Flags: ledger.Pending, Code: "t"})
			f.submit(t, ledger.Transfer{Key: "v", PendingKey: "h", Flags: ledger.VoidPending})
			f.exec(t, `UPDATE holds SET state = 'pending'`)
		}, "the journal says it was resolved"},
		{"the head moved back", func(t *testing.T, f *fixture, _ string) {
			f.exec(t, `UPDATE ledger_head SET transfer_id = transfer_id - 1`)
		}, "does not match the journal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, dialect := range storetest.Dialects {
				t.Run(dialect, func(t *testing.T) {
					f := newFixture(t, storetest.Open(t, dialect, store.Options{}))
					if v := violations(t, f.db); len(v) != 0 {
						t.Fatalf("clean ledger has violations: %v", v)
					}
					c.tamper(t, f, dialect)
					v := violations(t, f.db)
					if !strings.Contains(strings.Join(v, "\n"), c.want) {
						t.Errorf("violations %q, want one containing %q", v, c.want)
					}
				})
			}
		})
	}
}

func TestDatabaseRefusesWhatTheLedgerForbids(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, c := range []struct{ q, want string }{
			{`UPDATE journal SET amount = 1 WHERE id = 1`, "append-only"},
			{`DELETE FROM journal WHERE id = 1`, "append-only"},
			{fmt.Sprintf(`UPDATE accounts SET balance = balance - 10000 WHERE id = %d`, f.purse), "check"},
			{fmt.Sprintf(`UPDATE accounts SET balance = balance + 1000 WHERE id = %d`, f.capped), "check"},
		} {
			err := db.ExecRaw(context.Background(), c.q)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), c.want) {
				t.Errorf("%s: err %v, want the database to refuse (%s)", c.q, err, c.want)
			}
		}
		f.check(t)
	})
}

func dropJournalTriggers(t *testing.T, f *fixture, dialect string) {
	t.Helper()
	if dialect == store.SQLite {
		f.exec(t, `DROP TRIGGER journal_no_update`)
		f.exec(t, `DROP TRIGGER journal_no_delete`)
	} else {
		f.exec(t, `DROP TRIGGER journal_no_change ON journal`)
	}
}
