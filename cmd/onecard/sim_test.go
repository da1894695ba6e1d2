package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSimCommandLine covers sim's usage: the simulations that exist, those
// that do not yet, and bad flags, all before any network call.
func TestSimCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"help lists sim", []string{"help"}, exitOK, "onecard sim lunch"},
		{"sim help", []string{"sim", "help"}, exitOK, "onecard sim pos --card NUMBER"},
		{"unknown simulation", []string{"sim", "cash"}, exitUsage, `unknown simulation "cash"`},
		{"pos -h", []string{"sim", "pos", "-h"}, exitOK, "-terminal"},
		{"pos without card", []string{"sim", "pos", "--amount", "12.50"}, exitUsage, "--card and --amount are required"},
		{"pos without amount", []string{"sim", "pos", "--card", "2021010001"}, exitUsage, "--card and --amount are required"},
		{"pos bad amount", []string{"sim", "pos", "--card", "2021010001", "--amount", "12.505"}, exitUsage, "at most two decimals"},
		{"pos zero amount", []string{"sim", "pos", "--card", "2021010001", "--amount", "0"}, exitUsage, "positive"},
		{"pos extra argument", []string{"sim", "pos", "now"}, exitUsage, `unexpected argument "now"`},
		{"lunch -h", []string{"sim", "lunch", "-h"}, exitOK, "-offline"},
		{"lunch offline share above 1", []string{"sim", "lunch", "--offline", "1.5"}, exitUsage, "--offline from 0 to 1"},
		{"lunch zero seconds", []string{"sim", "lunch", "--seconds", "0"}, exitUsage, "at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := mainIn(t, envOf(), tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
}

// TestSimNeedsADemoServer: against a server without --demo the simulator
// says it needs one, and the kit is not there to be had.
func TestSimNeedsADemoServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		Main(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, envOf("ONECARD_DATA_DIR", dir, "ONECARD_ADMIN_PASSWORD", "in-process-password"),
			&stdout, &stderr)
	}()
	defer func() {
		cancel()
		<-exited
	}()
	base := waitForOutput(t, &stdout, servingRE, time.Minute, exited)[1]

	resp, err := http.Get(base + "/demo/v1/kit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo/v1/kit without --demo: %d, want 404", resp.StatusCode)
	}
	code, _, errOut := mainIn(t, envOf(), "sim", "pos", "--server", base, "--state", t.TempDir(), "--card", "2021010001", "--amount", "1")
	if code != exitFailure || !strings.Contains(errOut, "serve --demo") {
		t.Errorf("sim pos against a server without --demo: exit %d\n%s", code, errOut)
	}
}
