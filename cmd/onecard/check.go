package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// check opens the store, verifies the ledger's invariants over one
// consistent snapshot and prints what it found. Any violation makes it fail,
// so it can guard a backup, a restore or a CI run.
func check(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dsn, dir string
	flags := newFlagSet("check", "onecard check [--db URL] [--data-dir DIR]", stderr)
	flags.StringVar(&dsn, "db", "", "a postgres:// URL or an SQLite file path (default DATA_DIR/onecard.db)")
	flags.StringVar(&dir, "data-dir", "", "data directory holding the secret and the default database (default $ONECARD_DATA_DIR or ./"+defaultDataDir+")")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	dir = dataDir(dir, getenv)
	if dsn == "" {
		dsn = defaultDB(dir)
	}
	if !store.IsPostgresURL(dsn) {
		// Opening a missing SQLite file would create an empty database and
		// pass the check: say what is wrong instead.
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no database at %s (give --db)", dsn)
		}
	}
	secret, err := checkSecret(dir, getenv)
	if err != nil {
		return err
	}
	// Only warnings and errors: the report is the output.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, dsn, store.Options{Secret: secret, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()

	var rep *ledger.Report
	err = db.Audit(ctx, func(a ledger.Auditor) error {
		rep, err = ledger.Check(ctx, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("the check could not run: %w", err)
	}
	printReport(stdout, redactDSN(dsn), db.Dialect(), rep)
	if !rep.OK() {
		return errFailed
	}
	return nil
}

// checkSecret returns the store secret if there is one. Check reads no PIN
// and no ID hash, so without one it uses a throwaway secret, which only
// satisfies store.Open.
func checkSecret(dir string, getenv func(string) string) ([]byte, error) {
	secret, _, found, err := readSecret(dir, getenv)
	if err != nil || found {
		return secret, err
	}
	secret = make([]byte, minSecret)
	_, err = rand.Read(secret)
	return secret, err
}

// printReport writes the check's summary and each violation.
func printReport(w io.Writer, db, dialect string, rep *ledger.Report) {
	fmt.Fprintf(w, "Ledger check of %s (%s)\n", db, dialect)
	fmt.Fprintf(w, "  accounts:  %d\n  transfers: %d\n", rep.Accounts, rep.Transfers)
	if rep.OK() {
		fmt.Fprintln(w, "OK: balances sum to zero and equal their journals, none is outside its floor or ceiling,")
		fmt.Fprintln(w, "the hash chain and every account's history links are intact and no idempotency key is stored twice.")
		return
	}
	fmt.Fprintf(w, "FAILED: %d violation(s)\n", len(rep.Violations)+rep.Truncated)
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "  - %s\n", v)
	}
	if rep.Truncated > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", rep.Truncated)
	}
}
