package main

import (
	"context"
	"fmt"
	"io"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sim"
)

// simBath is `onecard sim bath`: one bath of a demo card at a demo water
// controller, in insert-and-remove or key mode (seed 001 Part 04). A bath
// that does not end with its record accepted exits 1.
func simBath(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var server, dir, number, terminal, mode string
	var litres, seconds, price int64
	flags := newFlagSet("sim bath", "onecard sim bath [--server URL] [--state DIR] --card NUMBER [--terminal bath-01] "+
		"[--mode insert|key] [--litres N | --seconds N] [--price FEN]", stderr)
	flags.StringVar(&server, "server", sim.DefaultServer, "base URL of an `onecard serve --demo` server")
	flags.StringVar(&dir, "state", "", "the simulator's state directory (default ~/.onecard-sim/HOST_PORT)")
	flags.StringVar(&number, "card", "", "the card number (or UID) of a demo card, e.g. 2021010001")
	flags.StringVar(&terminal, "terminal", "", "the water controller, e.g. bath-02 (default: the kit's first)")
	flags.StringVar(&mode, "mode", sim.ModeInsert, "insert (insert to start, insert again to stop) or key (the card stays in, double press to finish)")
	flags.Int64Var(&litres, "litres", 0, "the water to run, in litres (default 20 when neither --litres nor --seconds is given)")
	flags.Int64Var(&seconds, "seconds", 0, "the water to run, in seconds, for a controller priced by the second")
	flags.Int64Var(&price, "price", 0, "the controller's price in fen per litre, or per second with --seconds (default 3 per litre, 1 per second)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	usage := func(format string, args ...any) error {
		fmt.Fprintf(stderr, "onecard sim bath: "+format+"\n", args...)
		return errUsage
	}
	unit, units := sim.UnitLitre, litres
	switch {
	case number == "":
		return usage("--card is required")
	case mode != sim.ModeInsert && mode != sim.ModeKey:
		return usage("--mode is insert or key, not %q", mode)
	case litres != 0 && seconds != 0:
		return usage("give --litres or --seconds, not both")
	case litres < 0 || seconds < 0 || price < 0:
		return usage("--litres, --seconds and --price must be positive")
	case seconds > 0:
		unit, units = sim.UnitSecond, seconds
	case litres == 0:
		units = 20
	}
	if price == 0 {
		price = map[string]int64{sim.UnitLitre: sim.DefaultPrice, sim.UnitSecond: 1}[unit]
	}

	st, card, terminal, err := openSimCard(ctx, server, dir, stderr, number, terminal, onecard.TerminalBath, "water controller")
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := st.Bath(ctx, terminal, price, unit)
	if err != nil {
		return explain(err)
	}
	r, err := b.Session(ctx, card, mode, units)
	printNotes(st, stderr)
	if r != nil {
		printBath(stdout, b, r)
	}
	switch {
	case err != nil:
		return explain(err)
	case r.Refused != "":
		if card.Purse.Balance == 0 {
			fmt.Fprintf(stderr, "Card %s has nothing on it: a bath is paid from the card balance, not the account.\n"+
				"Move the transition balance onto the card first with a claim at a kiosk (a purchase at a\n"+
				"canteen POS, onecard sim pos, claims it too):\n  onecard sim kiosk --server %s --card %s claim\n",
				card.Number(), st.Server, card.Number())
		}
		return errFailed
	case !landed(stderr, "sim bath", b.Code, "bath", r.Upload, r.UploadErr):
		return errFailed
	}
	return nil
}

// printBath writes a bath's story for people.
func printBath(w io.Writer, b *sim.Bath, r *sim.BathResult) {
	fmt.Fprintf(w, "Bath of card %s at %s, %s mode, %s per %s\n", r.Card, terminalLabel(b.Code, b.Merchant), r.Mode,
		onecard.Yuan(r.Price), r.Unit)
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-15s %s\n", label, fmt.Sprintf(format, args...))
	}
	if e := r.Earlier; e != nil {
		line("earlier bath", "left open here by an earlier run: settled first, %s used, %s written back",
			onecard.Yuan(e.Used), onecard.Yuan(e.WrittenBack))
	}
	line("balance before", "%s", onecard.Yuan(r.Before))
	if r.Refused != "" {
		line("refused", "%s", r.Refused)
		return
	}
	for i, p := range r.PreDebits {
		label := "pre-debit"
		if len(r.PreDebits) > 1 {
			label = fmt.Sprintf("pre-debit %d", i+1)
		}
		line(label, "%s", onecard.Yuan(p))
	}
	water := fmt.Sprintf("%d %s(s)", r.Units, r.Unit)
	if r.Stopped != "" {
		water += fmt.Sprintf(" of %d asked: the water stopped, %s", r.Asked, r.Stopped)
	}
	line("water", "%s", water)
	line("used", "%s", onecard.Yuan(r.Used))
	line("written back", "%s", onecard.Yuan(r.WrittenBack))
	if rec := r.Record; rec != nil {
		line("record", "compound, seq %d, card counter %d, TAC %s", rec.TerminalSeq, rec.Counter, rec.TAC)
		line("upload", "%s", uploadStatus(r.Upload, r.UploadErr, b.Queued(), "this controller"))
	} else {
		line("record", "none: no water was used")
	}
	line("balance after", "%s", onecard.Yuan(r.After))
}
