package sim

import (
	"slices"
	"time"

	"github.com/onecard-campus/onecard/device"
)

// LunchResult is what a lunch rush did and saw. Amounts are in fen.
type LunchResult struct {
	Server     string  `json:"server"`
	Seconds    float64 `json:"seconds"`
	POS        int     `json:"pos"`
	OfflinePOS int     `json:"offline_pos"`
	Cards      int     `json:"cards"`

	Attempted int64 `json:"taps_attempted"`
	Approved  int64 `json:"taps_approved"`
	// Refused counts refusals by reason: the error code, or pin_required
	// when the holder did not know the PIN.
	Refused    map[string]int64 `json:"taps_refused"`
	Failed     int64            `json:"taps_failed"` // the network, the server or a state file failed
	FirstError string           `json:"first_error,omitempty"`
	PINs       int64            `json:"pins_typed"`
	SetAside   int64            `json:"cards_set_aside"` // refused cards, tapped no more

	Claims           int64 `json:"claims"`
	Claimed          int64 `json:"claimed"` // loaded onto cards from transition balances
	Purchases        int64 `json:"purchases"`
	Spent            int64 `json:"spent"` // the purchases' sum: what the merchants get
	OnlinePurchases  int64 `json:"online_purchases"`
	OfflinePurchases int64 `json:"offline_purchases"`

	Accepted     int64    `json:"records_accepted"`
	Duplicate    int64    `json:"records_duplicate"`
	Rejected     int64    `json:"records_rejected"`
	Rejections   []string `json:"rejections,omitempty"` // the first few, code and message
	UploadErrors int64    `json:"upload_errors"`
	Outstanding  int      `json:"records_outstanding"` // still queued after the final upload

	// OnlineRate is the online purchases the server took per second;
	// P50ms and P99ms the latency of their round trip, from the check to
	// the record's acceptance, claims and PINs included.
	OnlineRate float64 `json:"online_taps_per_second"`
	P50ms      float64 `json:"latency_p50_ms"`
	P99ms      float64 `json:"latency_p99_ms"`
}

// maxRejections is how many rejections a result quotes.
const maxRejections = 5

// tally is one POS's counts; the result adds them up at the end.
type tally struct {
	LunchResult
	firstErr  error
	latencies []time.Duration
}

func newTally() *tally { return &tally{LunchResult: LunchResult{Refused: map[string]int64{}}} }

// tap counts one tap.
func (t *tally) tap(r *TapResult, err error) {
	t.Attempted++
	if r != nil && r.Claim > 0 {
		t.Claims++
		t.Claimed += r.Claim
	}
	if err != nil {
		t.fail(err)
		return
	}
	if r.PINAsked {
		t.PINs++
	}
	switch r.Decision {
	case device.Approve:
		t.Approved++
	case device.PINRequired:
		t.Refused[device.PINRequired]++
	default:
		t.Refused[r.Code]++
	}
	if r.Record != nil {
		t.Purchases++
		t.Spent += r.Record.Amount
		if r.Offline {
			t.OfflinePurchases++
		} else {
			t.OnlinePurchases++
		}
	}
	t.uploads(r.Uploaded, r.UploadErr)
	if r.Latency > 0 {
		t.latencies = append(t.latencies, r.Latency)
	}
}

// uploads counts an upload's verdicts.
func (t *tally) uploads(ups []Upload, err error) {
	if err != nil {
		t.UploadErrors++
		if t.firstErr == nil {
			t.firstErr = err
		}
	}
	for _, u := range ups {
		switch u.Result.Status {
		case device.RecordAccepted:
			t.Accepted++
		case device.RecordDuplicate:
			t.Duplicate++
		default:
			t.Rejected++
			if len(t.Rejections) < maxRejections {
				t.Rejections = append(t.Rejections, u.Result.Code+": "+u.Result.Message)
			}
		}
	}
}

func (t *tally) fail(err error) {
	t.Failed++
	if t.firstErr == nil {
		t.firstErr = err
	}
}

// add sums the tallies into r.
func (r *LunchResult) add(ts []*tally, setAside int64) {
	var lat []time.Duration
	for _, t := range ts {
		r.Attempted += t.Attempted
		r.Approved += t.Approved
		for k, n := range t.Refused {
			r.Refused[k] += n
		}
		r.Failed += t.Failed
		if r.FirstError == "" && t.firstErr != nil {
			r.FirstError = t.firstErr.Error()
		}
		r.PINs += t.PINs
		r.Claims += t.Claims
		r.Claimed += t.Claimed
		r.Purchases += t.Purchases
		r.Spent += t.Spent
		r.OnlinePurchases += t.OnlinePurchases
		r.OfflinePurchases += t.OfflinePurchases
		r.Accepted += t.Accepted
		r.Duplicate += t.Duplicate
		r.Rejected += t.Rejected
		for _, m := range t.Rejections {
			if len(r.Rejections) < maxRejections {
				r.Rejections = append(r.Rejections, m)
			}
		}
		r.UploadErrors += t.UploadErrors
		lat = append(lat, t.latencies...)
	}
	r.SetAside = setAside
	slices.Sort(lat)
	if r.Seconds > 0 {
		r.OnlineRate = float64(len(lat)) / r.Seconds
	}
	r.P50ms, r.P99ms = ms(percentile(lat, 50)), ms(percentile(lat, 99))
}

// percentile returns the p-th percentile of sorted durations, 0 for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
