package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/sim"
)

// kioskAction runs one `sim kiosk` action and prints what happened.
type kioskAction struct {
	k    *sim.Kiosk
	card *sim.Card
	st   *sim.State
	out  io.Writer
}

// load is claim (amount 0: what the server offers) or 圈存 of amount fen.
func (a kioskAction) load(ctx context.Context, action string, amount int64) error {
	var r *sim.LoadResult
	var err error
	if action == "claim" {
		r, err = a.k.Claim(ctx, a.card)
	} else {
		r, err = a.k.BankLoad(ctx, a.card, amount)
	}
	if r != nil && r.Refused != nil {
		return r.Refused
	}
	if err != nil && (r == nil || r.Amount == 0) {
		return err
	}
	switch {
	case r.Amount == 0:
		fmt.Fprintf(a.out, "Card %s at %s: no transition balance to claim; the card holds %s.\n", a.card.Number(), a.k.Code, onecard.Yuan(r.After))
	case r.Kind == device.LoadClaim:
		fmt.Fprintf(a.out, "Card %s at %s: claimed %s from the transition balance onto the card: %s → %s (load %d, TAC %s).\n",
			a.card.Number(), a.k.Code, onecard.Yuan(r.Amount), onecard.Yuan(r.Before), onecard.Yuan(r.After), r.Counter, r.TAC)
	default:
		fmt.Fprintf(a.out, "Card %s at %s: 圈存 %s from the bound bank card onto the card: %s → %s (load %d, TAC %s).\n",
			a.card.Number(), a.k.Code, onecard.Yuan(r.Amount), onecard.Yuan(r.Before), onecard.Yuan(r.After), r.Counter, r.TAC)
	}
	return err // a load on the card whose confirmation failed
}

func (a kioskAction) bind(ctx context.Context, pin string, bc sim.BankCard) error {
	b, err := a.k.BindBank(ctx, a.card, pin, bc)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Card %s at %s: %s %s bound for 圈存 (via %s).\n", a.card.Number(), a.k.Code, b.Bank, b.CardMasked, b.BoundVia)
	return nil
}

func (a kioskAction) reportLost(ctx context.Context, pin string) error {
	if _, err := a.k.ReportLost(ctx, a.card, pin); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Card %s reported lost at %s: terminals refuse it once they pull the blacklist.\n"+
		"Found again? onecard sim kiosk --server %s --card %s unlock\n", a.card.Number(), a.k.Code, a.st.Server, a.card.Number())
	return nil
}

func (a kioskAction) unlock(ctx context.Context, pin string) error {
	if _, err := a.k.Unlock(ctx, a.card, pin); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Card %s unlocked at %s: the loss report is lifted.\n", a.card.Number(), a.k.Code)
	if a.card.Purse.Blacklisted {
		fmt.Fprintln(a.out, "The chip itself stays locked (a POS set its blacklist flag while it was lost): only the card center clears it.")
	}
	return nil
}

func (a kioskAction) changePIN(ctx context.Context, kind onecard.PINKind, old, new string) error {
	if _, err := a.k.ChangePIN(ctx, a.card, kind, old, new); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Card %s at %s: the %s PIN is changed.\n", a.card.Number(), a.k.Code, kind)
	if kind == onecard.ConsumptionPIN {
		fmt.Fprintln(a.out, "The kit keeps the initial PIN: give the new one to onecard sim pos --pin.")
	}
	return nil
}

// kioskHint says what to do about a refusal, "" if nothing useful.
func kioskHint(st *sim.State, card *sim.Card, action string, e *onecard.Error) string {
	switch {
	case action == "load" && e.Code == onecard.ECONFLICT && strings.Contains(e.Message, "bank card is bound"):
		return fmt.Sprintf("Bind the holder's bank card first (the name and ID number as registered):\n"+
			"  onecard sim kiosk --server %s --card %s bind --bank 交通银行 --card-number NUMBER --name NAME --id-number ID",
			st.Server, card.Number())
	case e.Code == onecard.ECARDBLOCKED && action != "unlock":
		return fmt.Sprintf("If the card was reported lost: onecard sim kiosk --server %s --card %s unlock", st.Server, card.Number())
	}
	return ""
}
