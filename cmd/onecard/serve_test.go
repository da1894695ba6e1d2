package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeInProcess runs serve inside the test (so the race detector
// watches it): it creates the data directory and secret privately, takes the
// administrator password from the environment without echoing it, answers,
// and stops cleanly when its context ends.
func TestServeInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const pass = "in-process-password"
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan struct{})
	var code int
	go func() {
		defer close(exited)
		code = Main(ctx, []string{"serve", "--addr", "127.0.0.1:0"},
			envOf("ONECARD_DATA_DIR", dir, "ONECARD_ADMIN_PASSWORD", pass), &stdout, &stderr)
	}()
	defer func() {
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}()
	base := waitForOutput(t, &stdout, servingRE, time.Minute, exited)[1]

	c := newAPIClient(base)
	c.must(t, "GET", "/healthz", nil, nil)
	c.loginOperator(t, "admin", pass)
	var schools struct{ Items []any }
	c.must(t, "GET", "/api/v1/schools", nil, &schools)
	if len(schools.Items) != 0 {
		t.Errorf("a fresh database without --demo has %d schools", len(schools.Items))
	}

	cancel()
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop after its context ended")
	}
	if code != exitOK || !strings.Contains(stderr.String(), "stopped") {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(stderr.String(), pass) || strings.Contains(stdout.String(), pass) {
		t.Error("the administrator password from the environment was printed")
	}
	if !strings.Contains(stderr.String(), "password from ONECARD_ADMIN_PASSWORD") {
		t.Error("serve did not say where the administrator password came from")
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "secret.key"): 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %v", path, st, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "onecard.db")); err != nil {
		t.Errorf("no default database: %v", err)
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		addr *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 80}, "http://127.0.0.1:80"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}, "http://[::1]:8080"},
	} {
		if got := baseURL(tc.addr); got != tc.want {
			t.Errorf("baseURL(%v) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}
