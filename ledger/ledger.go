package ledger

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// MaxRequest is the most transfers one Submit may carry (TigerBeetle's
// batch size: large enough for a POS's offline upload of a day).
const MaxRequest = 8190

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("ledger: closed")

// Options tune a Ledger.
type Options struct {
	// MaxBatch caps the transfers gathered into one transaction. Default 8190.
	MaxBatch int
	// SweepEvery is how often expired holds are released. Default 1s.
	SweepEvery time.Duration
	// Linger is the longest the committer waits for more requests after
	// the queue runs dry, and only while the batch is smaller than the
	// previous one and that one gathered several requests (under
	// concurrency): callers it has just answered come back within
	// microseconds, and one commit for twice the transfers costs far less
	// than two. Default 1ms; negative disables.
	Linger time.Duration
	// Logger receives commit failures.
	Logger *slog.Logger
}

// lingerGap is how long the committer waits for the next request while
// lingering: a caller just answered resubmits well within it.
const lingerGap = 50 * time.Microsecond

// Ledger is the group committer: Submit hands a request to one goroutine
// that gathers every request waiting at that moment into one database
// transaction, so that under load each commit (and each fsync) carries
// many transfers. A transfer is acknowledged only after its commit.
type Ledger struct {
	db       DB
	reqs     chan *request
	maxBatch int
	sweep    time.Duration
	linger   time.Duration
	log      *slog.Logger
	quit     chan struct{}
	done     chan struct{}
	once     sync.Once
	stats    struct{ commits, transfers atomic.Int64 }
}

// Stats counts what the committer has done since New.
type Stats struct {
	Commits   int64 `json:"commits"`   // database transactions committed
	Transfers int64 `json:"transfers"` // transfers decided in them (any result)
}

// Stats returns the committer's counters.
func (l *Ledger) Stats() Stats {
	return Stats{Commits: l.stats.commits.Load(), Transfers: l.stats.transfers.Load()}
}

type request struct {
	transfers []Transfer
	out       []Outcome
	err       error
	done      chan struct{}
}

// New starts a Ledger over db. Call Close to stop it.
func New(db DB, opts Options) *Ledger {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = MaxRequest
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Linger == 0 {
		opts.Linger = time.Millisecond
	}
	l := &Ledger{db: db, reqs: make(chan *request, 4096), maxBatch: max(opts.MaxBatch, MaxRequest),
		sweep: opts.SweepEvery, linger: opts.Linger, log: opts.Logger, quit: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Submit commits transfers and returns an outcome for each, in order.
// Linked chains must end within the request. An error means the outcome is
// unknown (the database failed or ctx ended first); retrying with the same
// keys is always safe.
func (l *Ledger) Submit(ctx context.Context, transfers []Transfer) ([]Outcome, error) {
	if len(transfers) == 0 {
		return nil, nil
	}
	if len(transfers) > MaxRequest {
		return nil, errors.New("ledger: more than 8190 transfers in one request")
	}
	r := &request{transfers: transfers, done: make(chan struct{})}
	select {
	case <-l.quit:
		return nil, ErrClosed
	default:
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.quit:
		return nil, ErrClosed
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops taking requests, commits those already queued and returns.
func (l *Ledger) Close() error {
	l.once.Do(func() { close(l.quit) })
	<-l.done
	return nil
}

func (l *Ledger) run() {
	defer close(l.done)
	ticker := time.NewTicker(l.sweep)
	defer ticker.Stop()
	var carry *request
	sweepDue := true
	last := 0 // requests in the previous batch: under steady load, the callers about to come back
	gap := time.NewTimer(time.Hour)
	gap.Stop()
	for {
		var first *request
		if carry != nil {
			first, carry = carry, nil
		} else {
			select {
			case first = <-l.reqs:
			case <-ticker.C:
				l.commit(nil, true)
				sweepDue = false
				continue
			case <-l.quit:
				l.drain()
				return
			}
		}
		batch := []*request{first}
		n := len(first.transfers)
		var deadline time.Time
	gather:
		for n < l.maxBatch && carry == nil {
			select {
			case r := <-l.reqs:
				if n+len(r.transfers) > l.maxBatch {
					carry = r
					break gather
				}
				batch = append(batch, r)
				n += len(r.transfers)
				continue
			default:
			}
			if last < 2 || len(batch) >= last || l.linger < 0 {
				break
			}
			if deadline.IsZero() {
				deadline = time.Now().Add(l.linger)
			} else if time.Now().After(deadline) {
				break
			}
			gap.Reset(lingerGap)
			select {
			case r := <-l.reqs:
				gap.Stop() // Go 1.23 timers: no stale tick is delivered after Stop
				if n+len(r.transfers) > l.maxBatch {
					carry = r
					break gather
				}
				batch = append(batch, r)
				n += len(r.transfers)
			case <-gap.C:
				break gather
			}
		}
		last = len(batch)
		select {
		case <-ticker.C:
			sweepDue = true
		default:
		}
		l.commit(batch, sweepDue)
		sweepDue = false
	}
}

// drain commits what was queued before Close.
func (l *Ledger) drain() {
	for {
		select {
		case r := <-l.reqs:
			l.commit([]*request{r}, false)
		default:
			return
		}
	}
}

// commit runs one transaction for the batch. If it fails, each request is
// retried in a transaction of its own without the sweep, so that one
// request (or the release of expired holds) that breaks the database (it
// should not) cannot fail its neighbours.
func (l *Ledger) commit(batch []*request, sweep bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reqs := make([][]Transfer, len(batch))
	for i, r := range batch {
		reqs[i] = r.transfers
	}
	var out [][]Outcome
	err := l.db.Update(ctx, func(tx Tx) error {
		var err error
		out, err = applyRequests(ctx, tx, reqs, sweep)
		return err
	})
	if err != nil && (len(batch) > 1 || sweep) {
		// Alone and without the sweep, each request can only fail by itself.
		l.log.Warn("ledger: batch failed, retrying its requests one by one", "requests", len(batch), "err", err)
		for _, r := range batch {
			l.commit([]*request{r}, false)
		}
		return
	}
	if err != nil {
		l.log.Error("ledger: commit failed", "err", err)
	} else {
		l.stats.commits.Add(1)
		for _, r := range reqs {
			l.stats.transfers.Add(int64(len(r)))
		}
	}
	for i, r := range batch {
		if err != nil {
			r.err = err
		} else {
			r.out = out[i]
		}
		close(r.done)
	}
}
