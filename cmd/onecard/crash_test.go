package main

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// Load shape of the crash test: a few clients for long enough that many
// commits are in flight when the process dies.
const (
	crashClients     = 6
	crashCardholders = 8
	crashLoad        = 1500 * time.Millisecond
)

// TestCrash is the durability check: a server under load is killed with
// SIGKILL, and after a restart every transfer it acknowledged is there and
// `onecard check` finds the ledger intact. It runs on SQLite, and on
// PostgreSQL when ONECARD_TEST_POSTGRES is set.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts, kills and restarts the real binary")
	}
	t.Run("sqlite", func(t *testing.T) {
		crashTest(t, filepath.Join(t.TempDir(), "crash.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		crashTest(t, storetest.DSN(t, store.Postgres)) // its drop is registered before the child starts, so it runs after the child is gone
	})
}

// ack is a transfer the server acknowledged: it must survive anything.
type ack struct {
	key    string // the ledger's key
	amount int64
}

// crashHolder is a test cardholder as the load needs it.
type crashHolder struct {
	ID                int64 `json:"id"`
	TransitionAccount int64 `json:"transition_account"`
}

func crashTest(t *testing.T, dsn string) {
	const pass = "crash-test-password"
	env := childEnv("ONECARD_DATA_DIR="+t.TempDir(), "ONECARD_ADMIN_PASSWORD="+pass)
	args := []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}

	srv := startChild(t, env, args...)
	c := newAPIClient(srv.serving(time.Minute))
	c.loginOperator(t, "admin", pass)
	holders := crashSetup(t, c)

	var (
		mu   sync.Mutex
		acks []ack
		stop atomic.Bool
		wg   sync.WaitGroup
		// first is an acknowledged deposit, retried after the restart.
		first struct {
			key                    string
			cardholder, amount, id int64
		}
	)
	record := func(a ...ack) {
		mu.Lock()
		acks = append(acks, a...)
		mu.Unlock()
	}
	// One client with enough idle connections for every worker, so the load
	// is commits rather than TCP handshakes.
	load := *c
	load.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashClients}}
	for w := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 7))
			for n := 0; !stop.Load(); n++ {
				if n%2 == 0 {
					// Cash at the counter: the domain path, through store.Deposit.
					h := holders[rng.IntN(len(holders))]
					key := fmt.Sprintf("crash-%d-%d", w, n)
					amount := 1 + rng.Int64N(500)
					var item struct {
						TransferID int64 `json:"transfer_id"`
					}
					body := map[string]any{"key": key, "amount": amount}
					if _, err := load.call("POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", h.ID), body, &item); err == nil {
						record(ack{key: "deposit:" + key, amount: amount})
						mu.Lock()
						if first.id == 0 {
							first.key, first.cardholder, first.amount, first.id = key, h.ID, amount, item.TransferID
						}
						mu.Unlock()
					}
					continue
				}
				// A raw ledger batch: the group committer's path.
				var req struct {
					Transfers []map[string]any `json:"transfers"`
				}
				var sent []ack
				for i := range 3 {
					a, b := rng.IntN(len(holders)), rng.IntN(len(holders)-1)
					if b >= a {
						b++
					}
					key := fmt.Sprintf("crash-%d-%d-%d", w, n, i)
					amount := 1 + rng.Int64N(100)
					req.Transfers = append(req.Transfers, map[string]any{"key": key, "debit": holders[a].TransitionAccount,
						"credit": holders[b].TransitionAccount, "amount": amount, "code": "crash"})
					sent = append(sent, ack{key: key, amount: amount})
				}
				var res struct {
					Results []struct{ Result string }
				}
				if _, err := load.call("POST", "/api/v1/transfers", req, &res); err == nil && len(res.Results) == len(sent) {
					for i, r := range res.Results {
						if r.Result == "ok" {
							record(sent[i])
						}
					}
				}
			}
		}()
	}
	time.Sleep(crashLoad)
	srv.kill()
	stop.Store(true)
	wg.Wait()
	if len(acks) == 0 {
		t.Fatal("no transfer was acknowledged before the kill: the load never ran")
	}

	srv = startChild(t, env, args...)
	c = newAPIClient(srv.serving(time.Minute))
	c.loginOperator(t, "admin", pass)
	var missing []string
	for _, a := range acks {
		var got struct{ Amount int64 }
		if _, err := c.call("GET", "/api/v1/transfers/"+url.PathEscape(a.key), nil, &got); err != nil || got.Amount != a.amount {
			missing = append(missing, fmt.Sprintf("%s (%v, amount %d, want %d)", a.key, err, got.Amount, a.amount))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged transfers lost or changed after SIGKILL, e.g. %s", len(missing), len(acks),
			strings.Join(missing[:min(5, len(missing))], "; "))
	}
	t.Logf("%d transfers acknowledged before SIGKILL, all present after the restart", len(acks))

	// A client that never saw its answer retries after the restart: the
	// same key moves money once and returns the first transfer.
	if first.id != 0 {
		var item struct {
			TransferID int64 `json:"transfer_id"`
		}
		c.must(t, "POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", first.cardholder),
			map[string]any{"key": first.key, "amount": first.amount}, &item)
		if item.TransferID != first.id {
			t.Errorf("retrying deposit %s after the crash gave transfer %d, first %d", first.key, item.TransferID, first.id)
		}
	}

	if code := srv.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	code, out, errOut := runBinary(t, env, "check", "--db", dsn)
	if code != exitOK || !strings.Contains(out, "OK:") {
		t.Fatalf("check after the crash: exit %d\n%s%s", code, out, errOut)
	}
}

// crashSetup creates a school and cardholders with cards and money through
// the API, as a card centre would.
func crashSetup(t *testing.T, c *apiClient) []crashHolder {
	t.Helper()
	var school struct{ ID int64 }
	c.must(t, "POST", "/api/v1/schools", map[string]any{"code": "crash", "name": "Crash Test University",
		"campuses": []map[string]string{{"name": "主校区"}}}, &school)
	holders := make([]crashHolder, crashCardholders)
	for i := range holders {
		id17 := fmt.Sprintf("1201042005010%04d", i)
		c.must(t, "POST", fmt.Sprintf("/api/v1/schools/%d/cardholders", school.ID), map[string]any{
			"number": fmt.Sprintf("2025%06d", i+1), "name": fmt.Sprintf("测试%d号", i+1), "kind": "student",
			"id_number": id17 + string(demo.IDCheckDigit(id17)),
		}, &holders[i])
		c.must(t, "POST", fmt.Sprintf("/api/v1/cardholders/%d/cards", holders[i].ID), map[string]any{}, nil)
		c.must(t, "POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", holders[i].ID),
			map[string]any{"key": fmt.Sprintf("fund-%d", i), "amount": 1000_00}, nil)
	}
	return holders
}
