package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/onecard-campus/onecard/bench"
	"github.com/onecard-campus/onecard/store"
)

const benchUsage = `Usage: onecard bench ledger [--db URL] [--seconds N] [--clients N] [--accounts N] [--per-request N] [--json]

Benchmarks:
  ledger  concurrent clients submit random transfers to the group committer and wait for
          each durable commit; then the ledger check runs over the whole journal
`

// benchCmd dispatches `onecard bench WHAT`.
func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return errUsage
	}
	switch args[0] {
	case "ledger":
		return benchLedger(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	fmt.Fprintf(stderr, "onecard bench: unknown benchmark %q\n\n%s", args[0], benchUsage)
	return errUsage
}

// benchLedger runs bench.Ledger in a scratch database and reports it. The
// SQLite scratch file goes in the data directory by default rather than the
// system's temporary directory, which is often a RAM disk where fsync costs
// nothing and the figures would flatter.
func benchLedger(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		o       bench.LedgerOptions
		dir     string
		seconds int
		asJSON  bool
	)
	flags := newFlagSet("bench ledger", "onecard bench ledger [--db URL] [--seconds N] [--clients N] [--accounts N] [--per-request N] [--json]", stderr)
	flags.StringVar(&o.DB, "db", "", "a postgres:// URL (a scratch schema is made and dropped) or a directory for the scratch SQLite file (default the data directory)")
	flags.StringVar(&dir, "data-dir", "", "data directory (default $ONECARD_DATA_DIR or ./"+defaultDataDir+")")
	flags.IntVar(&seconds, "seconds", 10, "how long to run")
	flags.IntVar(&o.Clients, "clients", 64, "concurrent clients")
	flags.IntVar(&o.Accounts, "accounts", 10_000, "accounts the transfers move money between")
	flags.IntVar(&o.PerRequest, "per-request", 1, "transfers per request (1: a POS tap)")
	flags.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if seconds < 1 || o.Clients < 1 || o.Accounts < 2 || o.PerRequest < 1 {
		fmt.Fprintln(stderr, "onecard bench ledger: --seconds, --clients and --per-request must be at least 1, --accounts at least 2")
		return errUsage
	}
	o.Duration = time.Duration(seconds) * time.Second
	if o.DB == "" {
		o.DB = dataDir(dir, getenv)
		if err := ensureDataDir(o.DB); err != nil {
			return err
		}
	}
	leaveCPUToPostgres(o.DB, getenv) // as serve does; the result reports the CPUs
	where := redactDSN(o.DB)
	if !store.IsPostgresURL(o.DB) {
		where = "a scratch SQLite file in " + o.DB
	}
	fmt.Fprintf(stderr, "Benchmarking the ledger for %d s in %s: %d clients, %d accounts, %d transfer(s) per request...\n",
		seconds, where, o.Clients, o.Accounts, o.PerRequest)

	res, err := bench.Ledger(ctx, o)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printBench(stdout, res)
	}
	if !res.CheckOK {
		fmt.Fprintf(stderr, "onecard bench ledger: the ledger check after the run failed: %s\n", strings.Join(res.Violations, "; "))
		return errFailed
	}
	return nil
}

// printBench writes a benchmark result for people.
func printBench(w io.Writer, r *bench.LedgerResult) {
	fmt.Fprintf(w, "Ledger benchmark on %s: %d clients, %d accounts, %d transfer(s) per request, %.1f s, Go on %d of %d CPUs\n",
		r.Store, r.Clients, r.Accounts, r.PerRequest, r.Seconds, r.Procs, r.CPUs)
	fmt.Fprintf(w, "  committed:  %d transfers, %.0f per second\n", r.Committed, r.TPS)
	fmt.Fprintf(w, "  latency:    p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.P50ms, r.P99ms, r.MaxMs)
	fmt.Fprintf(w, "  commits:    %d, %.1f transfers per commit on average\n", r.Commits, r.AvgBatch)
	if len(r.Refused) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Refused)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Refused[k]))
		}
		fmt.Fprintf(w, "  refused:    %s\n", strings.Join(parts, ", "))
	}
	check := "ok"
	if !r.CheckOK {
		check = fmt.Sprintf("FAILED (%d violations)", len(r.Violations))
	}
	fmt.Fprintf(w, "  check:      %s\n", check)
}
