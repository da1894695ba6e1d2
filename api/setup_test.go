package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/api"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// env is a running API over a fresh store, with a platform admin logged in.
type env struct {
	t     *testing.T
	h     http.Handler
	admin string
	logs  *syncBuffer
	seq   int
}

// run runs fn once per store dialect (SQLite always, PostgreSQL when
// storetest's URL is set), each with a fresh database and server: the same
// suite, through HTTP only, against every database OneCard supports.
func run(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) { fn(t, newTestServer(t, dialect)) })
	}
}

// newTestServer starts the API over a real store and ledger and logs in the
// first administrator, changing the one-time password it must change first.
func newTestServer(t *testing.T, dialect string) *env {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	db := storetest.Open(t, dialect, store.Options{Logger: logger})
	l := ledger.New(db, ledger.Options{Logger: logger})
	t.Cleanup(func() { l.Close() }) // before the store closes: cleanups run last-in first-out
	h := api.New(api.Config{
		Schools: db, Cardholders: db, Cards: db, PINs: db, Auth: db, Operators: db,
		Merchants: db, Money: db, Terminals: db, Ledger: l, Accounts: db, Balances: db, Logger: logger,
	})
	e := &env{t: t, h: h, logs: logs}
	once, err := db.EnsureAdmin(context.Background(), "")
	if err != nil || once == "" {
		t.Fatalf("EnsureAdmin: %q, %v", once, err)
	}
	e.admin = e.loginOperator("admin", once)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return e
}

// response is what a client got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. body is sent as is when it is a string, as JSON
// otherwise, and not at all when nil.
func (e *env) do(method, path, token string, body any) *response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return &response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// ok sends a request that must succeed with want and decodes the answer.
func (e *env) ok(want int, method, path, token string, body any, out any) {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
}

// err decodes an error response, failing the test if it is not one.
func (r *response) err(t *testing.T) api.ErrorResponse {
	t.Helper()
	var e api.ErrorResponse
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("not an error response (%d): %s", r.status, r.body)
	}
	return e
}

// wantError checks status and code of an error response.
func (r *response) wantError(t *testing.T, status int, code string) api.ErrorResponse {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	e := r.err(t)
	if e.Code != code {
		t.Fatalf("code %q, want %q: %s", e.Code, code, r.body)
	}
	return e
}

func (e *env) name(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s%d", prefix, e.seq)
}

// loginOperator logs in and, if the account must change its password
// first, changes it, returning a token good for everything the role allows.
func (e *env) loginOperator(username, password string) string {
	e.t.Helper()
	var s onecard.Session
	e.ok(200, "POST", "/api/v1/auth/operator/login", "", map[string]string{"username": username, "password": password}, &s)
	if s.Operator != nil && s.Operator.MustChangePassword {
		e.ok(204, "POST", "/api/v1/operators/me/password", s.Token, map[string]string{"old": password, "new": password + "-changed"}, nil)
	}
	return s.Token
}

// school creates a school and returns it.
func (e *env) school() *onecard.School {
	e.t.Helper()
	var s onecard.School
	code := e.name("school")
	e.ok(201, "POST", "/api/v1/schools", e.admin, map[string]any{"code": code, "name": "University " + code}, &s)
	return &s
}

// operator creates an operator and returns a logged-in token.
func (e *env) operator(role onecard.Role, schoolID int64) string {
	e.t.Helper()
	username, password := e.name("op"), "initial-password-1"
	e.ok(201, "POST", "/api/v1/operators", e.admin, map[string]any{
		"username": username, "name": "Operator " + username, "role": role, "school_id": schoolID, "password": password,
	}, nil)
	return e.loginOperator(username, password)
}

// person is a registered cardholder with a card, and what they log in with.
type person struct {
	ID     int64
	School *onecard.School
	Number string
	PIN    string
	CardID int64
	Purse  int64 // account IDs
	Trans  int64
}

// cardholder registers a cardholder of school s and issues a card. The
// initial query PIN is the last six digits of the ID number (the default rule).
func (e *env) cardholder(s *onecard.School) *person {
	e.t.Helper()
	e.seq++
	number := fmt.Sprintf("2024%04d", e.seq)
	id := fmt.Sprintf("11010520000101%04d", e.seq)
	var ch onecard.Cardholder
	e.ok(201, "POST", fmt.Sprintf("/api/v1/schools/%d/cardholders", s.ID), e.admin, map[string]any{
		"number": number, "name": "张三", "kind": "student", "id_number": id,
	}, &ch)
	var c struct{ ID int64 }
	e.ok(201, "POST", fmt.Sprintf("/api/v1/cardholders/%d/cards", ch.ID), e.admin, nil, &c)
	return &person{ID: ch.ID, School: s, Number: number, PIN: id[len(id)-6:], CardID: c.ID,
		Purse: ch.PurseAccount, Trans: ch.TransitionAccount}
}

// login logs a cardholder in with the query PIN.
func (e *env) login(p *person) string {
	e.t.Helper()
	var s onecard.Session
	e.ok(200, "POST", "/api/v1/auth/cardholder/login", "", map[string]string{"school": p.School.Code, "number": p.Number, "pin": p.PIN}, &s)
	return s.Token
}

// deposit puts cash on a cardholder's transition balance.
func (e *env) deposit(p *person, amount int64) {
	e.t.Helper()
	e.ok(200, "POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", p.ID), e.admin,
		map[string]any{"key": e.name("dep"), "amount": amount}, nil)
}

// balance is what the service hall sees as a cardholder's balance.
func (e *env) balance(p *person) onecard.Balance {
	e.t.Helper()
	var d struct{ Balance onecard.Balance }
	e.ok(200, "GET", fmt.Sprintf("/api/v1/cardholders/%d", p.ID), e.admin, nil, &d)
	return d.Balance
}

// cardState is the state word of a card, as the service hall sees it.
func (e *env) cardState(id int64) string {
	e.t.Helper()
	var c struct{ State string }
	e.ok(200, "GET", fmt.Sprintf("/api/v1/cards/%d", id), e.admin, nil, &c)
	return c.State
}

// merchant creates a merchant of school s.
func (e *env) merchant(s *onecard.School) *onecard.Merchant {
	e.t.Helper()
	var m onecard.Merchant
	e.ok(201, "POST", fmt.Sprintf("/api/v1/schools/%d/merchants", s.ID), e.admin,
		map[string]any{"code": e.name("m"), "name": "一食堂", "kind": "canteen"}, &m)
	return &m
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mustJSON marshals v for assertions about what a response contains.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
