package store

import (
	"context"
	"time"

	"github.com/onecard-campus/onecard"
)

// CodePaymentRecords lets the external tests see the code payments' part
// of ChannelRecords alone, without the top-ups the full records also hold.
func (db *DB) CodePaymentRecords(ctx context.Context, schoolID int64, channel string, from, to time.Time) ([]onecard.ChannelRecord, error) {
	return db.codePaymentRecords(ctx, schoolID, channel, from, to)
}
