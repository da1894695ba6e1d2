package ledger

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// sweepLimit bounds how many expired holds one batch releases.
const sweepLimit = 1000

// systemKeyPrefix starts the keys the ledger makes itself (hold expiries);
// callers may not use it, so theirs never collide.
const systemKeyPrefix = "~"

// batch is the working state of one database transaction: the accounts and
// holds it touches, overlaid with the changes decided so far.
type batch struct {
	now      time.Time
	accounts map[int64]*Account
	stored   map[string]*Transfer // by key, as loaded
	added    map[string]*Transfer // by key, decided in this batch
	state    map[*Transfer]State  // pending transfers whose state changed
	events   []event
	// undo is non-nil while a linked chain is open: it restores what the
	// chain changed if one of its transfers fails.
	undo []func()
}

// event is one transfer's effect on its two accounts.
type event struct {
	t             *Transfer
	debit, credit Delta
}

// applyRequests decides every transfer of every request in one transaction,
// then writes all effects at once. A failure of one transfer (or one linked
// chain) never affects another; an error means the transaction is unusable.
func applyRequests(ctx context.Context, tx Tx, reqs [][]Transfer, sweep bool) ([][]Outcome, error) {
	keys := make([]string, 0, len(reqs))
	ids := make([]int64, 0, 2*len(reqs))
	var holds []string
	for _, r := range reqs {
		for i := range r {
			if validKey(r[i].Key) {
				keys = append(keys, r[i].Key)
			}
			if validKey(r[i].PendingKey) {
				holds = append(holds, r[i].PendingKey)
			}
			ids = append(ids, r[i].Debit, r[i].Credit)
		}
	}
	q := Query{Keys: keys, HoldKeys: holds, Accounts: dedupe(ids)}
	if sweep {
		q.Sweep = sweepLimit
	}
	snap, err := tx.Load(ctx, q)
	if err != nil {
		return nil, err
	}
	head := snap.Head
	b := &batch{now: tx.Now(), stored: snap.Transfers, accounts: snap.Accounts,
		added: make(map[string]*Transfer), state: make(map[*Transfer]State)}
	expired := snap.Expired

	// Release holds that timed out before anything else, so their money is
	// available to this batch and late posts see them expired.
	for _, t := range expired {
		if s := b.stored[t.Key]; s != nil {
			t = s // the same hold, also loaded by key: one object, one state
		}
		b.expire(t)
	}
	for _, t := range b.stored {
		if t.State == StatePending && t.expiredAt(b.now) {
			b.expire(t)
		}
	}

	out := make([][]Outcome, len(reqs))
	for i, r := range reqs {
		out[i] = b.request(r)
	}

	w := b.writes(&head)
	if len(w.Transfers) == 0 {
		return out, nil
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	return out, nil
}

// request decides one request's transfers, honouring linked chains.
func (b *batch) request(ts []Transfer) []Outcome {
	out := make([]Outcome, len(ts))
	start := -1 // first transfer of the open chain, -1 when none
	failed := false
	for i := range ts {
		t := &ts[i]
		linked := t.Flags&Linked != 0
		if start < 0 && linked {
			start, failed = i, false
			b.undo = []func(){}
		}
		if start >= 0 && failed {
			out[i].Result = LinkedFailed
		} else {
			out[i] = b.transfer(t)
			if start >= 0 && !out[i].Result.Done() {
				failed = true
			}
		}
		if start >= 0 && linked && i == len(ts)-1 {
			out[i].Result, failed = LinkedOpen, true
		}
		if start >= 0 && (!linked || i == len(ts)-1) {
			if failed {
				b.rollback()
				for j := start; j <= i; j++ {
					if out[j].Result.Done() {
						out[j] = Outcome{Result: LinkedFailed}
					}
				}
			}
			start, b.undo = -1, nil
		}
	}
	return out
}

// rollback undoes an open chain's changes, newest first.
func (b *batch) rollback() {
	for i := len(b.undo) - 1; i >= 0; i-- {
		b.undo[i]()
	}
}

// transfer decides one transfer and, if it succeeds, applies it to the
// batch's state.
func (b *batch) transfer(t *Transfer) Outcome {
	if !validKey(t.Key) || strings.HasPrefix(t.Key, systemKeyPrefix) {
		return Outcome{Result: InvalidKey}
	}
	if prev := b.lookup(t.Key); prev != nil {
		if b.sameTransfer(prev, t) {
			return Outcome{Result: Exists, Transfer: prev}
		}
		return Outcome{Result: ExistsDifferent}
	}
	if !validText(t.Code, MaxCodeLen) || !validText(t.Memo, MaxMemoLen) {
		return Outcome{Result: InvalidText}
	}
	kind := t.Flags.Kind()
	switch kind {
	case 0, Pending:
		return b.move(t, kind == Pending)
	case PostPending, VoidPending:
		return b.resolve(t, kind == PostPending)
	}
	return Outcome{Result: InvalidFlags}
}

func (b *batch) move(t *Transfer, pending bool) Outcome {
	if t.PendingKey != "" || t.Timeout < 0 || (!pending && t.Timeout != 0) {
		return Outcome{Result: InvalidFlags}
	}
	if t.Amount <= 0 {
		return Outcome{Result: InvalidAmount}
	}
	if t.Debit == t.Credit {
		return Outcome{Result: SameAccount}
	}
	dr, cr := b.accounts[t.Debit], b.accounts[t.Credit]
	switch {
	case dr == nil:
		return Outcome{Result: DebitNotFound}
	case cr == nil:
		return Outcome{Result: CreditNotFound}
	case dr.Closed || cr.Closed:
		return Outcome{Result: AccountClosed}
	case dr.Frozen && t.Flags&Settle == 0:
		return Outcome{Result: DebitFrozen}
	}
	if r := checkDebit(dr, t.Amount); r != OK {
		return Outcome{Result: r}
	}
	if r := checkCredit(cr, t.Amount); r != OK {
		return Outcome{Result: r}
	}
	rec := b.record(t)
	if pending {
		rec.State = StatePending
		if t.Timeout > 0 {
			exp := b.now.Add(t.Timeout)
			rec.ExpiresAt = &exp
		}
	}
	b.apply(rec)
	return Outcome{Result: OK, Transfer: rec}
}

func (b *batch) resolve(t *Transfer, post bool) Outcome {
	if t.Timeout != 0 {
		return Outcome{Result: InvalidFlags}
	}
	p := b.lookup(t.PendingKey)
	if t.PendingKey == "" || p == nil || p.Flags&Pending == 0 {
		return Outcome{Result: PendingNotFound}
	}
	if (t.Debit != 0 && t.Debit != p.Debit) || (t.Credit != 0 && t.Credit != p.Credit) {
		return Outcome{Result: PendingMismatch}
	}
	switch b.stateOf(p) {
	case StatePending:
	case StateExpired:
		return Outcome{Result: PendingExpired}
	default:
		return Outcome{Result: PendingNotPending}
	}
	amount := t.Amount
	switch {
	case amount < 0 || (!post && amount != 0 && amount != p.Amount):
		return Outcome{Result: InvalidAmount}
	case amount > p.Amount:
		return Outcome{Result: PostExceedsPending}
	case amount == 0 && post:
		amount = p.Amount
	case !post:
		amount = p.Amount
	}
	rec := b.record(t)
	rec.Debit, rec.Credit, rec.Amount, rec.PendingID, rec.Released = p.Debit, p.Credit, amount, p.ID, p.Amount
	if rec.Code == "" {
		rec.Code = p.Code
	}
	rec.pending = p
	if post {
		b.setState(p, StatePosted)
	} else {
		b.setState(p, StateVoided)
	}
	b.apply(rec)
	return Outcome{Result: OK, Transfer: rec}
}

// expire releases a hold whose timeout passed, recording a void under a
// key of the ledger's own.
func (b *batch) expire(p *Transfer) {
	key := systemKeyPrefix + "expire:" + strconv.FormatInt(p.ID, 10)
	if b.stateOf(p) != StatePending || b.added[key] != nil {
		return
	}
	rec := &Transfer{
		Key: key, Debit: p.Debit, Credit: p.Credit,
		Amount: p.Amount, Flags: VoidPending, PendingKey: p.Key, PendingID: p.ID, Released: p.Amount, Code: "expire", Time: b.now, pending: p,
	}
	b.added[rec.Key] = rec
	b.setState(p, StateExpired)
	b.apply(rec)
}

// record makes the stored form of a caller's transfer.
func (b *batch) record(t *Transfer) *Transfer {
	rec := &Transfer{Key: t.Key, Debit: t.Debit, Credit: t.Credit, Amount: t.Amount, Flags: t.Flags,
		PendingKey: t.PendingKey, Code: t.Code, Memo: t.Memo, Time: b.now}
	b.added[rec.Key] = rec
	if b.undo != nil {
		b.undo = append(b.undo, func() { delete(b.added, rec.Key) })
	}
	return rec
}

// apply changes both accounts by what rec does and appends the event.
func (b *batch) apply(rec *Transfer) {
	dr, cr := effects(rec)
	for _, d := range [2]Delta{dr, cr} {
		a := b.accounts[d.Account]
		if b.undo != nil {
			old := *a
			b.undo = append(b.undo, func() { *a = old })
		}
		a.Balance += d.Balance
		a.DebitsPending += d.DebitsPending
		a.CreditsPending += d.CreditsPending
	}
	if b.undo != nil {
		n := len(b.events)
		b.undo = append(b.undo, func() { b.events = b.events[:n] })
	}
	b.events = append(b.events, event{t: rec, debit: dr, credit: cr})
}

func (b *batch) lookup(key string) *Transfer {
	if t := b.added[key]; t != nil {
		return t
	}
	return b.stored[key]
}

func (b *batch) stateOf(p *Transfer) State {
	if s, ok := b.state[p]; ok {
		return s
	}
	return p.State
}

func (b *batch) setState(p *Transfer, s State) {
	if b.undo != nil {
		old, had := b.state[p]
		b.undo = append(b.undo, func() {
			if had {
				b.state[p] = old
			} else {
				delete(b.state, p)
			}
		})
	}
	b.state[p] = s
}

// writes numbers the batch's transfers, chains their hashes, merges the
// account deltas and lists the holds to store or update.
func (b *batch) writes(head *Head) *Writes {
	w := &Writes{Transfers: make([]*Transfer, 0, len(b.events))}
	deltas := make(map[int64]int, 2*len(b.events))
	for i := range b.events {
		ev := &b.events[i]
		head.TransferID++
		t := ev.t
		t.ID = head.TransferID
		if t.pending != nil {
			t.PendingID = t.pending.ID
		}
		t.Hash = ChainHash(head.Hash, t)
		head.Hash = t.Hash
		dr, cr := b.accounts[t.Debit], b.accounts[t.Credit]
		t.DebitPrev, t.CreditPrev = dr.Last, cr.Last
		dr.Last, cr.Last = t.ID, t.ID
		w.Transfers = append(w.Transfers, t)
		for _, d := range [2]Delta{ev.debit, ev.credit} {
			if j, ok := deltas[d.Account]; ok {
				m := &w.Deltas[j]
				m.Balance += d.Balance
				m.DebitsPending += d.DebitsPending
				m.CreditsPending += d.CreditsPending
			} else {
				deltas[d.Account] = len(w.Deltas)
				w.Deltas = append(w.Deltas, d)
			}
		}
	}
	for i := range w.Deltas {
		w.Deltas[i].Last = b.accounts[w.Deltas[i].Account].Last
	}
	for _, t := range w.Transfers {
		if t.Flags&Pending != 0 {
			if s, ok := b.state[t]; ok {
				t.State = s // decided and resolved within this batch
			}
			w.Holds = append(w.Holds, Hold{ID: t.ID, State: t.State, ExpiresAt: micro(t.ExpiresAt)})
		}
	}
	for p, s := range b.state {
		if b.added[p.Key] != p { // a stored hold
			w.Resolved = append(w.Resolved, Hold{ID: p.ID, State: s})
		}
	}
	w.Head = *head
	return w
}

func micro(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMicro()
}

// checkDebit says whether a can give amount more without leaving its floor
// or overflowing.
func checkDebit(a *Account, amount int64) Result {
	if a.Balance < math.MinInt64+amount || a.DebitsPending > math.MaxInt64-amount {
		return Overflow
	}
	if a.Floor != NoFloor && a.Balance-a.DebitsPending-amount < a.Floor {
		return InsufficientFunds
	}
	return OK
}

// checkCredit says whether a can take amount more without passing its
// ceiling or overflowing.
func checkCredit(a *Account, amount int64) Result {
	if a.Balance > math.MaxInt64-amount || a.CreditsPending > math.MaxInt64-amount ||
		a.Balance+a.CreditsPending > math.MaxInt64-amount {
		return Overflow
	}
	if a.Ceiling != NoCeiling && a.Balance+a.CreditsPending+amount > a.Ceiling {
		return LimitExceeded
	}
	return OK
}

// sameTransfer reports whether t asks for what stored already did, so that
// a retry returns Exists rather than ExistsDifferent.
func (b *batch) sameTransfer(stored, t *Transfer) bool {
	kind := t.Flags.Kind()
	if stored.Flags.Kind() != kind {
		return false
	}
	if kind == PostPending || kind == VoidPending {
		// Stored records know their hold by ID, records of this batch by key.
		p := b.lookup(t.PendingKey)
		samePending := p != nil && (stored.pending == p || (stored.PendingID != 0 && stored.PendingID == p.ID))
		return samePending && (t.Debit == 0 || t.Debit == stored.Debit) && (t.Credit == 0 || t.Credit == stored.Credit) &&
			(t.Amount == 0 || t.Amount == stored.Amount)
	}
	if t.PendingKey != "" {
		return false
	}
	return stored.Debit == t.Debit && stored.Credit == t.Credit && stored.Amount == t.Amount && stored.Code == t.Code
}

func (t *Transfer) expiredAt(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}

// validKey accepts 1 to MaxKeyLen bytes of UTF-8 without control
// characters, so that no key can break the statement that looks keys up.
func validKey(k string) bool {
	return k != "" && validText(k, MaxKeyLen)
}

func validText(s string, maxLen int) bool {
	if len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]struct{}, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if _, ok := seen[id]; !ok && id != 0 {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// String describes a transfer for logs and check reports.
func (t *Transfer) String() string {
	return fmt.Sprintf("transfer %d %q: %d fen from %d to %d", t.ID, t.Key, t.Amount, t.Debit, t.Credit)
}
