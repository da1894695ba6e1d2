package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/onecard-campus/onecard/store"
)

// graduateSweepEvery is how often serve freezes the cards of cardholders
// who graduated longer ago than their school allows: the period is months,
// so an hour late is nothing.
const graduateSweepEvery = time.Hour

// sweepGraduates runs store.FreezeExpiredGraduates at start and then
// every graduateSweepEvery until ctx ends.
func sweepGraduates(ctx context.Context, db *store.DB, log *slog.Logger) {
	t := time.NewTicker(graduateSweepEvery)
	defer t.Stop()
	for {
		if n, err := db.FreezeExpiredGraduates(ctx); err != nil && ctx.Err() == nil {
			log.Error("freezing graduates' cards", "err", err)
		} else if n > 0 {
			log.Info("froze graduates' cards", "cards", n)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}
