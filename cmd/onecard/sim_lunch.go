package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sim"
)

// simLunch is `onecard sim lunch`: a lunch rush against a demo server. It
// exits 1 if a tap failed or a record was rejected or is still queued.
func simLunch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		server, dir string
		seconds     int
		o           sim.LunchOptions
		asJSON      bool
	)
	flags := newFlagSet("sim lunch", "onecard sim lunch [--server URL] [--state DIR] [--seconds N] [--cards N] [--pos N] [--offline SHARE] [--json]", stderr)
	flags.StringVar(&server, "server", sim.DefaultServer, "base URL of an `onecard serve --demo` server")
	flags.StringVar(&dir, "state", "", "the simulator's state directory (default ~/.onecard-sim/HOST_PORT)")
	flags.IntVar(&seconds, "seconds", 10, "how long the POS take taps")
	flags.IntVar(&o.Cards, "cards", 2000, "cards that come to lunch (at most the kit's)")
	flags.IntVar(&o.POS, "pos", 120, "POS that serve (at most the kit's)")
	flags.Float64Var(&o.Offline, "offline", 0.2, "share of the POS that are offline and upload every 2 s and at the end")
	flags.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if seconds < 1 || o.Cards < 1 || o.POS < 1 || o.Offline < 0 || o.Offline > 1 {
		fmt.Fprintln(stderr, "onecard sim lunch: --seconds, --cards and --pos must be at least 1, --offline from 0 to 1")
		return errUsage
	}
	o.Duration = time.Duration(seconds) * time.Second

	st, err := openSim(ctx, server, dir, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stderr, "Lunch rush against %s for %d s (state in %s)...\n", st.Server, seconds, st.Dir)
	res, err := sim.Lunch(ctx, st, o)
	printNotes(st, stderr)
	if err != nil {
		return explain(err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printLunch(stdout, res)
	}
	if res.Failed > 0 || res.Rejected > 0 || res.Outstanding > 0 {
		fmt.Fprintf(stderr, "onecard sim lunch: %d tap(s) failed, %d record(s) rejected, %d still queued", res.Failed, res.Rejected, res.Outstanding)
		if res.FirstError != "" {
			fmt.Fprintf(stderr, "; first error: %s", res.FirstError)
		}
		fmt.Fprintln(stderr)
		return errFailed
	}
	return nil
}

// printLunch writes a lunch result for people.
func printLunch(w io.Writer, r *sim.LunchResult) {
	fmt.Fprintf(w, "Lunch rush against %s: %d POS (%d offline), %d cards, %.1f s\n", r.Server, r.POS, r.OfflinePOS, r.Cards, r.Seconds)
	var refused []string
	total := int64(0)
	for _, k := range slices.Sorted(maps.Keys(r.Refused)) {
		refused = append(refused, fmt.Sprintf("%s %d", k, r.Refused[k]))
		total += r.Refused[k]
	}
	reasons := ""
	if len(refused) > 0 {
		reasons = " (" + strings.Join(refused, ", ") + ")"
	}
	fmt.Fprintf(w, "  taps:       %d attempted, %d approved, %d refused%s, %d failed\n", r.Attempted, r.Approved, total, reasons, r.Failed)
	fmt.Fprintf(w, "  cards:      %d PIN(s) typed, %d card(s) set aside after a refusal\n", r.PINs, r.SetAside)
	fmt.Fprintf(w, "  claims:     %d, %s loaded onto cards from transition balances\n", r.Claims, onecard.Yuan(r.Claimed))
	fmt.Fprintf(w, "  spent:      %s in %d purchases (%d online, %d offline)\n", onecard.Yuan(r.Spent), r.Purchases, r.OnlinePurchases, r.OfflinePurchases)
	fmt.Fprintf(w, "  records:    %d accepted, %d duplicate, %d rejected, %d still queued\n", r.Accepted, r.Duplicate, r.Rejected, r.Outstanding)
	for _, m := range r.Rejections {
		fmt.Fprintf(w, "              rejected: %s\n", m)
	}
	fmt.Fprintf(w, "  online:     %.1f taps/s, latency p50 %.2f ms, p99 %.2f ms\n", r.OnlineRate, r.P50ms, r.P99ms)
}
