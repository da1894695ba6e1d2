package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

var _ onecard.BillService = (*DB)(nil)

// The transfer codes of each kind of money. A transfer between the
// cardholder's own purse and transition account (a claim, or its reversal)
// is in neither, whatever its code.
var (
	spendingCodes = []string{codePurchase, codeFee, codeMerchantRefund}
	topUpCodes    = []string{codeDeposit, codeTopUp, codeCashLoad, codeBankLoad, codeTopUpRefund, codeLoadReversal}
)

// refundWindow is how long after a code payment its channel still takes
// a refund: a year for WeChat Pay and at most a year for Alipay. It bounds
// the payments whose refunds a period's bills look for.
const refundWindow = 366 * 24 * time.Hour

// maxBillPeriod bounds a filter's period: a year and a little, so that a
// summary never reads more than a year of a cardholder's lines.
const maxBillPeriod = 367 * 24 * time.Hour

// Bills implements onecard.BillService. The lines are the cardholder's
// settled transfers (posts of holds count, holds and voids do not) and the
// Alipay and WeChat code payments of their bound accounts with the
// refunds of those, at the time the money moved.
func (db *DB) Bills(ctx context.Context, f onecard.BillFilter, offset, limit int) ([]*onecard.Bill, int, error) {
	h, err := db.billHolder(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = 50
	}
	limit, offset = min(limit, 500), max(offset, 0)
	lo, hi, err := db.journalSpan(ctx, f.From, f.To)
	if err != nil {
		return nil, 0, err
	}
	lines, args := db.billLines(h, f, lo, hi)
	// The count comes with the page (a window over the whole filter); only
	// a page past the end needs a query of its own.
	rows, err := db.query(ctx, `SELECT tid, at, code, amount, account, other, merchant_id, terminal_id, ref, COUNT(*) OVER () FROM (`+lines+`) b
		ORDER BY at DESC, tid DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to load bills: %w", err)
	}
	var ls []*billLine
	total := 0
	for rows.Next() {
		l := &billLine{}
		var at int64
		if err := rows.Scan(&l.TransferID, &at, &l.code, &l.Amount, &l.Account, &l.other, &l.merchantID, &l.terminalID, &l.ref, &total); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("store: unable to load bills: %w", err)
		}
		l.Time = fromMicro(at)
		ls = append(ls, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: unable to load bills: %w", err)
	}
	if len(ls) == 0 {
		if offset > 0 {
			if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (`+lines+`) b`, args...).Scan(&total); err != nil {
				return nil, 0, fmt.Errorf("store: unable to count bills: %w", err)
			}
		}
		return []*onecard.Bill{}, total, nil
	}
	if err := db.describeBills(ctx, h, ls); err != nil {
		return nil, 0, err
	}
	out := make([]*onecard.Bill, len(ls))
	for i, l := range ls {
		out[i] = &l.Bill
	}
	return out, total, nil
}

// BillSummary implements onecard.BillService.
func (db *DB) BillSummary(ctx context.Context, f onecard.BillFilter) (*onecard.BillSummary, error) {
	h, err := db.billHolder(ctx, f)
	if err != nil {
		return nil, err
	}
	lo, hi, err := db.journalSpan(ctx, f.From, f.To)
	if err != nil {
		return nil, err
	}
	lines, args := db.billLines(h, f, lo, hi)
	rows, err := db.query(ctx, `SELECT at, code, amount, other, merchant_id FROM (`+lines+`) b`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to sum bills: %w", err)
	}
	var ls []*billLine
	for rows.Next() {
		l := &billLine{}
		var at int64
		if err := rows.Scan(&at, &l.code, &l.Amount, &l.other, &l.merchantID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unable to sum bills: %w", err)
		}
		l.Time = fromMicro(at)
		ls = append(ls, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to sum bills: %w", err)
	}
	names, err := db.billCounterparties(ctx, h, ls)
	if err != nil {
		return nil, err
	}
	return summarize(h, f, ls, names), nil
}

// billHolder checks a filter and loads its cardholder.
func (db *DB) billHolder(ctx context.Context, f onecard.BillFilter) (*onecard.Cardholder, error) {
	switch {
	case f.Kind != "" && f.Kind != onecard.BillSpending && f.Kind != onecard.BillTopUp:
		return nil, onecard.Errorf(onecard.EINVALID, "Bills are filtered by spending or topup, not %q.", f.Kind)
	case f.From.IsZero() || f.To.IsZero() || !f.From.Before(f.To):
		return nil, onecard.Errorf(onecard.EINVALID, "Bills need a period with a start before its end.")
	case f.To.Sub(f.From) > maxBillPeriod:
		return nil, onecard.Errorf(onecard.EINVALID, "Bills cover at most a year at a time.")
	}
	return db.Cardholder(ctx, f.CardholderID)
}

// billLine is a line as read, with what is needed to describe it.
type billLine struct {
	onecard.Bill
	code       string
	other      int64  // the account on the other side; 0 for code payments of bound accounts
	merchantID int64  // code payments of bound accounts
	terminalID int64  // code payments of bound accounts
	ref        string // the transfer's key, or the code payment's (refund's) number
}

// journalSkew is how far out of order the journal's times may be: a
// transfer is stamped with its transaction's clock when the transaction
// starts, and gets its ID when it reaches the ledger head, so a later ID
// may carry an earlier time by as long as a writer waits (or a clock is
// stepped back). A day is far more than either.
const journalSkew = 24 * time.Hour

// journalSpan returns IDs lo and hi such that every journal transfer of
// [from, to) has lo <= ID < hi. The journal is append-only and its times
// grow with its IDs (up to journalSkew), so a binary search over the
// primary key finds the first ID at from - journalSkew and at to +
// journalSkew; the queries then filter by time exactly. This lets a
// cardholder's period be read through the (account, id) indexes the ledger
// already keeps: an (account, time) index pair would cost every transfer
// two more index writes (a fifth of SQLite's ledger throughput, measured).
func (db *DB) journalSpan(ctx context.Context, from, to time.Time) (lo, hi int64, err error) {
	const search = `%[1]s(lo, hi) AS (
			SELECT CAST(1 AS BIGINT), COALESCE((SELECT MAX(id) FROM journal), 0) + 1
			UNION ALL
			SELECT CASE WHEN (SELECT created_at FROM journal WHERE id >= (lo + hi) / 2 ORDER BY id LIMIT 1) < ? THEN (lo + hi) / 2 + 1 ELSE lo END,
				CASE WHEN (SELECT created_at FROM journal WHERE id >= (lo + hi) / 2 ORDER BY id LIMIT 1) < ? THEN hi ELSE (lo + hi) / 2 END
			FROM %[1]s WHERE lo < hi)`
	start, end := micro(from.Add(-journalSkew)), micro(to.Add(journalSkew))
	var last int64
	err = db.queryRow(ctx, `WITH RECURSIVE `+fmt.Sprintf(search, "a")+`, `+fmt.Sprintf(search, "b")+`
		SELECT (SELECT MAX(lo) FROM a), (SELECT MAX(lo) FROM b), COALESCE((SELECT MAX(id) FROM journal), 0)`,
		start, start, end, end).Scan(&lo, &hi, &last)
	if err != nil {
		return 0, 0, fmt.Errorf("store: unable to find the period in the journal: %w", err)
	}
	if hi > last {
		hi = math.MaxInt64 // the period reaches the journal's end, and transfers still arrive
	}
	return lo, hi, nil
}

// billLines is the query of a filter's lines with its arguments: the
// cardholder's transfers between journal IDs lo and hi (see journalSpan),
// walking the purse's and the transition's histories back to lo (the ID
// range is on the walk, not on the journal, so that the planner looks the
// walked IDs up rather than scanning the period's journal), then the
// bound accounts' code
// payments and their refunds through code_payments_cardholder. Columns:
// tid, at, code, amount (signed), account, other, merchant_id,
// terminal_id, ref.
func (db *DB) billLines(h *onecard.Cardholder, f onecard.BillFilter, lo, hi int64) (string, []any) {
	walked := db.inWalk(`id >= ? AND id < ?`)
	p, t := h.PurseAccount, h.TransitionAccount
	from, to := micro(f.From), micro(f.To)
	skip := int64(ledger.Pending | ledger.VoidPending)
	channels := `('` + onecard.ChannelAlipay + `', '` + onecard.ChannelWechat + `')`
	q := walkHistory(2, `j.id >= ?`, countNothing) + `SELECT id AS tid, created_at AS at, code, CASE WHEN credit IN (?, ?) THEN amount ELSE -amount END AS amount,
			CASE WHEN credit = ? THEN '` + KindPurse + `' WHEN credit = ? THEN '` + KindTransition + `'
				WHEN debit = ? THEN '` + KindPurse + `' ELSE '` + KindTransition + `' END AS account,
			CASE WHEN credit IN (?, ?) THEN debit ELSE credit END AS other, 0 AS merchant_id, 0 AS terminal_id, key AS ref
		FROM journal WHERE ` + walked + ` AND debit IN (?, ?) AND created_at >= ? AND created_at < ? AND (flags & ?) = 0
		UNION ALL
		SELECT id, created_at, code, amount, CASE WHEN credit = ? THEN '` + KindPurse + `' ELSE '` + KindTransition + `' END,
			debit, 0, 0, key
		FROM journal WHERE ` + walked + ` AND credit IN (?, ?) AND debit NOT IN (?, ?) AND created_at >= ? AND created_at < ? AND (flags & ?) = 0
		UNION ALL
		SELECT transfer_id, paid_at, '` + codePurchase + `', -amount, channel, 0, merchant_id, terminal_id, no
		FROM code_payments WHERE cardholder_id = ? AND cardholder_id <> 0 AND channel IN ` + channels + `
			AND state IN ('` + onecard.CodePaid + `', '` + onecard.CodeRefunded + `') AND paid_at >= ? AND paid_at < ?
		UNION ALL
		SELECT r.transfer_id, r.created_at, '` + codeMerchantRefund + `', r.amount, p.channel, 0, p.merchant_id, p.terminal_id, r.refund_no
		FROM code_payments p JOIN code_payment_refunds r ON r.payment_no = p.no
		WHERE p.cardholder_id = ? AND p.cardholder_id <> 0 AND p.channel IN ` + channels + ` AND p.refunded > 0
			AND p.paid_at >= ? AND p.paid_at < ? AND r.created_at >= ? AND r.created_at < ?`
	args := []any{p, t, lo,
		p, t, p, t, p, p, t, lo, hi, p, t, from, to, skip,
		p, lo, hi, p, t, p, t, from, to, skip,
		h.ID, from, to,
		h.ID, micro(f.From.Add(-refundWindow)), to, from, to}
	var codes []string
	switch f.Kind {
	case onecard.BillSpending:
		codes = spendingCodes
	case onecard.BillTopUp:
		codes = topUpCodes
	default:
		return q, args
	}
	return `SELECT * FROM (` + q + `) k WHERE code IN ` + quoted(codes) + ` AND other NOT IN (?, ?)`, append(args, p, t)
}

// quoted is an SQL list of constant strings (never input).
func quoted(ss []string) string {
	return `('` + strings.Join(ss, `', '`) + `')`
}

// billKind names a line: money between the cardholder's own accounts is a
// claim whatever its code.
func billKind(code string, own bool) string {
	switch {
	case own:
		return onecard.BillClaim
	case code == codePurchase:
		return onecard.BillSpending
	case code == codeFee:
		return onecard.BillFee
	case code == codeMerchantRefund || code == codeTopUpRefund:
		return onecard.BillRefund
	case slices.Contains(topUpCodes, code) && code != codeLoadReversal:
		return onecard.BillTopUp
	}
	return onecard.BillOther
}

// counterparty is who is on the other side of a line.
type counterparty struct {
	merchantID int64 // 0: not a merchant
	merchant   string
	campusID   int64
	via        string // top-up channel: alipay, wechat, bank, cash
}

// billCounterparties names the other side of each line: the merchant
// behind a merchant account or of a code payment, the channel behind a
// clearing account. Keyed by account ID, and by -merchant ID for code
// payments of bound accounts.
func (db *DB) billCounterparties(ctx context.Context, h *onecard.Cardholder, ls []*billLine) (map[int64]counterparty, error) {
	var accounts, merchants []int64
	seen := map[int64]bool{}
	for _, l := range ls {
		switch {
		case l.other != 0 && l.other != h.PurseAccount && l.other != h.TransitionAccount && !seen[l.other]:
			seen[l.other] = true
			accounts = append(accounts, l.other)
		case l.other == 0 && l.merchantID != 0 && !seen[-l.merchantID]:
			seen[-l.merchantID] = true
			merchants = append(merchants, l.merchantID)
		}
	}
	out := map[int64]counterparty{}
	if len(accounts) > 0 {
		cond, args := inList(db, "a.id", accounts)
		rows, err := db.query(ctx, `SELECT a.id, a.kind, COALESCE(m.id, 0), COALESCE(m.name, ''), COALESCE(m.campus_id, 0)
			FROM accounts a LEFT JOIN merchants m ON a.kind = '`+KindMerchant+`' AND m.id = a.owner_id WHERE `+cond, args...)
		if err != nil {
			return nil, fmt.Errorf("store: unable to name bill accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			var kind string
			var c counterparty
			if err := rows.Scan(&id, &kind, &c.merchantID, &c.merchant, &c.campusID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unable to name bill accounts: %w", err)
			}
			switch kind {
			case KindClearingAlipay, KindClearingWechat, KindClearingBank:
				c.via = strings.TrimPrefix(kind, "clearing_")
			case KindCash:
				c.via = "cash"
			}
			out[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: unable to name bill accounts: %w", err)
		}
	}
	if len(merchants) > 0 {
		cond, args := inList(db, "id", merchants)
		rows, err := db.query(ctx, `SELECT id, name, campus_id FROM merchants WHERE `+cond, args...)
		if err != nil {
			return nil, fmt.Errorf("store: unable to name bill merchants: %w", err)
		}
		for rows.Next() {
			var c counterparty
			if err := rows.Scan(&c.merchantID, &c.merchant, &c.campusID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unable to name bill merchants: %w", err)
			}
			out[-c.merchantID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: unable to name bill merchants: %w", err)
		}
	}
	return out, nil
}

// counterpartyOf finds a line's counterparty in what billCounterparties
// returned.
func counterpartyOf(l *billLine, names map[int64]counterparty) counterparty {
	if l.other == 0 {
		return names[-l.merchantID]
	}
	return names[l.other]
}

// describeBills fills in the kind, merchant and place of a page of lines.
// The place is the terminal's name when the line says which terminal (a
// POS record, a code payment, a load at a kiosk, cash machine or POS), with
// its campus, else the merchant's campus.
func (db *DB) describeBills(ctx context.Context, h *onecard.Cardholder, ls []*billLine) error {
	names, err := db.billCounterparties(ctx, h, ls)
	if err != nil {
		return err
	}
	terminals, err := db.billTerminals(ctx, h, ls)
	if err != nil {
		return err
	}
	var campusIDs, terminalIDs []int64
	for _, l := range ls {
		if id := terminals[l]; id != 0 {
			terminalIDs = append(terminalIDs, id)
		}
		if c := counterpartyOf(l, names).campusID; c != 0 {
			campusIDs = append(campusIDs, c)
		}
	}
	places := map[int64]string{} // terminal ID, or -campus ID
	if len(terminalIDs) > 0 {
		cond, args := inList(db, "t.id", terminalIDs)
		rows, err := db.query(ctx, `SELECT t.id, t.name, COALESCE(c.name, '') FROM terminals t LEFT JOIN campuses c ON c.id = t.campus_id
			WHERE `+cond, args...)
		if err != nil {
			return fmt.Errorf("store: unable to name bill terminals: %w", err)
		}
		for rows.Next() {
			var id int64
			var name, campus string
			if err := rows.Scan(&id, &name, &campus); err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to name bill terminals: %w", err)
			}
			if campus != "" {
				name = campus + " · " + name
			}
			places[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: unable to name bill terminals: %w", err)
		}
	}
	if len(campusIDs) > 0 {
		cond, args := inList(db, "id", campusIDs)
		rows, err := db.query(ctx, `SELECT id, name FROM campuses WHERE `+cond, args...)
		if err != nil {
			return fmt.Errorf("store: unable to name bill campuses: %w", err)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to name bill campuses: %w", err)
			}
			places[-id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: unable to name bill campuses: %w", err)
		}
	}
	for _, l := range ls {
		own := l.other == h.PurseAccount || l.other == h.TransitionAccount
		c := counterpartyOf(l, names)
		l.Kind, l.Merchant = billKind(l.code, own), c.merchant
		if l.Kind == onecard.BillTopUp {
			l.Via = c.via
		}
		if p, ok := places[terminals[l]]; ok && terminals[l] != 0 {
			l.Place = p
		} else if c.campusID != 0 {
			l.Place = places[-c.campusID]
		}
	}
	return nil
}

// billTerminals finds the terminal of each line that has one, from the
// transfer's key: a POS record's key names its terminal; a one-card code
// payment's and its refunds' are found in code_payments, a load's in
// device_loads.
func (db *DB) billTerminals(ctx context.Context, h *onecard.Cardholder, ls []*billLine) (map[*billLine]int64, error) {
	out := map[*billLine]int64{}
	payments := map[string][]*billLine{}
	refunds := map[string][]*billLine{}
	loads := map[string][]*billLine{}
	var loadFrom, loadTo time.Time
	for _, l := range ls {
		switch {
		case l.other == 0:
			out[l] = l.terminalID
		case strings.HasPrefix(l.ref, "rec:"):
			// rec:<terminal>:<sequence>[:leg], see upload.transfers.
			if id, err := strconv.ParseInt(strings.Split(l.ref, ":")[1], 10, 64); err == nil {
				out[l] = id
			}
		case strings.HasPrefix(l.ref, codePayKey):
			no := strings.TrimPrefix(l.ref, codePayKey)
			payments[no] = append(payments[no], l)
		case strings.HasPrefix(l.ref, codePayRefundKey):
			no := strings.TrimPrefix(l.ref, codePayRefundKey)
			refunds[no] = append(refunds[no], l)
		case strings.HasPrefix(l.ref, "load:"):
			loads[l.ref] = append(loads[l.ref], l)
			if loadFrom.IsZero() || l.Time.Before(loadFrom) {
				loadFrom = l.Time
			}
			if l.Time.After(loadTo) {
				loadTo = l.Time
			}
		}
	}
	collect := func(byRef map[string][]*billLine, q string, args ...any) error {
		rows, err := db.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("store: unable to find bill terminals: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var ref string
			var id int64
			if err := rows.Scan(&ref, &id); err != nil {
				return fmt.Errorf("store: unable to find bill terminals: %w", err)
			}
			for _, l := range byRef[ref] {
				out[l] = id
			}
		}
		return rows.Err()
	}
	if len(payments) > 0 {
		cond, args := inList(db, "no", mapKeys(payments))
		if err := collect(payments, `SELECT no, terminal_id FROM code_payments WHERE `+cond, args...); err != nil {
			return nil, err
		}
	}
	if len(refunds) > 0 {
		cond, args := inList(db, "r.refund_no", mapKeys(refunds))
		if err := collect(refunds, `SELECT r.refund_no, p.terminal_id FROM code_payment_refunds r JOIN code_payments p ON p.no = r.payment_no
			WHERE `+cond, args...); err != nil {
			return nil, err
		}
	}
	if len(loads) > 0 {
		// A load is authorised in the transaction that moves its money: its
		// authorised_at is the transfer's time cut to the second.
		cond, args := inList(db, "transfer_key", mapKeys(loads))
		if err := collect(loads, `SELECT transfer_key, terminal_id FROM device_loads
			WHERE cardholder_id = ? AND kind IN ('claim', 'cash', 'bank') AND authorised_at >= ? AND authorised_at <= ? AND `+cond,
			append([]any{h.ID, micro(loadFrom.Add(-time.Second)), micro(loadTo)}, args...)...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// summarize sums lines: spending by week, day and merchant, top-ups.
func summarize(h *onecard.Cardholder, f onecard.BillFilter, ls []*billLine, names map[int64]counterparty) *onecard.BillSummary {
	loc := f.From.Location()
	s := &onecard.BillSummary{ByWeek: weeks(f.From, f.To), ByDay: []onecard.DayTotal{}, ByMerchant: []onecard.MerchantTotal{}}
	days := map[time.Time]*onecard.DayTotal{}
	merchants := map[int64]*onecard.MerchantTotal{}
	for _, l := range ls {
		own := l.other == h.PurseAccount || l.other == h.TransitionAccount
		switch {
		case own:
		case slices.Contains(topUpCodes, l.code):
			s.TopUps += l.Amount
		case slices.Contains(spendingCodes, l.code):
			spent := -l.Amount
			s.Spending += spent
			purchase := 0
			if l.code == codePurchase && l.Amount < 0 {
				purchase = 1
			}
			local := l.Time.In(loc)
			i := sort.Search(len(s.ByWeek), func(i int) bool { return s.ByWeek[i].Start.After(local) }) - 1
			if i >= 0 {
				s.ByWeek[i].Spending += spent
			}
			y, m, d := local.Date()
			day := time.Date(y, m, d, 0, 0, 0, 0, loc)
			if days[day] == nil {
				days[day] = &onecard.DayTotal{Start: day}
			}
			days[day].Spending += spent
			days[day].Count += purchase
			c := counterpartyOf(l, names)
			if merchants[c.merchantID] == nil {
				merchants[c.merchantID] = &onecard.MerchantTotal{Merchant: c.merchant}
			}
			merchants[c.merchantID].Spending += spent
			merchants[c.merchantID].Count += purchase
		}
	}
	for _, d := range days {
		s.ByDay = append(s.ByDay, *d)
	}
	sort.Slice(s.ByDay, func(i, j int) bool { return s.ByDay[i].Start.Before(s.ByDay[j].Start) })
	for _, m := range merchants {
		s.ByMerchant = append(s.ByMerchant, *m)
	}
	sort.Slice(s.ByMerchant, func(i, j int) bool {
		a, b := s.ByMerchant[i], s.ByMerchant[j]
		if a.Spending != b.Spending {
			return a.Spending > b.Spending
		}
		return a.Merchant < b.Merchant
	})
	return s
}

// weeks are the weeks of [from, to) in from's location: the first starts
// at from, the others on Mondays at midnight.
func weeks(from, to time.Time) []onecard.WeekTotal {
	loc := from.Location()
	local := from.In(loc)
	y, m, d := local.Date()
	monday := time.Date(y, m, d-(int(local.Weekday())+6)%7, 0, 0, 0, 0, loc)
	out := []onecard.WeekTotal{{Start: from}}
	for next := monday.AddDate(0, 0, 7); next.Before(to); next = next.AddDate(0, 0, 7) {
		out = append(out, onecard.WeekTotal{Start: next})
	}
	return out
}
