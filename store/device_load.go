package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
)

// Transfer codes of loads onto cards.
const (
	codeClaim        = "claim"         // transition balance → purse
	codeCashLoad     = "cash_load"     // the school's cash → purse
	codeBankLoad     = "bank_load"     // bank clearing → purse
	codeLoadReversal = "load_reversal" // purse → where a load that never reached the card came from
)

// States of a load in device_loads.
const (
	loadPending   = "pending"
	loadConfirmed = "confirmed"
	loadReversed  = "reversed"
)

// Rules of loads.
const (
	cashLoadNote    = 10_00   // the smallest note a cash machine takes
	cashLoadLargest = 1000_00 // the most one cash load may carry
)

// deviceLoad is a row of device_loads.
type deviceLoad struct {
	id, cardID, holderID int64
	counter              uint16
	kind                 string
	amount               int64
	terminalID           int64
	init                 purse.LoadInit
	mac2                 purse.MAC
	at                   time.Time
	state                string
	transferKey          string
	reverseKey           string
}

const deviceLoadColumns = `id, card_id, cardholder_id, counter, kind, amount, terminal_id, init, mac2, authorised_at, state,
	transfer_key, reverse_key`

func scanDeviceLoad(r scanner) (*deviceLoad, error) {
	l := &deviceLoad{}
	var counter, at int64
	var init, mac2 string
	if err := r.Scan(&l.id, &l.cardID, &l.holderID, &counter, &l.kind, &l.amount, &l.terminalID, &init, &mac2, &at, &l.state,
		&l.transferKey, &l.reverseKey); err != nil {
		return nil, err
	}
	l.counter, l.at = uint16(counter), fromMicro(at)
	if err := json.Unmarshal([]byte(init), &l.init); err != nil {
		return nil, fmt.Errorf("store: load %d: bad init: %w", l.id, err)
	}
	if err := l.mac2.UnmarshalText([]byte(mac2)); err != nil {
		return nil, fmt.Errorf("store: load %d: bad mac2: %w", l.id, err)
	}
	return l, nil
}

// AuthorizeLoad implements device.Backend: a POS or kiosk claiming the
// transition balance, a cash machine loading notes, a kiosk loading from
// the bound bank card (圈存). Called by the device API's POST
// /device/v1/loads.
//
// The card's MAC1 is checked first (EINVALID). Then, in one transaction
// with the ledger head locked: loads the card's counter shows done are
// confirmed; the same init again returns the stored MAC2 and time and
// moves nothing (a different init for a load still awaiting its
// confirmation is ECONFLICT: the next tap settles it); the card must be
// usable, except that a card frozen for arrears still takes loads, which
// pay the arrears off (ECARDBLOCKED); the balance after the load must fit
// under the school's purse ceiling (ELIMIT); a claim needs that much
// transition balance (EINSUFFICIENT), a bank load the school's daily bank
// limit, shared with bank top-ups (TopUpRules.BankDailyLimit, ELIMIT);
// then the money moves onto the purse shadow and the load is recorded as
// pending with its MAC2. Which terminals may load what:
// claims at a POS or kiosk, cash at a cash machine, bank at a kiosk
// (EFORBIDDEN).
func (db *DB) AuthorizeLoad(ctx context.Context, t *onecard.Terminal, req *device.LoadRequest) (*device.LoadAuthorization, error) {
	if err := checkLoadKind(t, req); err != nil {
		return nil, err
	}
	if req.Init.Counter == ^uint16(0) {
		return nil, purse.ErrCounter
	}
	is, err := db.PurseIssuer(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	if _, err := is.AuthorizeLoad(req.UID, &req.Init, req.Amount, purse.TerminalID(t.ID), time.Unix(0, 0)); err != nil {
		return nil, err
	}
	var out *device.LoadAuthorization
	err = db.WriteGrouped(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		pc, err := findPurseCard(ctx, tx, tx.forUpdate(), t.SchoolID, req.UID)
		if err != nil {
			return err
		}
		if err := tx.settleLoads(ctx, pc, req.Init.Counter, false); err != nil {
			return err
		}
		counter := req.Init.Counter + 1
		if l, err := tx.activeLoad(ctx, pc.card.ID, counter); err != nil {
			return err
		} else if l != nil {
			if l.init != req.Init || l.kind != req.Kind || l.amount != req.Amount || l.terminalID != t.ID {
				return onecard.Errorf(onecard.ECONFLICT, "Load %d of this card was authorised for another request and awaits its confirmation; tap the card to settle it.", counter)
			}
			out = &device.LoadAuthorization{MAC2: l.mac2, Time: l.at}
			return nil
		}
		if err := loadable(pc); err != nil {
			return err
		}
		s, err := tx.school(ctx, pc.card.SchoolID)
		if err != nil {
			return err
		}
		if req.Init.Balance+req.Amount > s.Settings.PurseCeiling {
			return onecard.Errorf(onecard.ELIMIT, "The card holds %s; %s more would take it over its ceiling of %s.",
				onecard.Yuan(req.Init.Balance), onecard.Yuan(req.Amount), onecard.Yuan(s.Settings.PurseCeiling))
		}
		from, code, memo := int64(0), "", ""
		switch req.Kind {
		case device.LoadClaim:
			from, code, memo = pc.holder.TransitionAccount, codeClaim, "claim onto the card at "+t.Name
			a, err := tx.Accounts(ctx, []int64{from})
			if err != nil {
				return err
			}
			if avail := a[from].Balance - a[from].DebitsPending; avail < req.Amount {
				return onecard.Errorf(onecard.EINSUFFICIENT, "The transition balance is %s; it cannot put %s onto the card.",
					onecard.Yuan(avail), onecard.Yuan(req.Amount))
			}
		case device.LoadCash:
			if from, err = tx.systemAccount(ctx, pc.card.SchoolID, KindCash); err != nil {
				return err
			}
			code, memo = codeCashLoad, "cash at "+t.Name
		case device.LoadBank:
			if from, err = tx.systemAccount(ctx, pc.card.SchoolID, KindClearingBank); err != nil {
				return err
			}
			// 圈存 comes from the bank card bound to the card (seed 001 Part 02).
			var bank, masked string
			err := tx.queryRow(ctx, `SELECT bank, card_masked FROM bank_bindings WHERE cardholder_id = ?`, pc.holder.ID).Scan(&bank, &masked)
			if errors.Is(err, sql.ErrNoRows) {
				return onecard.Errorf(onecard.ECONFLICT, "No bank card is bound to this card. Bind one at a kiosk first.")
			} else if err != nil {
				return fmt.Errorf("store: unable to load bank binding: %w", err)
			}
			code, memo = codeBankLoad, bank+" "+masked+" at "+t.Name
			// Seed 001 Part 03: 圈存 and app bank top-ups share one daily limit.
			today, err := tx.bankMoneySince(ctx, pc.holder.ID, s.Settings.DayStart(tx.now))
			if err != nil {
				return err
			}
			if limit := s.Settings.TopUp.BankDailyLimit; today+req.Amount > limit {
				return onecard.Errorf(onecard.ELIMIT, "Money from the bank card today (kiosk loads and bank top-ups) would come to %s, above the daily limit of %s.",
					onecard.Yuan(today+req.Amount), onecard.Yuan(limit))
			}
		}
		when := tx.now.Truncate(time.Second).UTC()
		mac2, err := is.AuthorizeLoad(req.UID, &req.Init, req.Amount, purse.TerminalID(t.ID), when)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("load:%d:%d:%x", pc.card.ID, counter, req.Init.Random[:])
		res, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: key, Debit: from, Credit: pc.holder.PurseAccount, Amount: req.Amount,
			Code: code, Memo: truncate(memo, ledger.MaxMemoLen)}})
		if err != nil {
			return err
		}
		if r := res[0].Result; r != ledger.OK {
			if err := tx.transferError(ctx, r, pc.holder, req.Amount, "load "+onecard.Yuan(req.Amount)+" onto the card"); err != nil {
				return err
			}
			return onecard.Errorf(onecard.ECONFLICT, "This load was already booked (%s).", r)
		}
		init, err := json.Marshal(req.Init)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO device_loads (school_id, card_id, cardholder_id, counter, kind, amount, terminal_id,
			init, mac2, authorised_at, state, transfer_key, reverse_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			pc.card.SchoolID, pc.card.ID, pc.holder.ID, int64(counter), req.Kind, req.Amount, t.ID, string(init), mac2.String(),
			micro(when), loadPending, key, key+":reverse"); err != nil {
			return fmt.Errorf("store: unable to record load: %w", err)
		}
		out = &device.LoadAuthorization{MAC2: mac2, Time: when}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkLoadKind checks what needs no database: the kind against the
// terminal, and the amount (cash comes in whole 10-yuan notes).
func checkLoadKind(t *onecard.Terminal, req *device.LoadRequest) error {
	var kinds []onecard.TerminalKind
	switch req.Kind {
	case device.LoadClaim:
		kinds = []onecard.TerminalKind{onecard.TerminalPOS, onecard.TerminalKiosk}
	case device.LoadCash:
		kinds = []onecard.TerminalKind{onecard.TerminalCash}
	case device.LoadBank:
		kinds = []onecard.TerminalKind{onecard.TerminalKiosk}
	default:
		return onecard.Errorf(onecard.EINVALID, "A load's kind is claim, cash or bank, not %q.", req.Kind)
	}
	ok := false
	for _, k := range kinds {
		ok = ok || k == t.Kind
	}
	if !ok {
		return onecard.Errorf(onecard.EFORBIDDEN, "A %s terminal may not make %s loads.", t.Kind, req.Kind)
	}
	if err := onecard.ValidateAmount(req.Amount); err != nil {
		return err
	}
	if req.Kind == device.LoadCash && (req.Amount%cashLoadNote != 0 || req.Amount > cashLoadLargest) {
		return onecard.Errorf(onecard.EINVALID, "A cash load is made of 10, 20, 50 and 100 yuan notes, at most %s at a time; %s is not.",
			onecard.Yuan(cashLoadLargest), onecard.Yuan(req.Amount))
	}
	return nil
}

// loadable refuses loads onto a card that is cancelled, lost or frozen
// for anything but arrears, or whose cardholder's account is closed.
func loadable(pc *purseCard) error {
	if pc.holder.Status == onecard.CardholderClosed {
		return onecard.Errorf(onecard.ECARDBLOCKED, "The account of %s is closed.", pc.holder.Number)
	}
	if pc.card.State() == "frozen" && pc.card.FreezeReason == onecard.FreezeArrears {
		return nil
	}
	return pc.card.BlockedError()
}

// bankLoadsSince sums a cardholder's bank loads authorised since a time,
// except reversed ones.
func (tx *Tx) bankLoadsSince(ctx context.Context, holderID int64, since time.Time) (int64, error) {
	var sum int64
	err := tx.queryRow(ctx, `SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM device_loads
		WHERE cardholder_id = ? AND kind = ? AND authorised_at >= ? AND state <> ?`,
		holderID, device.LoadBank, micro(since), loadReversed).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("store: unable to sum bank loads: %w", err)
	}
	return sum, nil
}

// activeLoad returns the load of a card with the given counter that is not
// reversed, or nil.
func (tx *Tx) activeLoad(ctx context.Context, cardID int64, counter uint16) (*deviceLoad, error) {
	l, err := scanDeviceLoad(tx.queryRow(ctx, `SELECT `+deviceLoadColumns+` FROM device_loads
		WHERE card_id = ? AND counter = ? AND state <> ?`, cardID, int64(counter), loadReversed))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to load a card load: %w", err)
	}
	return l, nil
}

// ConfirmLoad implements device.Backend: a terminal reports the TAC the
// card returned for a load (POST /device/v1/loads/confirm). The TAC must
// be the card's for exactly the load the issuer authorised (EINVALID).
// Confirming twice is fine; a load the server does not know is ENOTFOUND,
// and one already reversed (a tap showed the card without it) ECONFLICT.
func (db *DB) ConfirmLoad(ctx context.Context, t *onecard.Terminal, req *device.ConfirmLoadRequest) error {
	is, err := db.PurseIssuer(ctx, t.SchoolID)
	if err != nil {
		return err
	}
	return db.WriteGrouped(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		pc, err := findPurseCard(ctx, tx, tx.forUpdate(), t.SchoolID, req.UID)
		if err != nil {
			return err
		}
		l, err := tx.activeLoad(ctx, pc.card.ID, req.Counter)
		if err != nil {
			return err
		}
		if l == nil {
			var reversed int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM device_loads WHERE card_id = ? AND counter = ?`,
				pc.card.ID, int64(req.Counter)).Scan(&reversed); err != nil {
				return fmt.Errorf("store: unable to load a card load: %w", err)
			}
			if reversed > 0 {
				return onecard.Errorf(onecard.ECONFLICT, "Load %d of this card was reversed: a tap showed the card without it.", req.Counter)
			}
			return onecard.Errorf(onecard.ENOTFOUND, "No load %d of this card was authorised.", req.Counter)
		}
		if err := is.VerifyLoadTAC(req.UID, &l.init, l.amount, purse.TerminalID(l.terminalID), l.at, req.TAC); err != nil {
			return err
		}
		if l.state == loadConfirmed {
			return nil
		}
		return tx.confirmLoad(ctx, l, req.TAC.String())
	})
}

// confirmLoad marks a pending load confirmed (with its TAC when a terminal
// reported it) and notes it on the card's purse state.
func (tx *Tx) confirmLoad(ctx context.Context, l *deviceLoad, tac string) error {
	if _, err := tx.exec(ctx, `UPDATE device_loads SET state = ?, tac = ?, settled_at = ? WHERE id = ?`,
		loadConfirmed, tac, micro(tx.now), l.id); err != nil {
		return fmt.Errorf("store: unable to confirm load: %w", err)
	}
	l.state = loadConfirmed
	return tx.notePurse(ctx, l.cardID, l.counter, 0, 0, l.init.Balance+l.amount)
}

// settleLoads settles a card's pending loads from its online counter: a
// load the counter covers happened (confirmed); with reverse, one it does
// not cover never will (the card's session that could take its MAC2 is
// over), and its money goes back where it came from. The caller holds the
// ledger head. A reversal the ledger refuses leaves the load pending and
// is logged; the next tap tries again.
func (tx *Tx) settleLoads(ctx context.Context, pc *purseCard, online uint16, reverse bool) error {
	rows, err := tx.query(ctx, `SELECT `+deviceLoadColumns+` FROM device_loads WHERE card_id = ? AND state = ? ORDER BY counter`,
		pc.card.ID, loadPending)
	if err != nil {
		return fmt.Errorf("store: unable to load pending loads: %w", err)
	}
	var loads []*deviceLoad
	for rows.Next() {
		l, err := scanDeviceLoad(rows)
		if err != nil {
			rows.Close()
			return err
		}
		loads = append(loads, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load pending loads: %w", err)
	}
	for _, l := range loads {
		if l.counter <= online {
			if err := tx.confirmLoad(ctx, l, ""); err != nil {
				return err
			}
			continue
		}
		if !reverse {
			continue
		}
		if err := tx.reverseLoad(ctx, pc, l); err != nil {
			return err
		}
	}
	return nil
}

// reverseLoad moves a load's money from the purse shadow back to where it
// came from and marks the load reversed.
func (tx *Tx) reverseLoad(ctx context.Context, pc *purseCard, l *deviceLoad) error {
	to := pc.holder.TransitionAccount
	var err error
	switch l.kind {
	case device.LoadCash:
		to, err = tx.systemAccount(ctx, pc.card.SchoolID, KindCash)
	case device.LoadBank:
		to, err = tx.systemAccount(ctx, pc.card.SchoolID, KindClearingBank)
	}
	if err != nil {
		return err
	}
	// Settle: the money never reached the card, whatever its freeze.
	res, err := ledger.Apply(ctx, tx, []ledger.Transfer{{Key: l.reverseKey, Debit: pc.holder.PurseAccount, Credit: to, Amount: l.amount,
		Code: codeLoadReversal, Memo: fmt.Sprintf("%s load %d never reached the card", l.kind, l.counter), Flags: ledger.Settle}})
	if err != nil {
		return err
	}
	if r := res[0].Result; !r.Done() {
		tx.db.log.Warn("load reversal refused by the ledger; it stays pending", "load", l.id, "card", l.cardID, "result", r.String())
		return nil
	}
	if _, err := tx.exec(ctx, `UPDATE device_loads SET state = ?, settled_at = ? WHERE id = ?`, loadReversed, micro(tx.now), l.id); err != nil {
		return fmt.Errorf("store: unable to reverse load: %w", err)
	}
	return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "device.load_reversed", SchoolID: pc.card.SchoolID, TargetType: "card",
		TargetID: pc.card.ID, Detail: fmt.Sprintf("%s load %d of %s never reached the card", l.kind, l.counter, onecard.Yuan(l.amount))})
}
