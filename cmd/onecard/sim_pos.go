package main

import (
	"context"
	"fmt"
	"io"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/sim"
)

// simPOS is `onecard sim pos`: one tap of a demo card at a demo POS, with
// what the card, the terminal and the server made of it. A tap that does
// not end with the record accepted exits 1.
func simPOS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var server, dir, number, amountText, terminal, pin string
	flags := newFlagSet("sim pos", "onecard sim pos [--server URL] [--state DIR] --card NUMBER --amount YUAN [--terminal CODE] [--pin PIN]", stderr)
	flags.StringVar(&server, "server", sim.DefaultServer, "base URL of an `onecard serve --demo` server")
	flags.StringVar(&dir, "state", "", "the simulator's state directory (default ~/.onecard-sim/HOST_PORT)")
	flags.StringVar(&number, "card", "", "the card number (or UID) of a demo card, e.g. 2021010001")
	flags.StringVar(&amountText, "amount", "", "the amount in yuan, e.g. 12.50")
	flags.StringVar(&terminal, "terminal", "", "the POS, e.g. canteen2-pos-07 (default: the kit's first POS)")
	flags.StringVar(&pin, "pin", "", "the consumption PIN to type if the server asks (default: the holder's initial PIN, from the kit)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if number == "" || amountText == "" {
		fmt.Fprintln(stderr, "onecard sim pos: --card and --amount are required")
		flags.Usage()
		return errUsage
	}
	amount, err := onecard.ParseYuan(amountText)
	if err == nil && amount == 0 {
		err = onecard.Errorf(onecard.EINVALID, "The amount must be positive.")
	}
	if err != nil {
		fmt.Fprintf(stderr, "onecard sim pos: --amount: %s\n", onecard.ErrorMessage(err))
		return errUsage
	}

	st, card, terminal, err := openSimCard(ctx, server, dir, stderr, number, terminal, onecard.TerminalPOS, "POS")
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.POS(ctx, terminal)
	if err != nil {
		return explain(err)
	}
	if pin == "" {
		pin = card.PIN
	}
	r, err := p.Tap(ctx, card, amount, pin)
	printNotes(st, stderr)
	if r != nil {
		printTap(stdout, p, r)
	}
	switch {
	case err != nil:
		return explain(err)
	case r.Decision != device.Approve:
		return errFailed
	case !landed(stderr, "sim pos", p.Code, "upload", r.Upload, r.UploadErr):
		return errFailed
	}
	return nil
}

// printTap writes a tap's story for people.
func printTap(w io.Writer, p *sim.POS, r *sim.TapResult) {
	fmt.Fprintf(w, "Card %s at %s, %s\n", r.Card, terminalLabel(p.Code, p.Merchant), onecard.Yuan(r.Amount))
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-15s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("balance before", "%s", onecard.Yuan(r.Before))
	if a := r.Abandoned; a != nil {
		line("set aside", "an unfinished purchase of %s (seq %d) that the card cannot confirm any more", onecard.Yuan(a.Amount), a.Seq)
	}
	if r.Claim > 0 {
		line("claim", "%s loaded onto the card from the transition balance", onecard.Yuan(r.Claim))
	}
	if r.PINAsked {
		line("PIN", "asked for by the server, typed")
	}
	switch r.Decision {
	case device.Approve:
		line("decision", "approve")
	case device.Refuse:
		line("decision", "refuse by the %s: %s: %s", r.RefusedBy, r.Code, r.Message)
	case device.PINRequired:
		line("decision", "pin_required: %s (no PIN known; give --pin)", r.Message)
	case "":
		line("decision", "none: the tap failed")
	default:
		line("decision", "%s", r.Decision)
	}
	if r.LockedCard {
		line("card", "locked by the POS (blacklist flag set)")
	}
	if rec := r.Record; rec != nil {
		how := ""
		if r.Recovered {
			how = ", recovered: the purchase an earlier tap lost the answer of; nothing charged again"
		}
		line("record", "seq %d, card counter %d, TAC %s%s", rec.TerminalSeq, rec.Counter, rec.TAC, how)
		line("upload", "%s", uploadStatus(r.Upload, r.UploadErr, p.Queued(), "this POS"))
	}
	line("balance after", "%s", onecard.Yuan(r.After))
}
