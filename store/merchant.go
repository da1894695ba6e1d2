package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

var _ onecard.MerchantService = (*DB)(nil)

// merchantKinds are the kinds of business a merchant may be.
var merchantKinds = []string{"canteen", "bath", "network", "card_center", "shop"}

// CreateMerchant implements onecard.MerchantService. The merchant's account
// has a floor of zero: refunds can only give back what it received.
func (db *DB) CreateMerchant(ctx context.Context, m *onecard.Merchant) error {
	m.Code = strings.ToLower(strings.TrimSpace(m.Code))
	if !validCode(m.Code) {
		return onecard.Errorf(onecard.EINVALID, "A merchant code is 2 to 32 lowercase letters, digits, hyphens or underscores.")
	}
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" || len([]rune(m.Name)) > 64 {
		return onecard.Errorf(onecard.EINVALID, "A merchant name must be 1 to 64 characters.")
	}
	if !slices.Contains(merchantKinds, m.Kind) {
		return onecard.Errorf(onecard.EINVALID, "Merchant kind must be one of %s.", strings.Join(merchantKinds, ", "))
	}
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.school(ctx, m.SchoolID); err != nil {
			return err
		}
		if err := campusOf(ctx, tx, m.SchoolID, m.CampusID); err != nil {
			return err
		}
		id, err := tx.insertID(ctx, `INSERT INTO merchants (school_id, campus_id, code, name, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.SchoolID, m.CampusID, m.Code, m.Name, m.Kind, micro(tx.now))
		if isUniqueViolation(err) {
			return onecard.Errorf(onecard.ECONFLICT, "Merchant code %q is already taken at this school.", m.Code)
		} else if err != nil {
			return fmt.Errorf("store: unable to create merchant: %w", err)
		}
		m.ID, m.CreatedAt = id, tx.now
		if m.Account, err = tx.CreateAccount(ctx, AccountSpec{SchoolID: m.SchoolID, Kind: KindMerchant, OwnerID: id,
			Floor: 0, Ceiling: ledger.NoCeiling}); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE merchants SET account = ? WHERE id = ?`, m.Account, id); err != nil {
			return fmt.Errorf("store: unable to create merchant: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "merchant.create", SchoolID: m.SchoolID, TargetType: "merchant", TargetID: id, Detail: m.Code})
	})
}

// Merchant implements onecard.MerchantService.
func (db *DB) Merchant(ctx context.Context, id int64) (*onecard.Merchant, error) {
	return findMerchant(ctx, db, id)
}

// Merchants implements onecard.MerchantService.
func (db *DB) Merchants(ctx context.Context, schoolID int64) ([]*onecard.Merchant, error) {
	rows, err := db.query(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE school_id = ? ORDER BY code`, schoolID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list merchants: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Merchant{}
	for rows.Next() {
		m, err := scanMerchant(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list merchants: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const merchantColumns = `id, school_id, campus_id, code, name, kind, account, created_at`

func findMerchant(ctx context.Context, q querier, id int64) (*onecard.Merchant, error) {
	m, err := scanMerchant(q.queryRow(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "unable to load merchant", "Merchant %d does not exist.", id)
	}
	return m, nil
}

func scanMerchant(r scanner) (*onecard.Merchant, error) {
	m := &onecard.Merchant{}
	var created int64
	if err := r.Scan(&m.ID, &m.SchoolID, &m.CampusID, &m.Code, &m.Name, &m.Kind, &m.Account, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicro(created)
	return m, nil
}
