package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var simTopUpRE = regexp.MustCompile(`onecard sim topup --server (\S+) --school (\S+) --name (\S+) --card (\S+)`)

// TestTopUpAgainstServeDemo is a newcomer's first top-up: `serve --demo`
// embeds the sandbox gateway, `sim topup` pays through Alipay and WeChat
// Pay as a parent, the notifications credit the card, `sim pos` taps it;
// after a restart (the sandbox's keys kept) a top-up still goes through,
// and `check` passes.
func TestTopUpAgainstServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary and loads 1,000 demo cardholders")
	}
	dir := filepath.Join(t.TempDir(), "data")
	state := filepath.Join(t.TempDir(), "sim")
	env := childEnv("ONECARD_DATA_DIR="+dir, "HOME="+t.TempDir())

	server := startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base := server.serving(demoLoadTimeout)
	m := simTopUpRE.FindStringSubmatch(server.stdout.String())
	if m == nil || m[1] != base {
		t.Fatalf("serve --demo did not say how to top up:\n%s", server.stdout.String())
	}
	topUp := func(channel, amount string) {
		t.Helper()
		code, out, errOut := runBinary(t, env, "sim", "topup", "--server", base, "--school", m[2], "--name", m[3], "--card", m[4],
			"--amount", amount, "--channel", channel)
		if code != exitOK || !strings.Contains(out, "is credited") {
			t.Fatalf("sim topup %s: exit %d\n%s%s", channel, code, out, errOut)
		}
	}
	topUp("alipay", "50")
	topUp("wechat", "20.50")
	code, out, errOut := runBinary(t, env, "sim", "pos", "--server", base, "--state", state, "--card", m[4], "--amount", "12.50")
	if code != exitOK || !strings.Contains(out, "claim") || !strings.Contains(out, "upload          accepted") {
		t.Fatalf("sim pos after the top-ups: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runBinary(t, env, "sim", "topup", "--server", base, "--school", m[2], "--name", "not the holder", "--card", m[4], "--amount", "50")
	if code == exitOK || !strings.Contains(errOut, "not_found") {
		t.Fatalf("a top-up with the wrong name: exit %d\n%s%s", code, out, errOut)
	}

	if code := server.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	server = startChild(t, env, "serve", "--demo", "--addr", "127.0.0.1:0")
	base = server.serving(demoLoadTimeout)
	topUp("alipay", "10")
	if code := server.stop(); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	code, out, errOut = runBinary(t, env, "check", "--db", filepath.Join(dir, "onecard.db"))
	if code != exitOK || !strings.Contains(out, "OK:") {
		t.Fatalf("check after the top-ups: exit %d\n%s%s", code, out, errOut)
	}
}
