package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
)

// envOf returns a getenv over a fixed map, so tests never read the real
// environment.
func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// mainIn runs Main in-process and returns the exit status and output.
func mainIn(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	code = Main(context.Background(), args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandLine covers the usage contract: help, unknown commands and bad
// flags.
func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"no command", nil, exitUsage, "Usage:"},
		{"help", []string{"help"}, exitOK, "bench ledger"},
		{"-h", []string{"-h"}, exitOK, "onecard check"},
		{"--help", []string{"--help"}, exitOK, "onecard serve"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"sim without simulation", []string{"sim"}, exitUsage, "onecard sim pos"},
		{"serve -h", []string{"serve", "-h"}, exitOK, "-addr"},
		{"serve bad flag", []string{"serve", "--bogus"}, exitUsage, "-bogus"},
		{"serve extra argument", []string{"serve", "now"}, exitUsage, `unexpected argument "now"`},
		{"serve bad trusted proxy", []string{"serve", "--trusted-proxies", "10.0.0.0/33"}, exitUsage, `trusted proxies "10.0.0.0/33"`},
		{"check -h", []string{"check", "--help"}, exitOK, "-db"},
		{"bench without benchmark", []string{"bench"}, exitUsage, "onecard bench ledger"},
		{"bench unknown benchmark", []string{"bench", "disk"}, exitUsage, `unknown benchmark "disk"`},
		{"bench ledger -h", []string{"bench", "ledger", "-h"}, exitOK, "-per-request"},
		{"bench ledger zero seconds", []string{"bench", "ledger", "--seconds", "0"}, exitUsage, "at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := mainIn(t, envOf(), tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, tc := range []struct {
		name, in string
		want     []byte // nil: an error
	}{
		{"hex", hex.EncodeToString(key), key},
		{"hex with newline", hex.EncodeToString(key) + "\n", key},
		{"base64", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=", key},
		{"raw base64url", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s", key},
		{"too short", hex.EncodeToString(key[:31]), nil},
		{"neither", "not a secret at all!", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSecret(tc.in)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("want an error, got %x", got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %x, %v", got, err)
			}
		})
	}
}

// TestSecretFile: the first start creates a private secret file, later
// starts (and processes racing the first) read the same secret, and
// ONECARD_SECRET wins over the file.
func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, found, err := readSecret(dir, envOf()); found || err != nil {
		t.Fatalf("empty dir: found %v, %v", found, err)
	}
	secrets := make([][]byte, 4)
	var created sync.Map
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, c, err := createSecret(dir)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
			created.Store(i, c)
		}()
	}
	wg.Wait()
	n := 0
	created.Range(func(_, c any) bool {
		if c.(bool) {
			n++
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d processes think they created the secret", n)
	}
	for _, s := range secrets[1:] {
		if len(s) != 32 || !bytes.Equal(s, secrets[0]) {
			t.Fatalf("racing starts disagree: %x vs %x", s, secrets[0])
		}
	}
	st, err := os.Stat(secretPath(dir))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	got, from, found, err := readSecret(dir, envOf())
	if err != nil || !found || from != secretPath(dir) || !bytes.Equal(got, secrets[0]) {
		t.Fatalf("reread: %x from %s, %v, %v", got, from, found, err)
	}
	env := strings.Repeat("cd", 32)
	got, from, _, err = readSecret(dir, envOf("ONECARD_SECRET", env))
	if err != nil || from != "ONECARD_SECRET" || hex.EncodeToString(got) != env {
		t.Fatalf("env secret: %x from %s, %v", got, from, err)
	}
	if _, _, _, err := readSecret(dir, envOf("ONECARD_SECRET", "short")); err == nil {
		t.Fatal("a short ONECARD_SECRET was accepted")
	}
	os.WriteFile(secretPath(dir), []byte("garbage"), 0o600)
	if _, _, _, err := readSecret(dir, envOf()); err == nil {
		t.Fatal("an unreadable secret file was accepted (it must never be silently replaced)")
	}
}

// TestCheck runs `onecard check` in-process on a clean ledger, then on one
// whose balance was changed behind the journal's back.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "check.db")
	if code, _, errOut := mainIn(t, envOf(), "check", "--db", path); code != exitFailure || !strings.Contains(errOut, "no database") {
		t.Fatalf("missing database: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("check created the database it was asked to check")
	}

	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{Secret: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var a, b int64
	err = db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = tx.CreateAccount(ctx, store.AccountSpec{Kind: store.KindBench, Floor: ledger.NoFloor, Ceiling: ledger.NoCeiling}); err != nil {
			return err
		}
		b, err = tx.CreateAccount(ctx, store.AccountSpec{Kind: store.KindBench, Floor: 0, Ceiling: ledger.NoCeiling})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(db, ledger.Options{})
	out, err := led.Submit(ctx, []ledger.Transfer{{Key: "t1", Debit: a, Credit: b, Amount: 100, Code: "test"}})
	led.Close()
	if err != nil || out[0].Result != ledger.OK {
		t.Fatalf("transfer: %v, %v", out, err)
	}

	// Check needs no secret: there is none in this data directory.
	code, stdout, errOut := mainIn(t, envOf("ONECARD_DATA_DIR", dir), "check", "--db", path)
	if code != exitOK || !strings.Contains(stdout, "OK:") || !strings.Contains(stdout, "transfers: 1") {
		t.Fatalf("clean ledger: exit %d\n%s%s", code, stdout, errOut)
	}
	if err := db.ExecRaw(ctx, `UPDATE accounts SET balance = balance + 1 WHERE id = ?`, b); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut = mainIn(t, envOf(), "check", "--db", path)
	if code != exitFailure || !strings.Contains(stdout, "FAILED") || !strings.Contains(stdout, "  - ") {
		t.Fatalf("tampered ledger: exit %d\n%s%s", code, stdout, errOut)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and readers in different
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
