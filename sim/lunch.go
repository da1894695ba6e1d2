package sim

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
)

// LunchOptions configure a lunch rush.
type LunchOptions struct {
	Duration time.Duration // how long the POS take taps; default 10 s
	Cards    int           // how many of the kit's cards come to lunch; default, and at most, all
	POS      int           // how many POS serve; default 120, at most the kit's
	Offline  float64       // the share of the POS that are offline, 0 to 1
	// UploadEvery is how often an offline POS reaches the server to upload
	// its records and pull the blacklist; default 2 s.
	UploadEvery time.Duration
	Seed        uint64 // of the random choices; 0 picks one
}

// Meal prices: a canteen lunch costs ¥6 to ¥25, in steps of 50 fen.
const (
	mealMin  = 6_00
	mealMax  = 25_00
	mealStep = 50
)

// finalUpload bounds the upload of everything outstanding after the rush,
// which runs even after an interrupt (a second one ends the process).
const finalUpload = time.Minute

// lunch is one lunch rush under way.
type lunch struct {
	st       *State
	o        LunchOptions
	cards    []*Card
	deadline time.Time
	setAside atomic.Int64 // cards the server refused, tapped no more
	// The online taps' mean duration paces the offline POS: a canteen's
	// queue moves as fast at every till. They start once the first online
	// tap is done (firstOnline closed), when there is one to measure.
	onlineNanos, onlineTaps atomic.Int64
	online                  bool
	firstOnline             chan struct{}
	closeFirst              sync.Once
}

// Lunch replays a lunch rush against the state's server: one goroutine per
// POS serves one card at a time, random cards of the kit paying for meals,
// a share of the POS offline and uploading every UploadEvery. The cards
// are the holders': each types their PIN when asked, and a card the server
// refuses is set aside for the rest of the run. After Duration the POS
// finish the tap in hand, everything outstanding is uploaded, and the
// result says what was spent and the rate and latency seen. Every request
// has a timeout, so the run always ends.
func Lunch(ctx context.Context, st *State, o LunchOptions) (*LunchResult, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	l := &lunch{st: st, o: o, cards: st.Cards(), firstOnline: make(chan struct{})}
	if len(l.cards) > o.Cards {
		l.cards = l.cards[:o.Cards]
	}
	for _, c := range l.cards {
		c.skip.Store(false) // a card refused at an earlier lunch may pay at this one
	}
	if len(l.cards) == 0 {
		return nil, errors.New("the demo kit has no cards")
	}
	poss, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	res := &LunchResult{Server: st.Server, POS: len(poss), Cards: len(l.cards), Refused: map[string]int64{}}
	for _, p := range poss {
		if p.Offline {
			res.OfflinePOS++
		} else {
			l.online = true
		}
	}

	start := time.Now()
	l.deadline = start.Add(o.Duration)
	stats := make([]*tally, len(poss))
	var wg sync.WaitGroup
	for i, p := range poss {
		stats[i] = newTally()
		rng := mrand.New(mrand.NewPCG(o.Seed, uint64(i)))
		wg.Go(func() { l.serve(ctx, p, rng, stats[i]) })
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()

	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalUpload)
	defer cancel()
	res.Outstanding, stats = l.uploadAll(uctx, poss, stats)
	res.add(stats, l.setAside.Load())
	return res, nil
}

func (o *LunchOptions) defaults() error {
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Cards == 0 {
		o.Cards = 1 << 30
	}
	if o.POS == 0 {
		o.POS = 120
	}
	if o.UploadEvery == 0 {
		o.UploadEvery = 2 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = mrand.Uint64()
	}
	if o.Duration < 0 || o.Cards < 0 || o.POS < 0 || o.Offline < 0 || o.Offline > 1 || o.UploadEvery < 0 {
		return errors.New("a lunch needs a positive duration, cards and POS, and an offline share from 0 to 1")
	}
	return nil
}

// open provisions the POS of the run, taking the canteens in turn so that
// each has its share, and marks an even spread of them offline.
func (l *lunch) open(ctx context.Context) ([]*POS, error) {
	var byMerchant [][]string
	index := map[string]int{}
	for _, t := range l.st.Terminals(onecard.TerminalPOS) {
		i, ok := index[t.Merchant]
		if !ok {
			i = len(byMerchant)
			index[t.Merchant] = i
			byMerchant = append(byMerchant, nil)
		}
		byMerchant[i] = append(byMerchant[i], t.Code)
	}
	var codes []string
	for round := 0; len(codes) < l.o.POS; round++ {
		added := false
		for _, list := range byMerchant {
			if round < len(list) && len(codes) < l.o.POS {
				codes, added = append(codes, list[round]), true
			}
		}
		if !added {
			break
		}
	}
	if len(codes) == 0 {
		return nil, errors.New("the demo kit has no POS")
	}
	poss := make([]*POS, len(codes))
	errs := make([]error, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() { poss[i], errs[i] = l.st.POS(ctx, code) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, p := range poss {
		// POS i is offline when the running share of offline POS steps up
		// at i: 0.2 makes every fifth one offline.
		p.Offline = int(float64(i+1)*l.o.Offline) > int(float64(i)*l.o.Offline)
	}
	return poss, nil
}

// serve is one POS's lunch: customers one after another until the
// deadline, an offline POS at the pace of the online ones.
func (l *lunch) serve(ctx context.Context, p *POS, rng *mrand.Rand, t *tally) {
	if pend := p.Pending(); pend != nil {
		// An earlier run left a purchase unfinished: its card comes back first.
		c := l.st.cardByUID(pend.UID)
		if c == nil || !c.busy.CompareAndSwap(false, true) {
			t.fail(fmt.Errorf("terminal %s: the card of its unfinished purchase is not available; the POS stays closed", p.Code))
			return
		}
		l.tap(ctx, p, c, pend.Amount, t)
	}
	if p.Offline && l.online {
		select {
		case <-l.firstOnline:
		case <-time.After(time.Until(l.deadline)):
		case <-ctx.Done():
		}
	}
	lastUpload := time.Now()
	for ctx.Err() == nil && time.Now().Before(l.deadline) {
		c := l.pick(rng)
		if c == nil {
			if l.setAside.Load() >= int64(len(l.cards)) {
				return // every card was refused: lunch is over
			}
			time.Sleep(time.Millisecond)
			continue
		}
		amount := mealMin + mealStep*rng.Int64N((mealMax-mealMin)/mealStep+1)
		start := time.Now()
		l.tap(ctx, p, c, amount, t)
		if !p.Offline {
			continue
		}
		if wait := l.pace() - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		if time.Since(lastUpload) >= l.o.UploadEvery {
			ups, err := p.Upload(ctx)
			t.uploads(ups, err)
			lastUpload = time.Now()
		}
	}
}

// tap taps a card the POS holds and lets it go.
func (l *lunch) tap(ctx context.Context, p *POS, c *Card, amount int64, t *tally) {
	start := time.Now()
	r, err := p.Tap(ctx, c, amount, c.PIN)
	c.busy.Store(false)
	if !p.Offline {
		l.onlineNanos.Add(int64(time.Since(start)))
		l.onlineTaps.Add(1)
		l.closeFirst.Do(func() { close(l.firstOnline) })
	}
	t.tap(r, err)
	if err == nil && l.refused(r) && !c.skip.Swap(true) {
		l.setAside.Add(1)
	}
}

// refused reports whether a tap's card should be set aside: the server
// or the card said no, or a blacklist did. An offline POS's card with too
// little on it may still claim its deposit at an online one.
func (l *lunch) refused(r *TapResult) bool {
	switch {
	case r.Decision == device.PINRequired:
		return true
	case r.Decision != device.Refuse:
		return false
	case r.Offline:
		return r.Code == onecard.ECARDBLOCKED
	}
	return true
}

// pick takes a random card that is neither at another POS nor set aside.
func (l *lunch) pick(rng *mrand.Rand) *Card {
	for range 64 {
		c := l.cards[rng.IntN(len(l.cards))]
		if !c.skip.Load() && c.busy.CompareAndSwap(false, true) {
			if !c.skip.Load() {
				return c
			}
			c.busy.Store(false)
		}
	}
	return nil
}

// pace is the mean online tap so far; 20 ms when no POS is online.
func (l *lunch) pace() time.Duration {
	n := l.onlineTaps.Load()
	if n == 0 {
		return 20 * time.Millisecond
	}
	return time.Duration(l.onlineNanos.Load() / n)
}

// uploadAll uploads every POS's queue, this run's and any an earlier run
// left on other POS. It returns how many records are still queued, and the
// tallies with those of the other POS added.
func (l *lunch) uploadAll(ctx context.Context, poss []*POS, stats []*tally) (int, []*tally) {
	used := map[string]bool{}
	for _, p := range poss {
		used[p.Code] = true
	}
	for _, kt := range l.st.Terminals(onecard.TerminalPOS) {
		if used[kt.Code] {
			continue
		}
		if _, err := os.Stat(filepath.Join(l.st.Dir, "terminals", kt.Code+".json")); err != nil {
			continue // never used: nothing queued
		}
		if p, err := l.st.POS(ctx, kt.Code); err == nil && p.Queued() > 0 {
			poss, stats = append(poss, p), append(stats, newTally())
		}
	}
	var wg sync.WaitGroup
	for i, p := range poss {
		wg.Go(func() {
			ups, err := p.Upload(ctx)
			stats[i].uploads(ups, err)
		})
	}
	wg.Wait()
	left := 0
	for _, p := range poss {
		left += p.Queued()
	}
	return left, stats
}
