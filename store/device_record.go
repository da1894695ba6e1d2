package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/purse"
)

// UploadRecords implements device.Backend: a POS or bath controller
// uploads the purchase and bath (compound) records its cards signed (POST
// /device/v1/records), 1 to device.MaxRecords at a time, all in one
// transaction. Both are debits of the card's offline counter and are
// booked alike. Each record gets its own result, and one bad record never
// fails another:
//
//   - rejected (reported in device_rejects and the audit log): neither a
//     purchase nor a bath, made by another terminal, balances that do not add up or
//     a TAC that does not verify (invalid), a card this school does not
//     have (not_found) or whose number differs (invalid), or a record
//     that takes the terminal sequence or the card counter of a different
//     record already stored (conflict);
//   - duplicate: the same record again, by (terminal, sequence) or (card,
//     counter), in this batch or before; nothing moves;
//   - accepted: the money moves from the cardholder to the terminal's
//     merchant (or, for a terminal of the card centre itself, to the
//     school's fee income).
//
// A genuine record is never refused for money: the card already paid. The
// purse shadow pays as much as it holds, the transition balance the rest
// down to its arrears limit (a linked chain of transfers, so arrears can
// arise, as seed 001 Part 08 says they do), and should even that fall
// short, the school's over/short account covers it: the card held money
// the books did not, which the mismatch check reports. Records are
// accepted whatever the card's state now, including records a lost card
// made after its loss report (the purse is like cash: whoever holds the
// card can spend it at terminals that have not yet pulled the blacklist);
// those are accepted and audited.
//
// After the batch each card's purse state is updated (highest counter,
// accepted count, balance after its newest record) and, when the server
// has every purchase up to that counter, no load is unsettled and the
// latest load was authorised well before the newest purchase (device.Skew),
// the newest record's balance is compared with the purse shadow; a
// difference over the school's threshold freezes the card for mismatch.
func (db *DB) UploadRecords(ctx context.Context, t *onecard.Terminal, recs []purse.Record) ([]device.RecordResult, error) {
	if n := len(recs); n == 0 || n > device.MaxRecords {
		return nil, onecard.Errorf(onecard.EINVALID, "An upload carries 1 to %d records, not %d.", device.MaxRecords, n)
	}
	is, err := db.PurseIssuer(ctx, t.SchoolID)
	if err != nil {
		return nil, err
	}
	verified := make([]error, len(recs))
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Type != purse.TypePurchase && r.Type != purse.TypeCompound:
			verified[i] = onecard.Errorf(onecard.EINVALID, "Only purchase and bath (compound) records are uploaded here; this one is a %s.", r.Type)
		case r.TerminalID != purse.TerminalID(t.ID):
			verified[i] = onecard.Errorf(onecard.EINVALID, "This record was made by terminal %d, not by this one (%d).", r.TerminalID, t.ID)
		default:
			verified[i] = is.VerifyRecord(r)
		}
	}
	var results []device.RecordResult
	err = db.WriteGrouped(ctx, func(tx *Tx) error {
		u := &upload{tx: tx, t: t, recs: recs, results: make([]device.RecordResult, len(recs)), verified: verified}
		if err := u.run(ctx); err != nil {
			return err
		}
		results = u.results
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// upload is one UploadRecords batch inside its transaction.
type upload struct {
	tx       *Tx
	t        *onecard.Terminal
	recs     []purse.Record
	verified []error
	results  []device.RecordResult

	cards   map[purse.UID]*onecard.Card
	holders map[int64]*onecard.Cardholder
	// dupOf[i] is the index of an earlier record of this batch that i
	// repeats, or -1.
	dupOf []int
	// legs[i] are the indexes in the ledger request of record i's transfers.
	legs [][2]int
}

func (u *upload) reject(i int, err error) {
	u.results[i] = device.RecordResult{Status: device.RecordRejected, Code: onecard.ErrorCode(err), Message: onecard.ErrorMessage(err)}
}

func (u *upload) run(ctx context.Context) error {
	tx := u.tx
	if _, err := tx.LockHead(ctx); err != nil {
		return err
	}
	u.dupOf = make([]int, len(u.recs))
	u.legs = make([][2]int, len(u.recs))
	for i, err := range u.verified {
		u.dupOf[i] = -1
		if err != nil {
			u.reject(i, err)
		}
	}
	if err := u.loadCards(ctx); err != nil {
		return err
	}
	if err := u.findDuplicates(ctx); err != nil {
		return err
	}
	transfers, err := u.transfers(ctx)
	if err != nil {
		return err
	}
	if len(transfers) > 0 {
		out, err := ledger.Apply(ctx, tx, transfers)
		if err != nil {
			return err
		}
		u.mapOutcomes(out)
	}
	for i, j := range u.dupOf {
		if j >= 0 && u.results[i].Status == "" {
			u.results[i] = device.RecordResult{Status: device.RecordDuplicate, TransferID: u.results[j].TransferID}
			if u.results[j].Status == device.RecordRejected {
				u.results[i] = u.results[j]
			}
		}
	}
	if err := u.store(ctx); err != nil {
		return err
	}
	return u.checkCards(ctx)
}

// loadCards finds the cards of the records that passed the crypto, with
// their cardholders, and rejects records of unknown cards or numbers.
func (u *upload) loadCards(ctx context.Context) error {
	tx := u.tx
	u.cards, u.holders = map[purse.UID]*onecard.Card{}, map[int64]*onecard.Cardholder{}
	var uids []string
	seen := map[purse.UID]bool{}
	for i := range u.recs {
		if uid := u.recs[i].UID; u.results[i].Status == "" && !seen[uid] {
			seen[uid] = true
			uids = append(uids, uid.String())
		}
	}
	if len(uids) == 0 {
		return nil
	}
	cond, args := inList(tx.db, "uid", uids)
	rows, err := tx.query(ctx, `SELECT `+cardColumns+` FROM cards WHERE school_id = ? AND `+cond, append([]any{u.t.SchoolID}, args...)...)
	if err != nil {
		return fmt.Errorf("store: unable to load cards: %w", err)
	}
	var holderIDs []int64
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("store: unable to load cards: %w", err)
		}
		uid, err := purse.ParseUID(c.UID)
		if err != nil {
			continue // not a purse card's UID: no record can name it
		}
		u.cards[uid] = c
		holderIDs = append(holderIDs, c.CardholderID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load cards: %w", err)
	}
	if len(holderIDs) > 0 {
		cond, args := inList(tx.db, "id", holderIDs)
		rows, err := tx.query(ctx, `SELECT `+cardholderColumns+` FROM cardholders WHERE `+cond, args...)
		if err != nil {
			return fmt.Errorf("store: unable to load cardholders: %w", err)
		}
		for rows.Next() {
			h, err := scanCardholder(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("store: unable to load cardholders: %w", err)
			}
			u.holders[h.ID] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: unable to load cardholders: %w", err)
		}
	}
	for i := range u.recs {
		r := &u.recs[i]
		if u.results[i].Status != "" {
			continue
		}
		c := u.cards[r.UID]
		switch {
		case c == nil:
			u.reject(i, onecard.Errorf(onecard.ENOTFOUND, "This school has no card with UID %s.", r.UID))
		case u.holders[c.CardholderID] == nil:
			return fmt.Errorf("store: card %d has no cardholder %d", c.ID, c.CardholderID)
		case u.holders[c.CardholderID].Number != r.Number:
			u.reject(i, onecard.Errorf(onecard.EINVALID, "The card number %q does not match card %s's record.", r.Number, r.UID))
		}
	}
	return nil
}

// storedRecord is what identifies a stored record.
type storedRecord struct {
	terminalID, cardID, transferID int64
	seq                            uint32
	counter                        uint16
	tac                            string
}

// findDuplicates marks records already stored (duplicate) or repeated in
// this batch (dupOf), and rejects a record whose terminal sequence or card
// counter another record took.
func (u *upload) findDuplicates(ctx context.Context) error {
	tx := u.tx
	var seqs []int64
	var cardIDs, counters []int64
	for i := range u.recs {
		if u.results[i].Status == "" {
			seqs = append(seqs, int64(u.recs[i].TerminalSeq))
			cardIDs = append(cardIDs, u.cards[u.recs[i].UID].ID)
			counters = append(counters, int64(u.recs[i].Counter))
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	bySeq := map[uint32]storedRecord{}
	byCounter := map[[2]int64]storedRecord{}
	scan := func(q string, args ...any) error {
		rows, err := tx.query(ctx, `SELECT terminal_id, terminal_seq, card_id, card_counter, tac, transfer_id FROM device_records WHERE `+q, args...)
		if err != nil {
			return fmt.Errorf("store: unable to look up records: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s storedRecord
			var seq, counter int64
			if err := rows.Scan(&s.terminalID, &seq, &s.cardID, &counter, &s.tac, &s.transferID); err != nil {
				return fmt.Errorf("store: unable to look up records: %w", err)
			}
			s.seq, s.counter = uint32(seq), uint16(counter)
			if s.terminalID == u.t.ID {
				bySeq[s.seq] = s
			}
			byCounter[[2]int64{s.cardID, int64(s.counter)}] = s
		}
		return rows.Err()
	}
	cond, args := inList(tx.db, "terminal_seq", seqs)
	if err := scan(`terminal_id = ? AND `+cond, append([]any{u.t.ID}, args...)...); err != nil {
		return err
	}
	cardCond, cardArgs := inList(tx.db, "card_id", cardIDs)
	counterCond, counterArgs := inList(tx.db, "card_counter", counters)
	if err := scan(cardCond+` AND `+counterCond, append(cardArgs, counterArgs...)...); err != nil {
		return err
	}

	firstBySeq := map[uint32]int{}
	firstByCounter := map[[2]int64]int{}
	for i := range u.recs {
		if u.results[i].Status != "" {
			continue
		}
		r := &u.recs[i]
		c := u.cards[r.UID]
		ck := [2]int64{c.ID, int64(r.Counter)}
		same := func(s storedRecord) bool {
			return s.terminalID == u.t.ID && s.seq == r.TerminalSeq && s.cardID == c.ID && s.counter == r.Counter && s.tac == r.TAC.String()
		}
		if s, ok := bySeq[r.TerminalSeq]; ok {
			if !same(s) {
				u.reject(i, onecard.Errorf(onecard.ECONFLICT, "Terminal sequence %d was already used by another record.", r.TerminalSeq))
			} else {
				u.results[i] = device.RecordResult{Status: device.RecordDuplicate, TransferID: s.transferID}
			}
			continue
		}
		if s, ok := byCounter[ck]; ok {
			if !same(s) {
				u.reject(i, onecard.Errorf(onecard.ECONFLICT, "Transaction %d of card %s was already recorded by another terminal or sequence.", r.Counter, r.UID))
			} else {
				u.results[i] = device.RecordResult{Status: device.RecordDuplicate, TransferID: s.transferID}
			}
			continue
		}
		j, okSeq := firstBySeq[r.TerminalSeq]
		if !okSeq {
			j2, okCounter := firstByCounter[ck]
			j, okSeq = j2, okCounter
		}
		if okSeq {
			if o := &u.recs[j]; o.UID == r.UID && o.Counter == r.Counter && o.TerminalSeq == r.TerminalSeq && o.TAC == r.TAC {
				u.dupOf[i] = j
			} else {
				u.reject(i, onecard.Errorf(onecard.ECONFLICT, "This upload carries two different records with terminal sequence %d or purchase %d of card %s.",
					r.TerminalSeq, r.Counter, r.UID))
			}
			continue
		}
		firstBySeq[r.TerminalSeq] = i
		firstByCounter[ck] = i
	}
	return nil
}

// transfers builds the ledger request: for each record to book, the purse
// shadow's part, the transition balance's part and the over/short part,
// linked and settled: the card already paid, whatever its freeze now.
func (u *upload) transfers(ctx context.Context) ([]ledger.Transfer, error) {
	tx := u.tx
	var book []int
	var ids []int64
	for i := range u.recs {
		if u.results[i].Status == "" && u.dupOf[i] < 0 {
			book = append(book, i)
			h := u.holders[u.cards[u.recs[i].UID].CardholderID]
			ids = append(ids, h.PurseAccount, h.TransitionAccount)
		}
	}
	if len(book) == 0 {
		return nil, nil
	}
	accounts, err := tx.Accounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	avail := make(map[int64]int64, len(accounts))
	for id, a := range accounts {
		avail[id] = max(a.Available(), 0)
	}
	credit, memo := int64(0), u.t.Name
	if u.t.MerchantID != 0 {
		m, err := findMerchant(ctx, tx, u.t.MerchantID)
		if err != nil {
			return nil, err
		}
		credit, memo = m.Account, m.Name
	} else if credit, err = tx.systemAccount(ctx, u.t.SchoolID, KindFeeIncome); err != nil {
		return nil, err
	}
	var overShort int64
	var ts []ledger.Transfer
	for _, i := range book {
		r := &u.recs[i]
		h := u.holders[u.cards[r.UID].CardholderID]
		key := fmt.Sprintf("rec:%d:%d", u.t.ID, r.TerminalSeq)
		start := len(ts)
		leg := func(from, amount int64, suffix string) {
			ts = append(ts, ledger.Transfer{Key: key + suffix, Debit: from, Credit: credit, Amount: amount, Code: codePurchase,
				Memo: truncate(memo, ledger.MaxMemoLen), Flags: ledger.Linked | ledger.Settle}) // the card already paid
		}
		rest := r.Amount
		if p := min(rest, avail[h.PurseAccount]); p > 0 {
			leg(h.PurseAccount, p, "")
			avail[h.PurseAccount] -= p
			rest -= p
		}
		if p := min(rest, avail[h.TransitionAccount]); p > 0 {
			leg(h.TransitionAccount, p, ":t")
			avail[h.TransitionAccount] -= p
			rest -= p
		}
		if rest > 0 {
			if overShort == 0 {
				if overShort, err = tx.systemAccount(ctx, u.t.SchoolID, KindOverShort); err != nil {
					return nil, err
				}
			}
			leg(overShort, rest, ":o")
		}
		ts[len(ts)-1].Flags &^= ledger.Linked
		u.legs[i] = [2]int{start, len(ts)}
	}
	return ts, nil
}

// mapOutcomes turns the ledger's outcomes into record results.
func (u *upload) mapOutcomes(out []ledger.Outcome) {
	for i := range u.recs {
		l := u.legs[i]
		if l[1] == 0 {
			continue
		}
		failed := ledger.OK
		for _, o := range out[l[0]:l[1]] {
			if !o.Result.Done() && (failed == ledger.OK || failed == ledger.LinkedFailed) {
				failed = o.Result
			}
		}
		if failed != ledger.OK {
			u.reject(i, onecard.Errorf(onecard.ECONFLICT, "The ledger refused this record (%s).", failed))
			continue
		}
		u.results[i] = device.RecordResult{Status: device.RecordAccepted, TransferID: out[l[0]].Transfer.ID}
	}
}

// store writes the accepted records, the rejected ones (with an audit
// entry each), the cards' purse states, the terminal's sequence and an
// audit entry per lost card that paid after its loss report.
func (u *upload) store(ctx context.Context) error {
	tx := u.tx
	type cardNote struct {
		max          uint16
		balance      int64
		count        int64
		afterLoss    int
		afterLossSum int64
	}
	notes := map[int64]*cardNote{}
	var order []int64
	var rows [][]any
	var maxSeq uint32
	for i := range u.recs {
		r := &u.recs[i]
		switch u.results[i].Status {
		case device.RecordAccepted:
			c := u.cards[r.UID]
			rows = append(rows, []any{u.t.SchoolID, u.t.ID, int64(r.TerminalSeq), c.ID, c.CardholderID, int64(r.Counter), r.Type.String(),
				r.Amount, r.BalanceBefore, r.BalanceAfter, micro(r.Time), r.TAC.String(), u.results[i].TransferID, micro(tx.now)})
			n := notes[c.ID]
			if n == nil {
				n = &cardNote{}
				notes[c.ID] = n
				order = append(order, c.ID)
			}
			n.count++
			if r.Counter > n.max {
				n.max, n.balance = r.Counter, r.BalanceAfter
			}
			if c.LostAt != nil && r.Time.After(*c.LostAt) {
				n.afterLoss++
				n.afterLossSum += r.Amount
			}
			maxSeq = max(maxSeq, r.TerminalSeq)
		case device.RecordRejected:
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO device_rejects (school_id, terminal_id, at, code, reason, record) VALUES (?, ?, ?, ?, ?, ?)`,
				u.t.SchoolID, u.t.ID, micro(tx.now), u.results[i].Code, u.results[i].Message, string(data)); err != nil {
				return fmt.Errorf("store: unable to record a rejected record: %w", err)
			}
			if err := tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "device.record_rejected", SchoolID: u.t.SchoolID,
				TargetType: "terminal", TargetID: u.t.ID, Detail: fmt.Sprintf("sequence %d, card %s, purchase %d, %s: %s",
					r.TerminalSeq, r.UID, r.Counter, onecard.Yuan(r.Amount), u.results[i].Message)}); err != nil {
				return err
			}
		}
	}
	const cols = 14
	for chunk := range chunks(rows, 100) {
		args := make([]any, 0, len(chunk)*cols)
		values := make([]string, len(chunk))
		for k, row := range chunk {
			args = append(args, row...)
			values[k] = "(" + placeholders(cols) + ")"
		}
		if _, err := tx.exec(ctx, `INSERT INTO device_records (school_id, terminal_id, terminal_seq, card_id, cardholder_id, card_counter,
			type, amount, balance_before, balance_after, at, tac, transfer_id, uploaded_at) VALUES `+strings.Join(values, ", "), args...); err != nil {
			return fmt.Errorf("store: unable to store records: %w", err)
		}
	}
	if len(order) > 0 {
		var values []string
		var args []any
		for _, id := range order {
			n := notes[id]
			values = append(values, "(?, 0, ?, ?, ?, ?)")
			args = append(args, id, int64(n.max), n.count, n.balance, micro(tx.now))
		}
		if _, err := tx.exec(ctx, `INSERT INTO card_purses (card_id, online_counter, offline_counter, purchases, last_balance, updated_at)
			VALUES `+strings.Join(values, ", ")+`
			ON CONFLICT (card_id) DO UPDATE SET
				last_balance = CASE WHEN excluded.offline_counter > card_purses.offline_counter THEN excluded.last_balance ELSE card_purses.last_balance END,
				offline_counter = `+tx.db.greatest()+`(card_purses.offline_counter, excluded.offline_counter),
				purchases = card_purses.purchases + excluded.purchases,
				updated_at = excluded.updated_at`, args...); err != nil {
			return fmt.Errorf("store: unable to update card purses: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE terminals SET seq = `+tx.db.greatest()+`(seq, ?) WHERE id = ?`, int64(maxSeq), u.t.ID); err != nil {
			return fmt.Errorf("store: unable to update terminal sequence: %w", err)
		}
	}
	for _, id := range order {
		if n := notes[id]; n.afterLoss > 0 {
			var c *onecard.Card
			for _, cc := range u.cards {
				if cc.ID == id {
					c = cc
				}
			}
			if err := tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "device.records_after_loss", SchoolID: c.SchoolID, TargetType: "card",
				TargetID: c.ID, Detail: fmt.Sprintf("%d purchases of %s made after the loss report at %s, accepted from terminal %s",
					n.afterLoss, onecard.Yuan(n.afterLossSum), c.LostAt.Format(time.RFC3339), u.t.Code)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCards compares, for each usable card with records accepted in this
// batch, the balance after its newest record with the purse shadow, when
// the comparison means something (see UploadRecords), and freezes the
// card for mismatch when they differ by more than the school's threshold.
func (u *upload) checkCards(ctx context.Context) error {
	tx := u.tx
	var ids []int64
	byID := map[int64]*onecard.Card{}
	for i := range u.recs {
		if u.results[i].Status != device.RecordAccepted {
			continue
		}
		c := u.cards[u.recs[i].UID]
		if byID[c.ID] == nil && c.Usable() {
			byID[c.ID] = c
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	states := map[int64]*purseState{}
	cond, args := inList(tx.db, "card_id", ids)
	rows, err := tx.query(ctx, `SELECT card_id, offline_counter, purchases, last_balance FROM card_purses WHERE `+cond, args...)
	if err != nil {
		return fmt.Errorf("store: unable to load card purses: %w", err)
	}
	for rows.Next() {
		var id, offline int64
		s := &purseState{}
		if err := rows.Scan(&id, &offline, &s.purchases, &s.lastBalance); err != nil {
			rows.Close()
			return fmt.Errorf("store: unable to load card purses: %w", err)
		}
		s.offline = uint16(offline)
		states[id] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load card purses: %w", err)
	}
	rows, err = tx.query(ctx, `SELECT card_id, COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), COALESCE(MAX(authorised_at), 0)
		FROM device_loads WHERE state <> 'reversed' AND `+cond+` GROUP BY card_id`, args...)
	if err != nil {
		return fmt.Errorf("store: unable to load card loads: %w", err)
	}
	for rows.Next() {
		var id, last int64
		var pending int
		if err := rows.Scan(&id, &pending, &last); err != nil {
			rows.Close()
			return fmt.Errorf("store: unable to load card loads: %w", err)
		}
		if s := states[id]; s != nil {
			s.pending, s.lastLoadAt = pending, fromMicro(last)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load card loads: %w", err)
	}
	var check []int64
	var purses []int64
	for _, id := range ids {
		if s := states[id]; s != nil && s.complete() {
			check = append(check, id)
			purses = append(purses, u.holders[byID[id].CardholderID].PurseAccount)
		}
	}
	if len(check) == 0 {
		return nil
	}
	accounts, err := tx.Accounts(ctx, purses)
	if err != nil {
		return err
	}
	var settings *onecard.Settings
	for _, id := range check {
		c, s := byID[id], states[id]
		shadow := accounts[u.holders[c.CardholderID].PurseAccount].Balance
		if settings == nil {
			school, err := tx.school(ctx, u.t.SchoolID)
			if err != nil {
				return err
			}
			settings = &school.Settings
		}
		if !mismatched(shadow, s.lastBalance, *settings) {
			continue
		}
		// The newest record must postdate the latest load, or its balance
		// does not include it.
		var at int64
		if err := tx.queryRow(ctx, `SELECT at FROM device_records WHERE card_id = ? AND card_counter = ?`,
			id, int64(s.offline)).Scan(&at); err != nil {
			return fmt.Errorf("store: unable to load the newest record: %w", err)
		}
		if !s.lastLoadAt.IsZero() && !s.lastLoadAt.Before(fromMicro(at).Add(-device.Skew)) {
			continue
		}
		locked, err := tx.card(ctx, id)
		if err != nil {
			return err
		}
		if !locked.Usable() {
			continue
		}
		if err := tx.freezeMismatch(ctx, locked, s.lastBalance, shadow, "after an upload of terminal "+u.t.Code); err != nil {
			return err
		}
	}
	return nil
}
