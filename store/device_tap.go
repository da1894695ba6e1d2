package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
)

// Tap implements device.Backend: an online POS (or bath controller, or a
// kiosk with amount 0) reports what a card said before it charges it
// (POST /device/v1/taps). The checks, in order:
//
//   - the card is found by UID in the terminal's school and its number is
//     the cardholder's (refuse not_found, invalid);
//   - the card's pending loads are settled by its online counter:
//     confirmed if the counter shows them, reversed if not;
//   - the card is usable (refuse card_blocked with lock_card, except for an
//     arrears freeze, which lifts itself after a top-up and so does not
//     lock the chip);
//   - when the server has every purchase up to the card's offline counter
//     and every load up to its online counter, the card's balance is
//     compared with the purse shadow; a difference over the school's
//     mismatch threshold freezes the card (refuse card_blocked, lock_card);
//   - with an amount: the single limit, the daily limit (the school-day's
//     accepted card purchases and baths by card time, and today's app
//     payments), the
//     card's balance with the claim (refuse limit_exceeded,
//     insufficient_funds), and the per-meal threshold: this meal period's
//     purchases plus the amount over it needs the consumption PIN
//     (pin_required; a wrong PIN refuses with wrong_pin or pin_locked).
//
// The claim is offered with every answer past the card check: the
// positive transition balance, capped by what the card and the purse
// shadow may still hold. A bath controller cannot load, so it is offered
// none. The tap writes only to settle loads, to freeze, and to count a
// wrong PIN.
func (db *DB) Tap(ctx context.Context, t *onecard.Terminal, req *device.TapRequest) (*device.TapDecision, error) {
	if req.Amount < 0 || req.Amount > onecard.MaxAmount {
		return nil, onecard.Errorf(onecard.EINVALID, "The amount must be between 0 and %s.", onecard.Yuan(onecard.MaxAmount))
	}
	v, err := db.tapView(ctx, t.SchoolID, req.Card.UID)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return refusal(err, false), nil
	} else if err != nil {
		return nil, err
	}
	if v.holder.Number != req.Card.Number {
		return refusal(onecard.Errorf(onecard.EINVALID, "The card number %q does not match this card's record.", req.Card.Number), false), nil
	}
	if v.state.pending > 0 {
		err := db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.LockHead(ctx); err != nil {
				return err
			}
			locked, err := findPurseCard(ctx, tx, tx.forUpdate(), t.SchoolID, req.Card.UID)
			if err != nil {
				return err
			}
			return tx.settleLoads(ctx, locked, req.Card.OnlineCounter, true)
		})
		if err != nil {
			return nil, err
		}
		if v, err = db.tapView(ctx, t.SchoolID, req.Card.UID); err != nil {
			return nil, err
		}
	}
	pc, st, settings := &v.purseCard, v.state, v.settings
	now := db.Now()
	if err := usable(pc, settings, now); err != nil {
		return refusal(err, pc.card.FreezeReason != onecard.FreezeArrears || pc.card.State() != "frozen"), nil
	}
	if comparable(st, req.Card) && mismatched(v.purse.Balance, req.Card.Balance, settings) {
		err := db.freezeForMismatch(ctx, pc.card.ID, req.Card)
		if onecard.ErrorCode(err) == onecard.ECARDBLOCKED {
			return refusal(err, true), nil
		} else if err != nil {
			return nil, err
		}
	}

	d := &device.TapDecision{Decision: device.Approve}
	if t.Kind != onecard.TerminalBath {
		d.Claim = claimable(v, req.Card.Balance)
	}
	if req.Amount == 0 {
		return d, nil
	}
	refuse := func(err error) (*device.TapDecision, error) {
		r := refusal(err, false)
		r.Claim = d.Claim
		return r, nil
	}
	if req.Amount > settings.SingleLimit {
		return refuse(onecard.Errorf(onecard.ELIMIT, "%s is above the single purchase limit of %s.",
			onecard.Yuan(req.Amount), onecard.Yuan(settings.SingleLimit)))
	}
	p, mealStart, inMeal := settings.MealPeriodAt(now)
	today, meal, err := db.purchaseSums(ctx, pc.holder, settings.DayStart(now), mealStart, inMeal)
	if err != nil {
		return nil, err
	}
	if today+req.Amount > settings.DailyLimit {
		return refuse(onecard.Errorf(onecard.ELIMIT, "Today's purchases would come to %s, above the daily limit of %s.",
			onecard.Yuan(today+req.Amount), onecard.Yuan(settings.DailyLimit)))
	}
	if req.Amount > req.Card.Balance+d.Claim {
		return refuse(onecard.Errorf(onecard.EINSUFFICIENT, "The card holds %s and %s can be claimed onto it; the purchase is %s.",
			onecard.Yuan(req.Card.Balance), onecard.Yuan(d.Claim), onecard.Yuan(req.Amount)))
	}
	if inMeal && meal+req.Amount > settings.MealPINThreshold {
		if req.PIN == "" {
			d.Decision = device.PINRequired
			d.Message = fmt.Sprintf("This %s's purchases would come to %s, over %s: enter the consumption PIN.",
				p.Name, onecard.Yuan(meal+req.Amount), onecard.Yuan(settings.MealPINThreshold))
			return d, nil
		}
		if err := db.VerifyPIN(ctx, pc.holder.ID, onecard.ConsumptionPIN, req.PIN); err != nil {
			switch onecard.ErrorCode(err) {
			case onecard.EWRONGPIN, onecard.ELOCKED, onecard.EINVALID:
				return refuse(err)
			}
			return nil, err
		}
	}
	return d, nil
}

// usable refuses a card that may not pay: cancelled, lost or frozen, or
// whose cardholder's account is closed or frozen after graduation.
func usable(pc *purseCard, s onecard.Settings, now time.Time) error {
	h := pc.holder
	switch h.Status {
	case onecard.CardholderClosed:
		return onecard.Errorf(onecard.ECARDBLOCKED, "The account of %s is closed.", h.Number)
	case onecard.CardholderGraduated:
		if h.LeftAt != nil && !now.Before(h.LeftAt.Add(time.Duration(s.GraduateFreezeAfter))) {
			return onecard.Errorf(onecard.ECARDBLOCKED, "The card of %s was frozen %s after graduation. Please bring it to the service hall.",
				h.Number, time.Duration(s.GraduateFreezeAfter))
		}
	}
	return pc.card.BlockedError()
}

// comparable reports whether a card's balance can be compared with the
// purse shadow: the server has every purchase up to the card's offline
// counter and every load up to its online counter, none unsettled.
func comparable(st purseState, c device.CardState) bool {
	return st.complete() && c.OfflineCounter == st.offline && c.OnlineCounter == st.online
}

// mismatched reports whether a card balance differs from the shadow by
// more than the school's threshold.
func mismatched(shadow, card int64, s onecard.Settings) bool {
	d := shadow - card
	return d > s.MismatchThreshold || -d > s.MismatchThreshold
}

// freezeForMismatch freezes a card whose balance differs from the purse
// shadow, after checking again under the locks, and returns the card's
// ECARDBLOCKED error (nil if the difference was gone by then).
func (db *DB) freezeForMismatch(ctx context.Context, cardID int64, seen device.CardState) error {
	var blocked error
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		c, err := tx.card(ctx, cardID)
		if err != nil {
			return err
		}
		if blocked = c.BlockedError(); blocked != nil {
			return nil
		}
		h, err := findCardholder(ctx, tx, "", c.CardholderID)
		if err != nil {
			return err
		}
		s, err := tx.school(ctx, c.SchoolID)
		if err != nil {
			return err
		}
		st, err := loadPurseState(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		a, err := tx.Accounts(ctx, []int64{h.PurseAccount})
		if err != nil {
			return err
		}
		shadow := a[h.PurseAccount].Balance
		if !comparable(st, seen) || !mismatched(shadow, seen.Balance, s.Settings) {
			return nil
		}
		if err := tx.freezeMismatch(ctx, c, seen.Balance, shadow, fmt.Sprintf("at a tap (counters %d/%d)", seen.OnlineCounter, seen.OfflineCounter)); err != nil {
			return err
		}
		blocked = c.BlockedError()
		return nil
	})
	if err != nil {
		return err
	}
	return blocked
}

// freezeMismatch freezes c for a card-vs-account mismatch, saves it (the
// blacklist gets it) and audits it as the system's decision.
func (tx *Tx) freezeMismatch(ctx context.Context, c *onecard.Card, card, shadow int64, where string) error {
	before := *c
	note := fmt.Sprintf("card %s, account %s, %s", onecard.Yuan(card), onecard.Yuan(shadow), where)
	if err := tx.freezeCard(ctx, c, onecard.FreezeMismatch, note); err != nil {
		return err
	}
	if err := tx.saveCard(ctx, &before, c); err != nil {
		return err
	}
	return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "card.freeze", SchoolID: c.SchoolID, TargetType: "card", TargetID: c.ID,
		Detail: "mismatch: " + note})
}

// claimable is what a tap may load from the transition balance: all of it
// when positive, capped by the card's and the purse shadow's room under
// the ceiling.
func claimable(v *tapView, cardBalance int64) int64 {
	claim := v.transition.Balance - v.transition.DebitsPending
	claim = min(claim, v.settings.PurseCeiling-cardBalance, v.purse.Ceiling-v.purse.Balance-v.purse.CreditsPending)
	return max(claim, 0)
}

// tapView is everything a tap reads about a card, in one query.
type tapView struct {
	purseCard
	state             purseState
	settings          onecard.Settings
	purse, transition ledger.Account
}

// tapView reads a school's card by chip UID with its cardholder, the
// school's settings, the card's purse state and the cardholder's two
// accounts. ENOTFOUND when the school has no such card.
func (db *DB) tapView(ctx context.Context, schoolID int64, uid purse.UID) (*tapView, error) {
	v := &tapView{purseCard: purseCard{card: &onecard.Card{}, holder: &onecard.Cardholder{}}}
	c, h := v.card, v.holder
	var status, reason, hstatus, settings string
	var issued, lost, frozen, cancelled, left, online, offline int64
	err := db.queryRow(ctx, `SELECT c.id, c.school_id, c.cardholder_id, c.uid, c.status, c.lost, c.freeze_reason, c.freeze_note,
			c.issued_at, c.lost_at, c.frozen_at, c.cancelled_at, c.replaced_by,
			h.number, h.status, h.left_at, h.purse_account, h.transition_account, s.settings,
			COALESCE(cp.online_counter, 0), COALESCE(cp.offline_counter, 0), COALESCE(cp.purchases, 0), COALESCE(cp.last_balance, 0),
			(SELECT COUNT(*) FROM device_loads l WHERE l.card_id = c.id AND l.state = 'pending'),
			p.balance, p.ceiling, p.credits_pending, t.balance, t.debits_pending
		FROM cards c
		JOIN cardholders h ON h.id = c.cardholder_id
		JOIN schools s ON s.id = c.school_id
		JOIN accounts p ON p.id = h.purse_account
		JOIN accounts t ON t.id = h.transition_account
		LEFT JOIN card_purses cp ON cp.card_id = c.id
		WHERE c.school_id = ? AND c.uid = ?`, schoolID, uid.String()).Scan(
		&c.ID, &c.SchoolID, &c.CardholderID, &c.UID, &status, &c.Lost, &reason, &c.FreezeNote,
		&issued, &lost, &frozen, &cancelled, &c.ReplacedBy,
		&h.Number, &hstatus, &left, &h.PurseAccount, &h.TransitionAccount, &settings,
		&online, &offline, &v.state.purchases, &v.state.lastBalance, &v.state.pending,
		&v.purse.Balance, &v.purse.Ceiling, &v.purse.CreditsPending, &v.transition.Balance, &v.transition.DebitsPending)
	if err != nil {
		return nil, notFound(err, "unable to load card", "This school has no card with UID %s.", uid)
	}
	c.Status, c.FreezeReason = onecard.CardStatus(status), onecard.FreezeReason(reason)
	c.IssuedAt, c.LostAt, c.FrozenAt, c.CancelledAt = fromMicro(issued), fromMicroPtr(lost), fromMicroPtr(frozen), fromMicroPtr(cancelled)
	h.ID, h.SchoolID, h.Status, h.LeftAt = c.CardholderID, c.SchoolID, onecard.CardholderStatus(hstatus), fromMicroPtr(left)
	v.state.online, v.state.offline = uint16(online), uint16(offline)
	v.purse.ID, v.transition.ID = h.PurseAccount, h.TransitionAccount
	if err := json.Unmarshal([]byte(settings), &v.settings); err != nil {
		return nil, fmt.Errorf("store: school %d has unreadable settings: %w", c.SchoolID, err)
	}
	return v, nil
}

// purchaseSums returns a cardholder's purchases of the school day since
// dayStart (card purchases and baths by card time, and the app payments
// booked since) and, with inMeal, the card purchases of the meal period
// since mealStart (canteen and shop only).
func (db *DB) purchaseSums(ctx context.Context, h *onecard.Cardholder, dayStart, mealStart time.Time, inMeal bool) (day, meal int64, err error) {
	var paid int64
	from := dayStart
	if !inMeal {
		mealStart = dayStart.AddDate(0, 0, 1) // counts nothing
	} else if mealStart.Before(from) {
		from = mealStart
	}
	err = db.queryRow(ctx, walkHistory(1, `j.created_at >= ?`, countNothing)+`SELECT
			CAST(COALESCE(SUM(CASE WHEN at >= ? THEN amount ELSE 0 END), 0) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN at >= ? AND type = ? THEN amount ELSE 0 END), 0) AS BIGINT),
			(SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers
				WHERE `+db.inWalk("")+` AND debit = ? AND code = ? AND key LIKE 'pay:%' AND created_at >= ?)
		FROM device_records WHERE cardholder_id = ? AND at >= ?`,
		h.TransitionAccount, micro(dayStart.Add(-journalSkew)),
		micro(dayStart), micro(mealStart), purse.TypePurchase.String(),
		h.TransitionAccount, codePurchase, micro(dayStart),
		h.ID, micro(from)).Scan(&day, &meal, &paid)
	if err != nil {
		return 0, 0, fmt.Errorf("store: unable to sum purchases: %w", err)
	}
	return day + paid, meal, nil
}
