package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// TestRandomDomainOperationsKeepInvariants is ledger/property_test.go one
// level up: many goroutines run random domain operations (cash deposits,
// payments within and beyond limits and balances, raw holds posted in full or
// in part or voided through the group committer, claims onto the card,
// operator freezes and unfreezes, loss reports, unlocks and replacements),
// some of them retried with the same key, against a handful of cardholders.
// Every error must be a domain error with a code the operation may return.
// Afterwards every cardholder's balance must be what the acknowledged
// operations say (each key counted once), every cardholder must have one
// active card, arrears, freezes, account flags and the blacklist must agree
// with the balances and cards, every hold must have been released, the
// merchants and system accounts must hold what was paid to them, and
// ledger.Check must find nothing wrong.
//
// The store runs on the wall clock, so hold timeouts are real; the daily
// limit counts whatever day it is.
//
// What it asserts holds for every interleaving; a failure names the seed and
// prints the operations that touched the cardholder concerned.
func TestRandomDomainOperationsKeepInvariants(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
					runDomainOperations(t, storetest.Open(t, dialect, store.Options{}), seed)
				})
			}
		})
	}
}

const (
	propCardholders = 20
	propWorkers     = 8
	propOps         = 100
)

// domainRun is the shared state of one run: the fixture and what the store
// acknowledged.
type domainRun struct {
	t         *testing.T
	db        *store.DB
	led       *ledger.Ledger
	seed      uint64
	schoolID  int64
	settings  onecard.Settings
	holders   []*onecard.Cardholder
	merchants []*onecard.Merchant
	cash      int64 // the school's cash account
	feeIncome int64 // the school's fee income account

	seq atomic.Int64 // orders the log lines of all workers

	mu        sync.Mutex
	acked     map[string]int64 // request key -> transfer (or new card) ID of its first success
	deposited []int64          // per cardholder index
	paid      []int64          // per cardholder index: payments and posted holds
	fees      []int64          // per cardholder index
	received  map[int64]int64  // merchant ID -> payments and posted holds
	cards     [][]int64        // per cardholder index: every card they held
	retries   []func(w *worker)
	logs      [][]string     // per cardholder index
	outcomes  map[string]int // "op code" -> count, for the summary
}

// worker runs one goroutine's operations with its own random source.
type worker struct {
	r     *domainRun
	id    int
	rng   *rand.Rand
	n     int
	holds []openHold
}

type openHold struct {
	key    string
	holder int
	m      *onecard.Merchant
	amount int64
}

func runDomainOperations(t *testing.T, db *store.DB, seed uint64) {
	r := &domainRun{t: t, db: db, seed: seed, acked: map[string]int64{}, received: map[int64]int64{}, outcomes: map[string]int{}}
	r.setup()
	// A sweep every 10ms (not the default second) lets expiries meet late
	// posts and voids in the same batch.
	r.led = ledger.New(db, ledger.Options{SweepEvery: 10 * time.Millisecond})
	defer r.led.Close()

	var wg sync.WaitGroup
	for w := 0; w < propWorkers; w++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			w := &worker{r: r, id: id, rng: rand.New(rand.NewPCG(seed, uint64(id)))}
			for op := 0; op < propOps; op++ {
				w.step()
			}
		}(w)
	}
	wg.Wait()
	r.waitForHolds()
	r.verify()
	if t.Failed() {
		t.Logf("seed %d failed", seed)
	}
}

func (r *domainRun) setup() {
	t := r.t
	s := &onecard.School{Code: "prop", Name: "Property University", Campuses: []onecard.Campus{{Name: "Main"}}}
	if err := r.db.CreateSchool(ctx, s); err != nil {
		t.Fatalf("CreateSchool: %v", err)
	}
	stored, err := r.db.School(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.schoolID, r.settings = s.ID, stored.Settings
	if r.settings.ReplacementFee <= 0 || r.settings.ArrearsLimit <= 0 {
		t.Fatalf("default settings changed: the test needs a replacement fee and an arrears limit, got %+v", r.settings)
	}
	if r.cash, err = r.db.SystemAccount(ctx, s.ID, store.KindCash); err != nil {
		t.Fatal(err)
	}
	if r.feeIncome, err = r.db.SystemAccount(ctx, s.ID, store.KindFeeIncome); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*onecard.Merchant{
		{SchoolID: s.ID, Code: "canteen-1", Name: "Canteen 1", Kind: "canteen"},
		{SchoolID: s.ID, Code: "bath-1", Name: "Bath house 1", Kind: "bath"},
	} {
		if err := r.db.CreateMerchant(ctx, m); err != nil {
			t.Fatalf("CreateMerchant: %v", err)
		}
		r.merchants = append(r.merchants, m)
	}
	var ns []*onecard.NewCardholder
	for i := 0; i < propCardholders; i++ {
		ns = append(ns, &onecard.NewCardholder{SchoolID: s.ID, Number: fmt.Sprintf("P%04d", i+1), Name: "学生",
			Kind: onecard.Student, IDNumber: fmt.Sprintf("1201011999%07dX", i+1)})
	}
	if r.holders, err = r.db.CreateCardholders(ctx, ns); err != nil {
		t.Fatalf("CreateCardholders: %v", err)
	}
	for _, h := range r.holders {
		c, err := r.db.IssueCard(ctx, h.ID, "")
		if err != nil {
			t.Fatalf("IssueCard: %v", err)
		}
		r.cards = append(r.cards, []int64{c.ID})
	}
	r.deposited = make([]int64, len(r.holders))
	r.paid = make([]int64, len(r.holders))
	r.fees = make([]int64, len(r.holders))
	r.logs = make([][]string, len(r.holders))
}

// step runs one random operation.
func (w *worker) step() {
	h := w.rng.IntN(len(w.r.holders))
	m := w.r.merchants[w.rng.IntN(len(w.r.merchants))]
	switch k := w.rng.IntN(100); {
	case k < 18:
		w.deposit(h)
	case k < 40:
		w.pay(h, m)
	case k < 52:
		w.hold(h, m)
	case k < 60:
		if len(w.holds) > 0 {
			w.resolve(w.rng.IntN(len(w.holds)))
		} else {
			w.hold(h, m)
		}
	case k < 64:
		w.freeze(h)
	case k < 72:
		w.unfreeze(h)
	case k < 76:
		w.reportLost(h)
	case k < 82:
		w.unlock(h)
	case k < 89:
		w.replace(h)
	case k < 96:
		w.retry()
	default:
		w.claim(h)
	}
}

func (w *worker) key(kind string) string {
	w.n++
	return fmt.Sprintf("%s-w%d-%d", kind, w.id, w.n)
}

// later lets any worker send a request again with the same key.
func (r *domainRun) later(f func(w *worker)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries = append(r.retries, f)
}

func (w *worker) retry() {
	w.r.mu.Lock()
	var f func(*worker)
	if len(w.r.retries) > 0 {
		f = w.r.retries[w.rng.IntN(len(w.r.retries))]
	}
	w.r.mu.Unlock()
	if f != nil {
		f(w)
	}
}

// note logs an operation against a cardholder and counts its outcome.
func (r *domainRun) note(w *worker, holder int, op string, code, detail string) {
	if code == "" {
		code = "ok"
	}
	line := fmt.Sprintf("#%d w%d %s -> %s %s", r.seq.Add(1), w.id, op, code, detail)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs[holder] = append(r.logs[holder], line)
	r.outcomes[strings.Fields(op)[0]+" "+code]++
}

// expect reports whether err is nil; otherwise it notes the error, and one
// whose code is not among allowed fails the test. Callers note successes.
func (r *domainRun) expect(w *worker, holder int, op string, err error, allowed ...string) bool {
	if err == nil {
		return true
	}
	code := onecard.ErrorCode(err)
	r.note(w, holder, op, code, "")
	if !slices.Contains(allowed, code) {
		r.t.Errorf("seed %d, cardholder %d: %s: %v (code %q), want nil or one of %v", r.seed, holder, op, err, code, allowed)
	}
	return false
}

// ack records the first success of a request key and applies its effect on
// the expected balances once; any later success of the key must name the
// same transfer (or new card).
func (r *domainRun) ack(op, key string, id int64, effect func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if first, ok := r.acked[key]; ok {
		if first != id {
			r.t.Errorf("seed %d: %s: a retry returned %d, the first success returned %d", r.seed, op, id, first)
		}
		return
	}
	r.acked[key] = id
	effect()
}

// --- deposits and payments ---

func (w *worker) deposit(h int) {
	amount := w.rng.Int64N(120_00) + 1
	if w.rng.IntN(30) == 0 {
		amount = -w.rng.Int64N(2) // 0 or -1: refused
	}
	d := &onecard.Deposit{Key: w.key("dep"), CardholderID: w.r.holders[h].ID, Amount: amount}
	w.doDeposit(h, d)
	if w.rng.IntN(5) == 0 {
		w.doDeposit(h, d) // the counter's terminal retries at once
	}
	w.r.later(func(w *worker) { w.doDeposit(h, d) })
}

func (w *worker) doDeposit(h int, d *onecard.Deposit) {
	r := w.r
	op := fmt.Sprintf("Deposit %s %s", d.Key, onecard.Yuan(d.Amount))
	item, err := r.db.Deposit(ctx, d)
	if d.Amount <= 0 {
		if code := onecard.ErrorCode(err); code != onecard.EINVALID {
			r.t.Errorf("seed %d: %s: error %v, want %s", r.seed, op, err, onecard.EINVALID)
		}
		r.note(w, h, op, onecard.ErrorCode(err), "")
		return
	}
	// Cash at the counter always lands, even on a frozen or lost card.
	if !r.expect(w, h, op, err) {
		return
	}
	if item.Amount != d.Amount || item.Account != store.KindTransition {
		r.t.Errorf("seed %d: %s: history item %+v, want %d to the transition account", r.seed, op, item, d.Amount)
	}
	r.note(w, h, op, "", fmt.Sprintf("transfer %d", item.TransferID))
	r.ack(op, "deposit:"+d.Key, item.TransferID, func() { r.deposited[h] += d.Amount })
}

func (w *worker) pay(h int, m *onecard.Merchant) {
	var amount int64
	switch k := w.rng.IntN(100); {
	case k < 70:
		amount = w.rng.Int64N(80_00) + 1
	case k < 88:
		amount = 80_00 + w.rng.Int64N(w.r.settings.SingleLimit-80_00) + 1 // up to the single limit
	case k < 97:
		amount = w.r.settings.SingleLimit + w.rng.Int64N(300_00) + 1 // beyond it
	default:
		amount = 0
	}
	p := &onecard.Payment{Key: w.key("pay"), CardholderID: w.r.holders[h].ID, MerchantID: m.ID, Amount: amount, Memo: "property test"}
	w.doPay(h, m, p)
	if w.rng.IntN(5) == 0 {
		w.doPay(h, m, p)
	}
	w.r.later(func(w *worker) { w.doPay(h, m, p) })
}

func (w *worker) doPay(h int, m *onecard.Merchant, p *onecard.Payment) {
	r := w.r
	op := fmt.Sprintf("Pay %s %s to %s", p.Key, onecard.Yuan(p.Amount), m.Code)
	item, err := r.db.Pay(ctx, p)
	switch {
	case p.Amount <= 0:
		if code := onecard.ErrorCode(err); code != onecard.EINVALID {
			r.t.Errorf("seed %d: %s: error %v, want %s", r.seed, op, err, onecard.EINVALID)
		}
		r.note(w, h, op, onecard.ErrorCode(err), "")
		return
	case p.Amount > r.settings.SingleLimit:
		if code := onecard.ErrorCode(err); code != onecard.ELIMIT && code != onecard.ECARDBLOCKED {
			r.t.Errorf("seed %d: %s: error %v, want %s or %s above the single limit", r.seed, op, err, onecard.ELIMIT, onecard.ECARDBLOCKED)
		}
		r.note(w, h, op, onecard.ErrorCode(err), "")
		return
	}
	if !r.expect(w, h, op, err, onecard.ECARDBLOCKED, onecard.ELIMIT, onecard.EINSUFFICIENT) {
		return
	}
	if item.Amount != -p.Amount || item.Account != store.KindTransition {
		r.t.Errorf("seed %d: %s: history item %+v, want %d from the transition account", r.seed, op, item, -p.Amount)
	}
	r.note(w, h, op, "", fmt.Sprintf("transfer %d", item.TransferID))
	r.ack(op, "pay:"+p.Key, item.TransferID, func() {
		r.paid[h] += p.Amount
		r.received[m.ID] += p.Amount
	})
}

// --- holds through the committer ---

func (w *worker) hold(h int, m *onecard.Merchant) {
	r := w.r
	hd := openHold{key: w.key("hold"), holder: h, m: m, amount: w.rng.Int64N(60_00) + 1}
	tr := ledger.Transfer{Key: hd.key, Debit: r.holders[h].TransitionAccount, Credit: m.Account, Amount: hd.amount,
		Flags: ledger.Pending, Timeout: time.Duration(10+w.rng.IntN(70)) * time.Millisecond, Code: "purchase", Memo: "bath pre-debit"}
	op := fmt.Sprintf("Hold %s %s to %s for %s", hd.key, onecard.Yuan(hd.amount), m.Code, tr.Timeout)
	res, got := w.submit(h, op, tr, ledger.OK, ledger.InsufficientFunds, ledger.DebitFrozen)
	if res != ledger.OK {
		return
	}
	if got.State != ledger.StatePending || got.Amount != hd.amount {
		r.t.Errorf("seed %d: %s: stored %+v, want a pending hold of %d", r.seed, op, got, hd.amount)
	}
	w.holds = append(w.holds, hd)
	if w.rng.IntN(5) < 2 {
		w.resolve(len(w.holds) - 1)
	}
}

// resolve posts (all or part) or voids an open hold of this worker; by
// then it may have expired.
func (w *worker) resolve(i int) {
	r := w.r
	hd := w.holds[i]
	w.holds = slices.Delete(w.holds, i, i+1)
	tr := ledger.Transfer{Key: w.key("post"), PendingKey: hd.key}
	want := hd.amount
	verb := "Post"
	switch k := w.rng.IntN(3); {
	case k == 0:
		tr.Flags = ledger.PostPending // Amount 0: all of it
	case k == 1 && hd.amount > 1:
		tr.Flags = ledger.PostPending
		tr.Amount = w.rng.Int64N(hd.amount-1) + 1
		want = tr.Amount
	default:
		tr.Flags, verb = ledger.VoidPending, "Void"
	}
	for attempt := 0; attempt < 2; attempt++ {
		op := fmt.Sprintf("%s %s of %s (%s of %s)", verb, tr.Key, hd.key, onecard.Yuan(tr.Amount), onecard.Yuan(hd.amount))
		allowed := []ledger.Result{ledger.OK, ledger.PendingExpired}
		if attempt > 0 {
			allowed = []ledger.Result{ledger.Exists, ledger.PendingExpired}
			op = "retry " + op
		}
		res, got := w.submit(hd.holder, op, tr, allowed...)
		if !res.Done() || got == nil {
			return
		}
		if got.Amount != want || got.Released != hd.amount || got.Debit != r.holders[hd.holder].TransitionAccount || got.Credit != hd.m.Account {
			r.t.Errorf("seed %d: %s: stored %+v, want %d of %d from %d to %d", r.seed, op, got, want, hd.amount,
				r.holders[hd.holder].TransitionAccount, hd.m.Account)
		}
		r.ack(op, tr.Key, got.ID, func() {
			if tr.Flags == ledger.PostPending {
				r.paid[hd.holder] += want
				r.received[hd.m.ID] += want
			}
		})
		if w.rng.IntN(6) != 0 {
			return
		}
	}
}

// claim moves part of a positive transition balance onto the card, as a
// tap at an online POS would, so that fees are also taken from purses.
func (w *worker) claim(h int) {
	r := w.r
	b, err := r.db.Balance(ctx, r.holders[h].ID)
	if err != nil {
		r.t.Errorf("seed %d: Balance: %v", r.seed, err)
		return
	}
	if b.Transition <= 0 {
		return
	}
	tr := ledger.Transfer{Key: w.key("claim"), Debit: r.holders[h].TransitionAccount, Credit: r.holders[h].PurseAccount,
		Amount: w.rng.Int64N(b.Transition) + 1, Code: "claim"}
	w.submit(h, fmt.Sprintf("Claim %s %s", tr.Key, onecard.Yuan(tr.Amount)), tr,
		ledger.OK, ledger.InsufficientFunds, ledger.DebitFrozen, ledger.LimitExceeded)
}

// submit sends one transfer through the committer and fails the test on an
// error or a result not allowed.
func (w *worker) submit(h int, op string, tr ledger.Transfer, allowed ...ledger.Result) (ledger.Result, *ledger.Transfer) {
	r := w.r
	out, err := r.led.Submit(ctx, []ledger.Transfer{tr})
	if err != nil {
		r.note(w, h, op, onecard.EINTERNAL, err.Error())
		r.t.Errorf("seed %d: %s: %v", r.seed, op, err)
		return ledger.InvalidFlags, nil
	}
	res := out[0].Result
	detail := ""
	if out[0].Transfer != nil {
		detail = fmt.Sprintf("transfer %d", out[0].Transfer.ID)
	}
	r.note(w, h, op, res.String(), detail)
	if !slices.Contains(allowed, res) {
		r.t.Errorf("seed %d, cardholder %d: %s: result %s, want one of %v", r.seed, h, op, res, allowed)
		return res, nil
	}
	return res, out[0].Transfer
}

// --- card lifecycle ---

// card picks the card an operator acts on: usually the active one, now and
// then any card the cardholder ever held (a cancelled one must be refused).
func (w *worker) card(h int) (int64, bool) {
	r := w.r
	if w.rng.IntN(7) == 0 {
		r.mu.Lock()
		defer r.mu.Unlock()
		cs := r.cards[h]
		return cs[w.rng.IntN(len(cs))], true
	}
	c, err := r.db.ActiveCard(ctx, r.holders[h].ID)
	if err != nil {
		r.note(w, h, "ActiveCard", onecard.ErrorCode(err), "")
		r.t.Errorf("seed %d, cardholder %d: ActiveCard: %v", r.seed, h, err)
		return 0, false
	}
	return c.ID, true
}

// cardOp runs one lifecycle step on a card of cardholder h. ECONFLICT (the
// state does not allow it) is the only refusal expected; check says what is
// wrong with the card returned on success, if anything.
func (w *worker) cardOp(h int, name string, do func(id int64) (*onecard.Card, error), check func(c *onecard.Card) string) {
	r := w.r
	id, ok := w.card(h)
	if !ok {
		return
	}
	op := fmt.Sprintf("%s card %d", name, id)
	c, err := do(id)
	if !r.expect(w, h, op, err, onecard.ECONFLICT) {
		return
	}
	r.note(w, h, op, "", fmt.Sprintf("now %s %s", c.State(), c.FreezeReason))
	if msg := check(c); msg != "" {
		r.t.Errorf("seed %d, cardholder %d: %s: %s", r.seed, h, op, msg)
	}
}

func (w *worker) freeze(h int) {
	w.cardOp(h, "Freeze", func(id int64) (*onecard.Card, error) {
		return w.r.db.Freeze(ctx, id, onecard.FreezeOperator, "property test")
	}, func(c *onecard.Card) string {
		if c.FreezeReason != onecard.FreezeOperator {
			return fmt.Sprintf("freeze reason %q, want %q", c.FreezeReason, onecard.FreezeOperator)
		}
		return ""
	})
}

func (w *worker) unfreeze(h int) {
	w.cardOp(h, "Unfreeze", func(id int64) (*onecard.Card, error) {
		return w.r.db.Unfreeze(ctx, id)
	}, func(c *onecard.Card) string {
		if c.FreezeReason != "" && c.FreezeReason != onecard.FreezeArrears {
			return fmt.Sprintf("freeze reason %q after an unfreeze", c.FreezeReason)
		}
		return ""
	})
}

func (w *worker) reportLost(h int) {
	w.cardOp(h, "ReportLost", func(id int64) (*onecard.Card, error) {
		return w.r.db.ReportLost(ctx, id)
	}, func(c *onecard.Card) string {
		if !c.Lost || c.Status != onecard.CardActive {
			return fmt.Sprintf("card is %s, lost=%v after the report", c.Status, c.Lost)
		}
		return ""
	})
}

func (w *worker) unlock(h int) {
	w.cardOp(h, "Unlock", func(id int64) (*onecard.Card, error) {
		return w.r.db.Unlock(ctx, id)
	}, func(c *onecard.Card) string {
		if c.Lost {
			return "card still lost after the unlock"
		}
		return ""
	})
}

func (w *worker) replace(h int) {
	id, ok := w.card(h)
	if !ok {
		return
	}
	key := w.key("rep")
	w.doReplace(h, id, key)
	if w.rng.IntN(4) == 0 {
		w.doReplace(h, id, key) // the machine did not get the answer
	}
	w.r.later(func(w *worker) { w.doReplace(h, id, key) })
}

func (w *worker) doReplace(h int, cardID int64, key string) {
	r := w.r
	op := fmt.Sprintf("Replace card %d key %s", cardID, key)
	c, err := r.db.Replace(ctx, cardID, key)
	if !r.expect(w, h, op, err, onecard.ECONFLICT, onecard.EINSUFFICIENT) {
		return
	}
	if c.CardholderID != r.holders[h].ID || c.ID == cardID {
		r.t.Errorf("seed %d: %s: returned card %d of cardholder %d", r.seed, op, c.ID, c.CardholderID)
	}
	r.note(w, h, op, "", fmt.Sprintf("new card %d (%s)", c.ID, c.State()))
	r.ack(op, "replace:"+key, c.ID, func() {
		r.fees[h] += r.settings.ReplacementFee
		r.cards[h] = append(r.cards[h], c.ID)
		if c.Status != onecard.CardActive {
			r.t.Errorf("seed %d: %s: new card %d is %s", r.seed, op, c.ID, c.Status)
		}
	})
}

// --- after the run ---

// waitForHolds waits for every hold left open to time out and be released
// by the committer's sweep: no account may keep pending amounts.
func (r *domainRun) waitForHolds() {
	deadline := time.Now().Add(15 * time.Second)
	for {
		var open []string
		for i, h := range r.holders {
			a, err := r.db.Account(ctx, h.TransitionAccount)
			if err != nil {
				r.t.Fatal(err)
			}
			if a.DebitsPending != 0 {
				open = append(open, fmt.Sprintf("cardholder %d: %d fen held", i, a.DebitsPending))
			}
		}
		for _, m := range r.merchants {
			a, err := r.db.Account(ctx, m.Account)
			if err != nil {
				r.t.Fatal(err)
			}
			if a.CreditsPending != 0 {
				open = append(open, fmt.Sprintf("merchant %s: %d fen incoming", m.Code, a.CreditsPending))
			}
		}
		if len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Errorf("seed %d: holds were not released after their timeouts: %v", r.seed, open)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *domainRun) verify() {
	t := r.t
	bad := map[int]bool{}
	fail := func(h int, format string, args ...any) {
		t.Errorf("seed %d, cardholder %d (%s): %s", r.seed, h, r.holders[h].Number, fmt.Sprintf(format, args...))
		bad[h] = true
	}
	// A terminal replaying the blacklist from the start must end up with
	// every card's current state.
	entries, version, err := r.db.Blacklist(ctx, r.schoolID, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := map[int64]onecard.BlacklistEntry{}
	for i, e := range entries {
		if e.Version != int64(i+1) {
			t.Errorf("seed %d: blacklist entry %d has version %d: versions must be gapless", r.seed, i+1, e.Version)
			break
		}
		last[e.CardID] = e
	}
	if version != int64(len(entries)) {
		t.Errorf("seed %d: blacklist version %d with %d entries", r.seed, version, len(entries))
	}

	var deposits, fees int64
	end := map[string]int{} // the cardholders' final states, for the summary
	for _, e := range entries {
		if e.Reason == string(onecard.FreezeArrears) {
			end["arrears freezes"]++
		}
	}
	for i, h := range r.holders {
		deposits += r.deposited[i]
		fees += r.fees[i]
		b, err := r.db.Balance(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := r.deposited[i] - r.paid[i] - r.fees[i]
		if b.Total != want {
			fail(i, "balance %s (purse %s, transition %s), but deposits %s - payments and posted holds %s - fees %s = %s",
				onecard.Yuan(b.Total), onecard.Yuan(b.Purse), onecard.Yuan(b.Transition), onecard.Yuan(r.deposited[i]),
				onecard.Yuan(r.paid[i]), onecard.Yuan(r.fees[i]), onecard.Yuan(want))
		}

		cards, err := r.db.Cards(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		var active []*onecard.Card
		for _, c := range cards {
			if c.Status == onecard.CardActive {
				active = append(active, c)
			}
			e, listed := last[c.ID]
			if listed && (e.Blocked == c.Usable() || e.UID != c.UID) || !listed && !c.Usable() {
				fail(i, "card %d is %s (%s), but the blacklist's last entry for it is %+v (listed: %v)", c.ID, c.State(), c.FreezeReason, e, listed)
			}
		}
		// Nothing here cancels a card without replacing it, so there is
		// always exactly one active card.
		if len(active) != 1 {
			fail(i, "%d active cards, want 1", len(active))
			continue
		}
		c := active[0]
		if b.Total < 0 {
			end["below zero"]++
		}
		end["card "+c.State()+" "+string(c.FreezeReason)]++
		if len(cards) != len(r.cards[i]) {
			fail(i, "%d cards, but %d were issued or acknowledged as replacements", len(cards), len(r.cards[i]))
		}
		// (A cancelled card keeps the state it was cancelled in, as history.)
		if c.FreezeReason == onecard.FreezeArrears && b.Total >= 0 {
			fail(i, "card %d is frozen for arrears with a balance of %s", c.ID, onecard.Yuan(b.Total))
		}
		// Below zero the card is frozen: for arrears, or for the reason it
		// already had (an operator's freeze turns into an arrears freeze
		// when it is lifted, see Unfreeze).
		if b.Total < 0 && c.FreezeReason == "" {
			fail(i, "balance %s but card %d is not frozen", onecard.Yuan(b.Total), c.ID)
		}
		// Freezes belong to cards: the accounts refuse debits exactly while
		// the active card is frozen.
		for _, id := range []int64{h.PurseAccount, h.TransitionAccount} {
			a, err := r.db.Account(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if a.Frozen != (c.FreezeReason != "") {
				fail(i, "account %d frozen=%v, but card %d has freeze reason %q", id, a.Frozen, c.ID, c.FreezeReason)
			}
		}
	}

	for _, m := range r.merchants {
		a, err := r.db.Account(ctx, m.Account)
		if err != nil {
			t.Fatal(err)
		}
		if a.Balance != r.received[m.ID] {
			t.Errorf("seed %d: merchant %s: balance %s, but payments and posted holds to it come to %s",
				r.seed, m.Code, onecard.Yuan(a.Balance), onecard.Yuan(r.received[m.ID]))
		}
	}
	for _, c := range []struct {
		name    string
		account int64
		want    int64
	}{{"cash", r.cash, -deposits}, {"fee income", r.feeIncome, fees}} {
		a, err := r.db.Account(ctx, c.account)
		if err != nil {
			t.Fatal(err)
		}
		if a.Balance != c.want {
			t.Errorf("seed %d: %s account: balance %s, acknowledged operations say %s", r.seed, c.name, onecard.Yuan(a.Balance), onecard.Yuan(c.want))
		}
	}

	rep := ledgerReport(t, r.db)
	if !rep.OK() {
		t.Errorf("seed %d: ledger.Check: %d violations (+%d): %v", r.seed, len(rep.Violations), rep.Truncated, rep.Violations)
	}

	for h := range bad {
		t.Logf("seed %d: operations on cardholder %d (%s), purse account %d, transition account %d:\n  %s", r.seed, h,
			r.holders[h].Number, r.holders[h].PurseAccount, r.holders[h].TransitionAccount, strings.Join(r.logs[h], "\n  "))
	}
	keys := make([]string, 0, len(r.outcomes))
	for k := range r.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sum []string
	for _, k := range keys {
		sum = append(sum, fmt.Sprintf("%s=%d", k, r.outcomes[k]))
	}
	t.Logf("seed %d: %d transfers; outcomes: %s; at the end: %v", r.seed, rep.Transfers, strings.Join(sum, " "), end)
}
