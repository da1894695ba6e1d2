package main

import (
	"strings"
	"testing"

	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestSimKiosk runs `sim kiosk`: its usage errors, a bank load refused
// with how to bind, a loss report that the kiosk then refuses the card
// for, the unlock, and a PIN change.
func TestSimKiosk(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no action", []string{"--card", "1"}, "name an action"},
		{"unknown action", []string{"--card", "1", "fly"}, `unknown action "fly"`},
		{"load without amount", []string{"--card", "1", "load"}, "load --amount"},
		{"bind without ID", []string{"--card", "1", "bind", "--card-number", "6222020000000000018", "--name", "王小明"}, "--id-number"},
		{"pin without kind", []string{"pin", "--card", "1", "--new", "123456"}, "--kind query"},
		{"two actions", []string{"--card", "1", "claim", "unlock"}, `unexpected argument "unlock"`},
	} {
		code, out, errOut := mainIn(t, envOf(), append([]string{"sim", "kiosk"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%s: exit %d, lacks %q\n%s%s", tc.name, code, tc.want, out, errOut)
		}
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url, info := simServer(t, db)
		state := t.TempDir()
		for _, step := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"load", "--amount", "100"}, exitFailure, "bind --bank 交通银行"},
			{[]string{"report-lost", "--pin", "000000"}, exitFailure, "refused: "},
			{[]string{"report-lost"}, exitOK, "reported lost at kiosk-01"},
			{[]string{"claim", "--terminal", "kiosk-02"}, exitFailure, "refused: card_blocked"},
			{[]string{"unlock"}, exitOK, "unlocked at kiosk-01"},
			{[]string{"claim"}, exitOK, "claimed"},
			{[]string{"claim"}, exitOK, "no transition balance to claim"},
			{[]string{"pin", "--kind", "consumption", "--new", "135790"}, exitOK, "the consumption PIN is changed"},
		} {
			code, out, errOut := mainIn(t, envOf(), append([]string{"sim", "kiosk", "--server", url, "--state", state,
				"--card", info.SampleNumber}, step.args...)...)
			if code != step.code || !strings.Contains(out+errOut, step.want) {
				t.Fatalf("sim kiosk %v: exit %d (want %d), lacks %q\n%s%s", step.args, code, step.code, step.want, out, errOut)
			}
		}
	})
}
