package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sim"
)

const simKioskSynopsis = `onecard sim kiosk [--server URL] [--state DIR] [--terminal kiosk-01] --card NUMBER ACTION [flags]

Actions (seed 001 Parts 02, 03, 06 and 07):
  claim        move the transition balance onto the card
  load         圈存 from the bound bank card: --amount YUAN (at most 500 a day)
  bind         bind or rebind the bank card: --bank 交通银行 --card-number N --name NAME --id-number ID [--pin]
  report-lost  report the card lost with the query PIN [--pin]
  unlock       lift the loss report with the query PIN [--pin]
  pin          change a PIN: --kind query|consumption --new PIN [--old PIN]
--pin and --old default to the holder's initial PIN, from the kit.`

// simKiosk is `onecard sim kiosk`: one action of a demo card at a demo
// kiosk (圈存机). The server's refusals are printed with its message and
// exit 1.
func simKiosk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var server, dir, number, terminal, amountText, bank, bankCard, name, idNumber, pin, kind, oldPIN, newPIN string
	flags := newFlagSet("sim kiosk", simKioskSynopsis, stderr)
	flags.StringVar(&server, "server", sim.DefaultServer, "base URL of an `onecard serve --demo` server")
	flags.StringVar(&dir, "state", "", "the simulator's state directory (default ~/.onecard-sim/HOST_PORT)")
	flags.StringVar(&number, "card", "", "the card number (or UID) of a demo card, e.g. 2021010001")
	flags.StringVar(&terminal, "terminal", "", "the kiosk, e.g. kiosk-02 (default: the kit's first)")
	flags.StringVar(&amountText, "amount", "", "load: the amount in yuan, e.g. 100")
	flags.StringVar(&bank, "bank", "交通银行", "bind: the bank")
	flags.StringVar(&bankCard, "card-number", "", "bind: the bank card's number")
	flags.StringVar(&name, "name", "", "bind: the holder's name, as registered (the kit does not carry it)")
	flags.StringVar(&idNumber, "id-number", "", "bind: the holder's ID number, as registered (the kit does not carry it)")
	flags.StringVar(&pin, "pin", "", "bind, report-lost, unlock: the query PIN (default: the initial PIN)")
	flags.StringVar(&kind, "kind", "", "pin: query or consumption")
	flags.StringVar(&oldPIN, "old", "", "pin: the current PIN (default: the initial PIN)")
	flags.StringVar(&newPIN, "new", "", "pin: the new PIN, six digits")
	action, err := parseWithAction(flags, args)
	if err != nil {
		return err
	}
	usage := func(format string, args ...any) error {
		fmt.Fprintf(stderr, "onecard sim kiosk: "+format+"\n", args...)
		return errUsage
	}
	var amount int64
	switch {
	case action == "":
		flags.Usage()
		return usage("name an action: claim, load, bind, report-lost, unlock or pin")
	case number == "":
		return usage("--card is required")
	case action == "load":
		if amount, err = onecard.ParseYuan(amountText); err == nil && amount <= 0 {
			err = onecard.Errorf(onecard.EINVALID, "The amount must be positive.")
		}
		if err != nil {
			return usage("load --amount: %s", onecard.ErrorMessage(err))
		}
	case action == "bind" && (bankCard == "" || name == "" || idNumber == ""):
		return usage("bind needs --card-number, --name and --id-number: the server checks the name and ID number against the holder's")
	case action == "pin" && !onecard.PINKind(kind).Valid():
		return usage("pin needs --kind query or --kind consumption")
	case action == "pin" && newPIN == "":
		return usage("pin needs --new")
	case !strings.Contains(" claim load bind report-lost unlock pin ", " "+action+" "):
		return usage("unknown action %q: claim, load, bind, report-lost, unlock or pin", action)
	}

	st, card, terminal, err := openSimCard(ctx, server, dir, stderr, number, terminal, onecard.TerminalKiosk, "kiosk")
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := st.Kiosk(ctx, terminal)
	if err != nil {
		return explain(err)
	}
	if pin == "" {
		pin = card.PIN
	}
	if oldPIN == "" {
		oldPIN = card.PIN
	}
	do := kioskAction{k: k, card: card, st: st, out: stdout}
	switch action {
	case "claim", "load":
		err = do.load(ctx, action, amount)
	case "bind":
		err = do.bind(ctx, pin, sim.BankCard{Bank: bank, Number: bankCard, HolderName: name, IDNumber: idNumber})
	case "report-lost":
		err = do.reportLost(ctx, pin)
	case "unlock":
		err = do.unlock(ctx, pin)
	case "pin":
		err = do.changePIN(ctx, onecard.PINKind(kind), oldPIN, newPIN)
	}
	printNotes(st, stderr)
	var refused *onecard.Error
	if errors.As(err, &refused) {
		fmt.Fprintf(stderr, "onecard sim kiosk: %s at %s: refused: %s: %s\n", action, k.Code, refused.Code, refused.Message)
		if hint := kioskHint(st, card, action, refused); hint != "" {
			fmt.Fprintln(stderr, hint)
		}
		return errFailed
	}
	return explain(err)
}

// parseWithAction parses flags before and after the one positional
// argument, the action, which it returns ("" if none).
func parseWithAction(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errUsage // the flag package has printed the problem and the usage
	}
	if fs.NArg() == 0 {
		return "", nil
	}
	action := fs.Arg(0)
	return action, parseFlags(fs, fs.Args()[1:])
}
