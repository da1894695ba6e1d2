package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

var _ onecard.MoneyService = (*DB)(nil)

// Transfer codes this file writes.
const (
	codePurchase = "purchase"
	codeDeposit  = "deposit"
	codeFee      = "fee"
)

// Pay implements onecard.MoneyService. The checks run under the ledger head
// lock, so two payments of one cardholder cannot both slip under the daily
// limit. A payment that drives the balance below zero freezes the card for
// arrears in the same transaction (settleArrears).
func (db *DB) Pay(ctx context.Context, p *onecard.Payment) (*onecard.HistoryItem, error) {
	key, err := requestKey("pay:", p.Key)
	if err != nil {
		return nil, err
	}
	if err := onecard.ValidateAmount(p.Amount); err != nil {
		return nil, err
	}
	memo, err := validateMemo(p.Memo)
	if err != nil {
		return nil, err
	}
	var item *onecard.HistoryItem
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		h, err := findCardholder(ctx, tx, "", p.CardholderID)
		if err != nil {
			return err
		}
		m, err := findMerchant(ctx, tx, p.MerchantID)
		if err != nil {
			return err
		}
		t := ledger.Transfer{Key: key, Debit: h.TransitionAccount, Credit: m.Account, Amount: p.Amount, Code: codePurchase, Memo: m.Name}
		if memo != "" {
			t.Memo = truncate(m.Name+": "+memo, ledger.MaxMemoLen)
		}
		if prev, err := tx.previous(ctx, t); err != nil || prev != nil {
			item = historyItem(prev, h)
			return err
		}
		if m.SchoolID != h.SchoolID {
			return onecard.Errorf(onecard.EINVALID, "Merchant %s is not a merchant of this cardholder's school.", m.Name)
		}
		s, err := tx.school(ctx, h.SchoolID)
		if err != nil {
			return err
		}
		if err := tx.payable(ctx, h, s.Settings); err != nil {
			return err
		}
		if err := tx.checkLimits(ctx, h, s.Settings, p.Amount); err != nil {
			return err
		}
		out, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
		if err != nil {
			return err
		}
		if err := tx.transferError(ctx, out[0].Result, h, p.Amount, "pay "+onecard.Yuan(p.Amount)); err != nil {
			return err
		}
		item = historyItem(out[0].Transfer, h)
		return tx.audit(ctx, auditEvent{Action: "money.pay", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: fmt.Sprintf("%s to merchant %d, transfer %d", onecard.Yuan(p.Amount), m.ID, item.TransferID)})
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// payable checks that the cardholder may pay: not closed, a graduate only
// until graduate_freeze_after has passed, and an active card that is usable.
func (tx *Tx) payable(ctx context.Context, h *onecard.Cardholder, s onecard.Settings) error {
	switch h.Status {
	case onecard.CardholderClosed:
		return onecard.Errorf(onecard.ECARDBLOCKED, "The account of %s is closed.", h.Number)
	case onecard.CardholderGraduated:
		if h.LeftAt != nil && !tx.now.Before(h.LeftAt.Add(time.Duration(s.GraduateFreezeAfter))) {
			return onecard.Errorf(onecard.ECARDBLOCKED, "The card of %s was frozen %s after graduation. Please bring it to the service hall.",
				h.Number, time.Duration(s.GraduateFreezeAfter))
		}
	}
	c, err := tx.activeCard(ctx, h.ID)
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return onecard.Errorf(onecard.ECARDBLOCKED, "%s has no active card.", h.Number)
	} else if err != nil {
		return err
	}
	return c.BlockedError()
}

// checkLimits refuses a purchase over the school's single limit or one that
// would take today's purchases (since midnight, school time) over the daily
// limit. Holds count while pending and voided ones do not; the posts of
// holds are not counted twice.
func (tx *Tx) checkLimits(ctx context.Context, h *onecard.Cardholder, s onecard.Settings, amount int64) error {
	if amount > s.SingleLimit {
		return onecard.Errorf(onecard.ELIMIT, "%s is above the single payment limit of %s.", onecard.Yuan(amount), onecard.Yuan(s.SingleLimit))
	}
	var today int64
	dayStart := s.DayStart(tx.now)
	err := tx.queryRow(ctx, walkHistory(2, `j.created_at >= ?`, countNothing)+`SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT)
		FROM transfers WHERE `+tx.db.inWalk("")+` AND debit IN (?, ?) AND code = ? AND pending_id = 0
			AND state NOT IN ('voided', 'expired') AND created_at >= ?`,
		h.PurseAccount, h.TransitionAccount, micro(dayStart.Add(-journalSkew)),
		h.PurseAccount, h.TransitionAccount, codePurchase, micro(dayStart)).Scan(&today)
	if err != nil {
		return fmt.Errorf("store: unable to sum today's purchases: %w", err)
	}
	if today+amount > s.DailyLimit {
		return onecard.Errorf(onecard.ELIMIT, "Today's purchases would come to %s, above the daily limit of %s.",
			onecard.Yuan(today+amount), onecard.Yuan(s.DailyLimit))
	}
	return nil
}

// Deposit implements onecard.MoneyService: cash taken at the counter moves
// from the school's cash account to the cardholder's transition balance.
func (db *DB) Deposit(ctx context.Context, d *onecard.Deposit) (*onecard.HistoryItem, error) {
	key, err := requestKey("deposit:", d.Key)
	if err != nil {
		return nil, err
	}
	if err := onecard.ValidateAmount(d.Amount); err != nil {
		return nil, err
	}
	memo, err := validateMemo(d.Memo)
	if err != nil {
		return nil, err
	}
	if memo == "" {
		memo = "cash deposit"
	}
	var item *onecard.HistoryItem
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil {
			return err
		}
		h, err := findCardholder(ctx, tx, "", d.CardholderID)
		if err != nil {
			return err
		}
		cash, err := tx.systemAccount(ctx, h.SchoolID, KindCash)
		if err != nil {
			return err
		}
		t := ledger.Transfer{Key: key, Debit: cash, Credit: h.TransitionAccount, Amount: d.Amount, Code: codeDeposit, Memo: memo}
		if prev, err := tx.previous(ctx, t); err != nil || prev != nil {
			item = historyItem(prev, h)
			return err
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed.", h.Number)
		}
		out, err := ledger.Apply(ctx, tx, []ledger.Transfer{t})
		if err != nil {
			return err
		}
		if err := tx.transferError(ctx, out[0].Result, h, d.Amount, "deposit "+onecard.Yuan(d.Amount)); err != nil {
			return err
		}
		item = historyItem(out[0].Transfer, h)
		return tx.audit(ctx, auditEvent{Action: "money.deposit", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: h.ID,
			Detail: fmt.Sprintf("%s, transfer %d", onecard.Yuan(d.Amount), item.TransferID)})
	})
	if err != nil {
		return nil, err
	}
	return item, nil
}

// previous returns the transfer stored under t's key, or nil. A retry gets
// the first result without the checks running again (they might now fail
// because of the first payment itself); a key reused for something else
// is ECONFLICT.
func (tx *Tx) previous(ctx context.Context, t ledger.Transfer) (*ledger.Transfer, error) {
	rows, err := tx.query(ctx, `SELECT `+transferColumns+` FROM transfers WHERE key = ?`, t.Key)
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up transfer: %w", err)
	}
	ts, err := scanTransfers(rows)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	prev := ts[0]
	if prev.Debit != t.Debit || prev.Credit != t.Credit || prev.Amount != t.Amount {
		return nil, onecard.Errorf(onecard.ECONFLICT, "Request key %q was already used for a different request.", t.Key)
	}
	return prev, nil
}

// transferError turns a ledger result into the domain error a person
// understands; OK and Exists are nil.
func (tx *Tx) transferError(ctx context.Context, r ledger.Result, h *onecard.Cardholder, amount int64, what string) error {
	switch r {
	case ledger.OK, ledger.Exists:
		return nil
	case ledger.InsufficientFunds:
		var transition int64
		if err := tx.queryRow(ctx, `SELECT balance FROM accounts WHERE id = ?`, h.TransitionAccount).Scan(&transition); err != nil {
			return fmt.Errorf("store: unable to load balance: %w", err)
		}
		return onecard.Errorf(onecard.EINSUFFICIENT, "The account balance (%s, not counting money on the card) is not enough to %s; top up first.",
			onecard.Yuan(transition), what)
	case ledger.DebitFrozen:
		return onecard.Errorf(onecard.ECARDBLOCKED, "The account of %s is frozen; it cannot %s.", h.Number, what)
	case ledger.AccountClosed:
		return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed.", h.Number)
	case ledger.LimitExceeded:
		return onecard.Errorf(onecard.ELIMIT, "Unable to %s: the receiving account would exceed its limit.", what)
	case ledger.ExistsDifferent:
		return onecard.Errorf(onecard.ECONFLICT, "Unable to %s: the request key was already used for a different request.", what)
	case ledger.InvalidKey, ledger.InvalidAmount, ledger.InvalidFlags, ledger.SameAccount, ledger.Overflow:
		return onecard.Errorf(onecard.EINVALID, "Unable to %s (%s).", what, r)
	}
	return onecard.Errorf(onecard.ECONFLICT, "Unable to %s (%s).", what, r)
}

// History implements onecard.MoneyService. A transfer between the
// cardholder's own transition account and purse (a claim) is one line: the
// money arriving on the card. Resolved holds and voids are left out (the
// post that moved the money is shown), so the lines add up to the balance.
// Alipay and WeChat code payments from the cardholder's bound accounts are
// merged in by time (see withCodePayments); their lines are not the card's
// money and are told apart by their account.
func (db *DB) History(ctx context.Context, cardholderID int64, before time.Time, limit int) ([]*onecard.HistoryItem, error) {
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	until := int64(math.MaxInt64)
	if !before.IsZero() {
		until = micro(before)
	}
	// Each account's walk stops once it has passed limit transfers the
	// history shows: before the cursor, no void, no hold voided or expired.
	shown := fmt.Sprintf(`j.created_at < ? AND COALESCE(h.state, '') IN ('', 'pending') AND (j.flags & %d) = 0`, ledger.VoidPending)
	filter := fmt.Sprintf(`created_at < ? AND state IN ('', 'pending') AND (flags & %d) = 0`, ledger.VoidPending)
	rows, err := db.query(ctx, walkHistory(2, `w.n < ?`, shown)+`SELECT `+transferColumns+` FROM transfers
		WHERE `+db.inWalk("")+` AND `+filter+` ORDER BY id DESC LIMIT ?`,
		h.PurseAccount, h.TransitionAccount, until, limit, until, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to load history: %w", err)
	}
	ts, err := scanTransfers(rows)
	if err != nil {
		return nil, err
	}
	out := make([]*onecard.HistoryItem, 0, len(ts))
	for _, t := range ts {
		out = append(out, historyItem(t, h))
	}
	return db.withCodePayments(ctx, h, until, limit, out)
}

// historyItem shows a transfer from the cardholder's side.
func historyItem(t *ledger.Transfer, h *onecard.Cardholder) *onecard.HistoryItem {
	if t == nil {
		return nil
	}
	name := func(id int64) string {
		if id == h.PurseAccount {
			return KindPurse
		}
		return KindTransition
	}
	own := func(id int64) bool { return id == h.PurseAccount || id == h.TransitionAccount }
	it := &onecard.HistoryItem{TransferID: t.ID, Time: t.Time, Code: t.Code, Memo: t.Memo, State: string(t.State)}
	if own(t.Credit) {
		it.Amount, it.Account = t.Amount, name(t.Credit)
	} else {
		it.Amount, it.Account = -t.Amount, name(t.Debit)
	}
	return it
}

// requestKey checks a caller's idempotency key and prefixes it.
func requestKey(prefix, key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", onecard.Errorf(onecard.EINVALID, "A request key is needed so that a retry does not move money twice.")
	}
	if len(prefix)+len(key)+2 > ledger.MaxKeyLen {
		return "", onecard.Errorf(onecard.EINVALID, "A request key has at most %d characters.", ledger.MaxKeyLen-len(prefix)-2)
	}
	return prefix + key, nil
}

func validateMemo(memo string) (string, error) {
	memo = strings.TrimSpace(memo)
	if len([]rune(memo)) > 64 {
		return "", onecard.Errorf(onecard.EINVALID, "A memo has at most 64 characters.")
	}
	return memo, nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
