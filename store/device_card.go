package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// This file holds what the device calls (device_tap.go, device_load.go,
// device_record.go, device_mismatch.go) share: finding a card by its chip,
// the server's view of its purse (card_purses), and thawing frozen
// accounts for money the card has already moved.

var _ device.Backend = (*DB)(nil)

// purseCard is a card found by its chip UID, with its cardholder.
type purseCard struct {
	card   *onecard.Card
	holder *onecard.Cardholder
}

// findPurseCard finds a school's card by chip UID, whatever its state, and
// its cardholder. lock is tx.forUpdate() inside a write transaction.
// ENOTFOUND when the school has no such card.
func findPurseCard(ctx context.Context, q querier, lock string, schoolID int64, uid purse.UID) (*purseCard, error) {
	c, err := findCard(ctx, q, `school_id = ? AND uid = ?`+lock, schoolID, uid.String())
	if onecard.ErrorCode(err) == onecard.ENOTFOUND {
		return nil, onecard.Errorf(onecard.ENOTFOUND, "This school has no card with UID %s.", uid)
	} else if err != nil {
		return nil, err
	}
	h, err := findCardholder(ctx, q, "", c.CardholderID)
	if err != nil {
		return nil, err
	}
	return &purseCard{card: c, holder: h}, nil
}

// purseState is what the server knows of a card's purse.
type purseState struct {
	online      uint16    // the highest confirmed load counter
	offline     uint16    // the highest accepted offline counter (purchases and baths)
	purchases   int64     // accepted records: fewer than offline means a counter gap
	lastBalance int64     // the card's balance after the last accepted record or confirmed load
	pending     int       // loads authorised and not yet confirmed or reversed
	lastLoadAt  time.Time // when the latest load not reversed was authorised
}

// complete reports whether every purchase up to the highest accepted
// counter is in and no load is unsettled: then the purse shadow is what
// the card should hold after its last accepted transaction, up to loads
// done since.
func (s purseState) complete() bool { return s.purchases == int64(s.offline) && s.pending == 0 }

// loadPurseState reads a card's purse state.
func loadPurseState(ctx context.Context, q querier, cardID int64) (purseState, error) {
	var s purseState
	var online, offline int64
	err := q.queryRow(ctx, `SELECT online_counter, offline_counter, purchases, last_balance FROM card_purses WHERE card_id = ?`, cardID).
		Scan(&online, &offline, &s.purchases, &s.lastBalance)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("store: unable to load card purse: %w", err)
	}
	s.online, s.offline = uint16(online), uint16(offline)
	var lastLoad int64
	err = q.queryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0), COALESCE(MAX(authorised_at), 0)
		FROM device_loads WHERE card_id = ? AND state <> 'reversed'`, cardID).Scan(&s.pending, &lastLoad)
	if err != nil {
		return s, fmt.Errorf("store: unable to load card loads: %w", err)
	}
	s.lastLoadAt = fromMicro(lastLoad)
	return s, nil
}

// notePurse records in card_purses a confirmed load (online > 0) or
// accepted purchases (offline > 0, purchases of them): each counter only
// rises, and the card's balance is kept when it comes with the newest
// counter.
func (tx *Tx) notePurse(ctx context.Context, cardID int64, online, offline uint16, purchases, balance int64) error {
	_, err := tx.exec(ctx, `INSERT INTO card_purses (card_id, online_counter, offline_counter, purchases, last_balance, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (card_id) DO UPDATE SET
			last_balance = CASE WHEN excluded.online_counter > card_purses.online_counter
				OR excluded.offline_counter > card_purses.offline_counter THEN excluded.last_balance ELSE card_purses.last_balance END,
			online_counter = `+tx.db.greatest()+`(card_purses.online_counter, excluded.online_counter),
			offline_counter = `+tx.db.greatest()+`(card_purses.offline_counter, excluded.offline_counter),
			purchases = card_purses.purchases + excluded.purchases,
			updated_at = excluded.updated_at`,
		cardID, int64(online), int64(offline), purchases, balance, micro(tx.now))
	if err != nil {
		return fmt.Errorf("store: unable to update card purse: %w", err)
	}
	return nil
}

// CounterGaps returns the offline counters of a card that no accepted
// record (purchase or bath) carries, below the highest one accepted:
// debits the card made whose records have not arrived (or never will: a
// torn purchase a POS gave up). For the console and the simulator; ENOTFOUND if the card does not
// exist.
func (db *DB) CounterGaps(ctx context.Context, cardID int64) ([]uint16, error) {
	if _, err := db.Card(ctx, cardID); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT card_counter FROM device_records WHERE card_id = ? ORDER BY card_counter`, cardID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to load counters: %w", err)
	}
	defer rows.Close()
	gaps := []uint16{}
	next := 1
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: unable to load counters: %w", err)
		}
		for ; next < n; next++ {
			gaps = append(gaps, uint16(next))
		}
		next = n + 1
	}
	return gaps, rows.Err()
}

// inList returns a condition on column matching any of values and its
// arguments: IN (?, ...) on SQLite, = ANY(?) on PostgreSQL. values must
// not be empty.
func inList[T any](db *DB, column string, values []T) (string, []any) {
	if db.dialect == Postgres {
		return column + ` = ANY(?)`, []any{values}
	}
	return column + ` IN (` + placeholders(len(values)) + `)`, anys(values)
}

// refusal is a tap decision refusing with err's code and message.
func refusal(err error, lock bool) *device.TapDecision {
	return &device.TapDecision{Decision: device.Refuse, Code: onecard.ErrorCode(err), Message: onecard.ErrorMessage(err), LockCard: lock}
}
