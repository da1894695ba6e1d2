// Package bench measures OneCard under load: `onecard bench` and the
// figures in docs/BENCHMARKS.md come from here. Runs work in a database of
// their own (a temporary SQLite file, or a fresh PostgreSQL schema dropped
// afterwards), so a benchmark never touches a deployment's rows.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// LedgerOptions configure a ledger benchmark.
type LedgerOptions struct {
	// DB is a postgres:// URL (a fresh schema is made in it) or a
	// directory-or-file path whose directory holds the temporary SQLite
	// file; empty means the system's temporary directory.
	DB         string
	Duration   time.Duration // default 10s
	Clients    int           // concurrent callers, default 64
	Accounts   int           // default 10,000
	PerRequest int           // transfers per Submit, default 1 (a POS tap)
}

// LedgerResult is what a run measured.
type LedgerResult struct {
	Store      string           `json:"store"`
	Clients    int              `json:"clients"`
	Accounts   int              `json:"accounts"`
	PerRequest int              `json:"transfers_per_request"`
	Seconds    float64          `json:"seconds"`
	Procs      int              `json:"gomaxprocs"` // CPUs the Go runtime ran on (serve leaves one to a local PostgreSQL)
	CPUs       int              `json:"cpus"`       // CPUs of the machine
	Committed  int64            `json:"committed"`
	Refused    map[string]int64 `json:"refused,omitempty"` // by result, e.g. insufficient_funds
	TPS        float64          `json:"transfers_per_second"`
	P50ms      float64          `json:"p50_ms"`
	P99ms      float64          `json:"p99_ms"`
	MaxMs      float64          `json:"max_ms"`
	Commits    int64            `json:"commits"`
	AvgBatch   float64          `json:"avg_transfers_per_commit"`
	CheckOK    bool             `json:"check_ok"`
	Violations []string         `json:"violations,omitempty"`
}

// Ledger opens a scratch store, opens the accounts, funds them, then lets
// Clients goroutines submit random transfers between them for Duration,
// each waiting for its acknowledgement (so every figure is of durable
// commits). It ends with ledger.Check over the whole journal.
func Ledger(ctx context.Context, o LedgerOptions) (*LedgerResult, error) {
	o.defaults()
	db, cleanup, err := scratchStore(ctx, o.DB)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res := &LedgerResult{Store: db.Dialect(), Clients: o.Clients, Accounts: o.Accounts, PerRequest: o.PerRequest,
		Procs: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(), Refused: map[string]int64{}}

	led := ledger.New(db, ledger.Options{})
	defer led.Close()
	ids, err := FundedAccounts(ctx, db, led, o.Accounts)
	if err != nil {
		return nil, err
	}
	before := led.Stats()

	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	var runErr error
	for c := 0; c < o.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			mine := make([]time.Duration, 0, 4096)
			refused := map[string]int64{}
			var ok int64
			req := make([]ledger.Transfer, o.PerRequest)
			for n := 0; time.Now().Before(deadline); n++ {
				for i := range req {
					dr := ids[rng.IntN(len(ids))]
					cr := ids[rng.IntN(len(ids))]
					for cr == dr {
						cr = ids[rng.IntN(len(ids))]
					}
					req[i] = ledger.Transfer{Key: fmt.Sprintf("b%d-%d-%d", c, n, i), Debit: dr, Credit: cr,
						Amount: rng.Int64N(100) + 1, Code: "bench"}
				}
				t0 := time.Now()
				out, err := led.Submit(ctx, req)
				mine = append(mine, time.Since(t0))
				if err != nil {
					mu.Lock()
					runErr = err
					mu.Unlock()
					return
				}
				for _, r := range out {
					if r.Result == ledger.OK {
						ok++
					} else {
						refused[r.Result.String()]++
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Committed += ok
			for k, v := range refused {
				res.Refused[k] += v
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if runErr != nil {
		return nil, runErr
	}
	after := led.Stats()
	res.Seconds = elapsed.Seconds()
	res.TPS = float64(res.Committed) / elapsed.Seconds()
	res.Commits = after.Commits - before.Commits
	if res.Commits > 0 {
		res.AvgBatch = float64(after.Transfers-before.Transfers) / float64(res.Commits)
	}
	slices.Sort(lat)
	res.P50ms, res.P99ms, res.MaxMs = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), ms(percentile(lat, 1))

	err = db.Audit(ctx, func(a ledger.Auditor) error {
		rep, err := ledger.Check(ctx, a)
		if err == nil {
			res.CheckOK, res.Violations = rep.OK(), rep.Violations
		}
		return err
	})
	return res, err
}

func (o *LedgerOptions) defaults() {
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Accounts < 2 {
		o.Accounts = 10_000
	}
	if o.PerRequest <= 0 {
		o.PerRequest = 1
	}
}

// scratchStore opens an empty store of the kind dsn names.
func scratchStore(ctx context.Context, dsn string) (*store.DB, func(), error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	var drop func()
	if store.IsPostgresURL(dsn) {
		var err error
		if dsn, drop, err = store.IsolatedPostgres(ctx, dsn, "onecard_bench"); err != nil {
			return nil, nil, err
		}
	} else {
		dir := dsn
		if dir == "" {
			dir = os.TempDir()
		} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			dir = filepath.Dir(dir)
		}
		tmp, err := os.MkdirTemp(dir, "onecard-bench-")
		if err != nil {
			return nil, nil, err
		}
		dsn = filepath.Join(tmp, "bench.db")
		drop = func() { os.RemoveAll(tmp) }
	}
	db, err := store.Open(ctx, dsn, store.Options{Secret: secret})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}

// FundedAccounts opens n accounts with floor 0, each given 1,000 yuan from
// a funding account with no floor, and returns their IDs.
func FundedAccounts(ctx context.Context, db *store.DB, led *ledger.Ledger, n int) ([]int64, error) {
	ids, err := openAccounts(ctx, db, n)
	if err != nil {
		return nil, err
	}
	return fund(ctx, led, ids)
}

// openAccounts opens a funding account and n purses with floor 0.
func openAccounts(ctx context.Context, db *store.DB, n int) ([]int64, error) {
	ids := make([]int64, 0, n+1)
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i <= n; i++ {
			floor := int64(0)
			if i == 0 {
				floor = ledger.NoFloor
			}
			id, err := tx.CreateAccount(ctx, store.AccountSpec{Kind: store.KindBench, Floor: floor, Ceiling: ledger.NoCeiling})
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// fund gives every purse 1,000 yuan from the funding account (ids[0]) and
// returns the purses.
func fund(ctx context.Context, led *ledger.Ledger, ids []int64) ([]int64, error) {
	bank, purses := ids[0], ids[1:]
	for chunk := 0; chunk < len(purses); chunk += ledger.MaxRequest {
		var req []ledger.Transfer
		for _, id := range purses[chunk:min(chunk+ledger.MaxRequest, len(purses))] {
			req = append(req, ledger.Transfer{Key: fmt.Sprintf("fund-%d", id), Debit: bank, Credit: id, Amount: 1000_00, Code: "bench"})
		}
		out, err := led.Submit(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, o := range out {
			if o.Result != ledger.OK {
				return nil, fmt.Errorf("bench: funding failed: %v", o.Result)
			}
		}
	}
	return purses, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
