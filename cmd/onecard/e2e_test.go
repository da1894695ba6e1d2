package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// What `serve --demo` prints for people to log in with.
var (
	oneTimePasswordRE = regexp.MustCompile(`username (\S+), one-time password (\S+)`)
	cardholderLoginRE = regexp.MustCompile(`school (\S+), card number (\S+) \(.*\), query PIN (\d{6})`)
)

// demoLoadTimeout allows for 1,000 argon2 PIN hashes on a busy two-core machine.
const demoLoadTimeout = 3 * time.Minute

// TestServeDemo checks the binary's contract end to end: serve --demo prints
// working operator and cardholder credentials, serves /healthz and an
// OpenAPI 3.1 document, stops on SIGTERM; check passes on the database it
// left; a second start with --demo adds nothing and still knows the PINs
// (the secret file was reused).
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary and loads 1,000 demo cardholders")
	}
	dir := filepath.Join(t.TempDir(), "data")
	env := childEnv("ONECARD_DATA_DIR=" + dir)

	first := startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base := first.serving(demoLoadTimeout)
	admin := oneTimePasswordRE.FindStringSubmatch(first.stderr.String())
	login := cardholderLoginRE.FindStringSubmatch(first.stdout.String())
	if admin == nil || login == nil {
		t.Fatalf("serve --demo did not print the operator and cardholder logins")
	}
	school, number, pin := login[1], login[2], login[3]

	c := newAPIClient(base)
	resp, err := c.hc.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v, %v", resp, err)
	}
	resp.Body.Close()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]any
	}
	c.must(t, "GET", "/openapi.json", nil, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/api/v1/me"] == nil {
		t.Errorf("openapi.json: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}

	cardholderBalance(t, base, school, number, pin)

	// The one-time password works once changed, and there is one school.
	c.loginOperator(t, admin[1], admin[2])
	const newPass = "e2e-password-0123"
	c.must(t, "POST", "/api/v1/operators/me/password", map[string]string{"old": admin[2], "new": newPass}, nil)
	c.loginOperator(t, admin[1], newPass)
	demoID := onlySchool(t, c, school)

	if code := first.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	db := filepath.Join(dir, "onecard.db")
	code, out, errOut := runBinary(t, env, "check", "--db", db)
	if code != exitOK || !strings.Contains(out, "OK:") {
		t.Fatalf("check after the demo: exit %d\n%s%s", code, out, errOut)
	}

	second := startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base = second.serving(demoLoadTimeout)
	if strings.Contains(second.stderr.String(), "Created") {
		t.Errorf("the second start created something again:\n%s", second.stderr.String())
	}
	if again := cardholderLoginRE.FindStringSubmatch(second.stdout.String()); again == nil || again[2] != number || again[3] != pin {
		t.Errorf("the second start printed other credentials: %v", again)
	}
	cardholderBalance(t, base, school, number, pin)
	c = newAPIClient(base)
	c.loginOperator(t, admin[1], newPass)
	if id := onlySchool(t, c, school); id != demoID {
		t.Errorf("school %d became %d", demoID, id)
	}
	var list struct{ Total int }
	c.must(t, "GET", fmt.Sprintf("/api/v1/schools/%d/cardholders?limit=1", demoID), nil, &list)
	if list.Total != 1000 {
		t.Errorf("%d cardholders after two --demo starts, want 1000", list.Total)
	}
	if code := second.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
}

// cardholderBalance logs in with the printed credentials and checks that
// the app's home screen shows money and a working card.
func cardholderBalance(t *testing.T, base, school, number, pin string) {
	t.Helper()
	c := newAPIClient(base)
	var s struct{ Token string }
	c.must(t, "POST", "/api/v1/auth/cardholder/login", map[string]string{"school": school, "number": number, "pin": pin}, &s)
	c.token = s.Token
	var me struct {
		Cardholder struct{ Number string }
		Balance    struct{ Purse, Transition, Total int64 }
		Card       *struct{ State string }
	}
	c.must(t, "GET", "/api/v1/me", nil, &me)
	if me.Cardholder.Number != number || me.Balance.Total <= 0 || me.Card == nil || me.Card.State != "active" {
		t.Errorf("GET /api/v1/me: %+v", me)
	}
}

// onlySchool checks that the deployment has exactly the one school and
// returns its ID.
func onlySchool(t *testing.T, c *apiClient, code string) int64 {
	t.Helper()
	var schools struct {
		Items []struct {
			ID   int64
			Code string
		}
	}
	c.must(t, "GET", "/api/v1/schools", nil, &schools)
	if len(schools.Items) != 1 || schools.Items[0].Code != code {
		t.Fatalf("schools: %+v", schools.Items)
	}
	return schools.Items[0].ID
}

// TestBenchLedgerJSON runs the benchmark briefly through the binary and
// reads its JSON. It asserts what the run proves (durable commits, a clean
// check) and the CPUs the Go runtime ran on (one left to a PostgreSQL on
// this machine, unless GOMAXPROCS says otherwise), never how fast it was.
func TestBenchLedgerJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	cpus := runtime.NumCPU()
	tests := []struct {
		name      string
		env       []string
		wantStore string
		wantProcs int
	}{
		{"sqlite keeps every CPU", nil, "sqlite", cpus},
		{"a local postgres is left a CPU", nil, "postgres", max(cpus-1, 1)},
		{"GOMAXPROCS wins", []string{fmt.Sprintf("GOMAXPROCS=%d", cpus)}, "postgres", cpus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := childEnv("ONECARD_DATA_DIR=" + t.TempDir())
			args := []string{"bench", "ledger", "--seconds", "1", "--json", "--clients", "8", "--accounts", "1000"}
			if tt.wantStore == "postgres" {
				args = append(args, "--db", localTestPostgres(t)) // bench makes a scratch schema of its own
			}
			code, out, errOut := runBinary(t, append(env, tt.env...), args...)
			var res struct {
				Store     string `json:"store"`
				Committed int64  `json:"committed"`
				CheckOK   bool   `json:"check_ok"`
				Procs     int    `json:"gomaxprocs"`
				CPUs      int    `json:"cpus"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("exit %d, stdout is not JSON (%v):\n%s%s", code, err, out, errOut)
			}
			if code != exitOK || !res.CheckOK || res.Committed == 0 || res.Store != tt.wantStore {
				t.Fatalf("exit %d, %+v\n%s", code, res, errOut)
			}
			if res.Procs != tt.wantProcs || res.CPUs != cpus {
				t.Errorf("the Go runtime ran on %d of %d CPUs, want %d of %d", res.Procs, res.CPUs, tt.wantProcs, cpus)
			}
		})
	}
}

// TestServeLeavesLocalPostgresACPU: serve on a PostgreSQL on this machine
// runs the Go runtime on one CPU fewer and says so in its log.
func TestServeLeavesLocalPostgresACPU(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary")
	}
	localTestPostgres(t)
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: there is none to leave")
	}
	dsn := storetest.DSN(t, store.Postgres)
	env := childEnv("ONECARD_DATA_DIR="+t.TempDir(), "ONECARD_ADMIN_PASSWORD=cpus-test-password")
	srv := startChild(t, env, "serve", "--db", dsn, "--addr", "127.0.0.1:0")
	srv.serving(time.Minute)
	got := waitForOutput(t, &srv.stderr, regexp.MustCompile(`leaves it a CPU.* gomaxprocs=(\d+)`), 10*time.Second, srv.exited)[1]
	if want := fmt.Sprint(runtime.NumCPU() - 1); got != want {
		t.Errorf("serve runs Go on %s CPUs, want %s", got, want)
	}
	if code := srv.stop(); code != 0 {
		t.Errorf("serve exited %d on SIGTERM", code)
	}
}

// localTestPostgres returns the test PostgreSQL's URL, or skips the test
// when there is none or it runs on another machine, where no CPU is left to
// it.
func localTestPostgres(t *testing.T) string {
	t.Helper()
	base := storetest.PostgresURL(t)
	if cfg, err := pgconn.ParseConfig(base); err != nil || !isLocalHost(cfg.Host) {
		t.Skip("ONECARD_TEST_POSTGRES names a server on another machine")
	}
	return base
}

// TestUnknownCommandBinary: the real binary exits 2 on an unknown command.
func TestUnknownCommandBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the real binary")
	}
	code, _, errOut := runBinary(t, childEnv(), "frobnicate")
	if code != exitUsage || !strings.Contains(errOut, "Usage:") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}
