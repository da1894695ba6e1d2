package main

import (
	"context"
	"fmt"
	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"io"
	"strings"

	"github.com/onecard-campus/onecard/sim"
)

const simUsage = `Usage: onecard sim pos|bath|kiosk|lunch|topup [--server URL] [--state DIR] [flags]

Drive the device API of an "onecard serve --demo" server with the demo school's terminals
and virtual cards, found from the server's address alone (it hands its demo kit to clients
on its own machine). The cards and terminals are kept in a state directory, default
~/.onecard-sim/HOST_PORT/, and evolve from run to run as real ones do.

Simulations:
  pos    one tap of a card at a canteen POS: the server's check, a claim of the
         transition balance, the purchase, the record's upload
         onecard sim pos --card NUMBER --amount 12.50 [--terminal CODE] [--pin PIN]
  bath   one bath at a water controller: pre-debit 1 yuan, the water, the write-back
         of the unused part, the record's upload (insert mode; key mode takes
         further pre-debits while the card stays in)
         onecard sim bath --card NUMBER [--mode insert|key] [--litres N | --seconds N] [--price FEN]
  kiosk  one action at a kiosk (圈存机): claim, load (圈存 from the bound bank card),
         bind, report-lost, unlock, pin
         onecard sim kiosk --card NUMBER claim
         onecard sim kiosk --card NUMBER load --amount 100
  lunch  a lunch rush: many POS at once, a share of them offline uploading later;
         prints what it spent and the rate and latency it saw
         onecard sim lunch --seconds N [--cards 2000] [--pos 120] [--offline 0.2] [--json]
  topup  a parent's top-up from the public page, paid at the sandbox gateway's
         checkout (serve --demo embeds it), until the money reaches the card
         onecard sim topup --name NAME --card NUMBER --amount 50 [--channel alipay|wechat]
`

// simCmd dispatches `onecard sim WHAT`.
func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, simUsage)
		return errUsage
	}
	switch args[0] {
	case "pos":
		return simPOS(ctx, args[1:], stdout, stderr)
	case "bath":
		return simBath(ctx, args[1:], stdout, stderr)
	case "kiosk":
		return simKiosk(ctx, args[1:], stdout, stderr)
	case "lunch":
		return simLunch(ctx, args[1:], stdout, stderr)
	case "topup":
		return simTopUp(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, simUsage)
		return nil
	}
	fmt.Fprintf(stderr, "onecard sim: unknown simulation %q\n\n%s", args[0], simUsage)
	return errUsage
}

// openSim opens the simulator's state for a server and says on stderr what
// it found worth telling.
func openSim(ctx context.Context, server, dir string, stderr io.Writer) (*sim.State, error) {
	st, err := sim.Open(ctx, server, dir)
	if err != nil {
		return nil, err
	}
	printNotes(st, stderr)
	return st, nil
}

// printNotes writes the state's notes since the last call.
func printNotes(st *sim.State, stderr io.Writer) {
	for _, n := range st.TakeNotes() {
		fmt.Fprintln(stderr, n)
	}
}

// explain adds what a person can do about a simulator failure.
func explain(err error) error {
	if err != nil && strings.Contains(err.Error(), "status 404") {
		return fmt.Errorf("%w\n(the server answers 404 to this device call: is --server a OneCard server of this version?)", err)
	}
	return err
}

// openSimCard opens the simulator's state, finds the demo card and picks
// the terminal: the one named, or the kit's first of the kind. The caller
// closes the state.
func openSimCard(ctx context.Context, server, dir string, stderr io.Writer, number, terminal string,
	kind onecard.TerminalKind, name string) (*sim.State, *sim.Card, string, error) {
	st, err := openSim(ctx, server, dir, stderr)
	if err != nil {
		return nil, nil, "", err
	}
	card, err := st.Card(number)
	if err != nil {
		st.Close()
		return nil, nil, "", err
	}
	if terminal == "" {
		ts := st.Terminals(kind)
		if len(ts) == 0 {
			st.Close()
			return nil, nil, "", fmt.Errorf("the demo kit has no %s", name)
		}
		terminal = ts[0].Code
	}
	return st, card, terminal, nil
}

// terminalLabel names a terminal for people: its code and its merchant.
func terminalLabel(code, merchant string) string {
	if merchant == "" {
		return code
	}
	return code + " (" + merchant + ")"
}

// uploadStatus says what became of a record's upload.
func uploadStatus(u *device.RecordResult, err error, queued int, where string) string {
	switch {
	case u == nil && err != nil:
		return fmt.Sprintf("failed, the record stays queued: %v", err)
	case u == nil:
		return fmt.Sprintf("queued (%d record(s) waiting at %s)", queued, where)
	case u.Status == device.RecordRejected:
		return fmt.Sprintf("rejected: %s: %s", u.Code, u.Message)
	case u.TransferID != 0:
		return fmt.Sprintf("%s (transfer %d)", u.Status, u.TransferID)
	}
	return u.Status
}

// landed reports whether a command's record reached the server and was
// not rejected; a failed upload is explained on stderr (the record stays
// queued at the terminal for its next upload or, for a bath, next bath).
func landed(stderr io.Writer, cmd, code, next string, u *device.RecordResult, err error) bool {
	if err != nil {
		fmt.Fprintf(stderr, "onecard %s: the record stays queued at %s for the next %s: %v\n", cmd, code, next, err)
		return false
	}
	return u == nil || u.Status != device.RecordRejected
}
