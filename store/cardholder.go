package store

import (
	"context"
	"crypto/hmac"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
	"github.com/onecard-campus/onecard/password"
)

var _ onecard.CardholderService = (*DB)(nil)

// CreateCardholder implements onecard.CardholderService.
func (db *DB) CreateCardholder(ctx context.Context, n *onecard.NewCardholder) (*onecard.Cardholder, error) {
	hs, err := db.CreateCardholders(ctx, []*onecard.NewCardholder{n})
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

// CreateCardholders registers many cardholders in one transaction, all or
// none: demo data and imports at the start of a school year. The initial PIN
// hashes, the slow part, are computed in parallel before the transaction so
// that the writer is held only for the inserts.
func (db *DB) CreateCardholders(ctx context.Context, ns []*onecard.NewCardholder) ([]*onecard.Cardholder, error) {
	schools := map[int64]*onecard.School{}
	pins := make([]string, len(ns))
	for i, n := range ns {
		if err := n.Validate(); err != nil {
			if len(ns) > 1 {
				return nil, fmt.Errorf("cardholder %d (%s): %w", i+1, n.Number, err)
			}
			return nil, err
		}
		s := schools[n.SchoolID]
		if s == nil {
			var err error
			if s, err = db.School(ctx, n.SchoolID); err != nil {
				return nil, err
			}
			schools[n.SchoolID] = s
		}
		pins[i] = onecard.InitialPIN(s.Settings.InitialPIN, n.IDNumber)
	}
	hashes, err := db.hashPINs(pins)
	if err != nil {
		return nil, err
	}
	out := make([]*onecard.Cardholder, len(ns))
	err = db.Write(ctx, func(tx *Tx) error {
		for i, n := range ns {
			s, err := tx.school(ctx, n.SchoolID)
			if err != nil {
				return err
			}
			if out[i], err = tx.createCardholder(ctx, s, n, hashes[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// hashPINs hashes PINs on every core, each with its own salt.
func (db *DB) hashPINs(pins []string) ([]string, error) {
	out := make([]string, len(pins))
	errs := make([]error, len(pins))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(pins)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], errs[i] = password.Hash(db.pepper, pins[i])
			}
		}()
	}
	for i := range pins {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("store: unable to hash PIN: %w", err)
		}
	}
	return out, nil
}

// createCardholder inserts a validated cardholder, opens their purse and
// transition accounts (owned by the cardholder, so every card they ever hold
// shares them) and stores pinHash as both PINs and as the initial hash.
func (tx *Tx) createCardholder(ctx context.Context, s *onecard.School, n *onecard.NewCardholder, pinHash string) (*onecard.Cardholder, error) {
	if err := campusOf(ctx, tx, s.ID, n.CampusID); err != nil {
		return nil, err
	}
	h := &onecard.Cardholder{
		SchoolID: s.ID, CampusID: n.CampusID, Number: n.Number, Name: n.Name, Kind: n.Kind,
		Status: onecard.CardholderActive, IDType: n.IDType, IDMasked: onecard.MaskIDNumber(n.IDNumber),
		Phone: n.Phone, CreatedAt: tx.now,
	}
	id, err := tx.insertID(ctx, `INSERT INTO cardholders (school_id, campus_id, number, name, kind, status, id_type,
		id_hash, id_masked, phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.SchoolID, h.CampusID, h.Number, h.Name, string(h.Kind), string(h.Status), string(h.IDType),
		tx.db.idHash(n.IDNumber), h.IDMasked, h.Phone, micro(tx.now))
	if isUniqueViolation(err) {
		return nil, onecard.Errorf(onecard.ECONFLICT, "Card number %s is already registered at this school.", h.Number)
	} else if err != nil {
		return nil, fmt.Errorf("store: unable to create cardholder: %w", err)
	}
	h.ID = id
	if h.PurseAccount, err = tx.CreateAccount(ctx, AccountSpec{SchoolID: s.ID, Kind: KindPurse, OwnerID: id,
		Floor: 0, Ceiling: s.Settings.PurseCeiling}); err != nil {
		return nil, err
	}
	if h.TransitionAccount, err = tx.CreateAccount(ctx, AccountSpec{SchoolID: s.ID, Kind: KindTransition, OwnerID: id,
		Floor: -s.Settings.ArrearsLimit, Ceiling: ledger.NoCeiling}); err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, `UPDATE cardholders SET purse_account = ?, transition_account = ? WHERE id = ?`,
		h.PurseAccount, h.TransitionAccount, id); err != nil {
		return nil, fmt.Errorf("store: unable to create cardholder: %w", err)
	}
	for _, kind := range []onecard.PINKind{onecard.QueryPIN, onecard.ConsumptionPIN} {
		if _, err := tx.exec(ctx, `INSERT INTO pins (cardholder_id, kind, hash, initial_hash, changed_at) VALUES (?, ?, ?, ?, ?)`,
			id, string(kind), pinHash, pinHash, micro(tx.now)); err != nil {
			return nil, fmt.Errorf("store: unable to set initial PIN: %w", err)
		}
	}
	return h, tx.audit(ctx, auditEvent{Action: "cardholder.create", SchoolID: s.ID, TargetType: "cardholder", TargetID: id,
		Detail: h.Number})
}

// Cardholder implements onecard.CardholderService.
func (db *DB) Cardholder(ctx context.Context, id int64) (*onecard.Cardholder, error) {
	return findCardholder(ctx, db, "", id)
}

// CardholderByNumber implements onecard.CardholderService.
func (db *DB) CardholderByNumber(ctx context.Context, schoolID int64, number string) (*onecard.Cardholder, error) {
	num, err := onecard.NormalizeCardNumber(number)
	if err != nil {
		return nil, err
	}
	h, err := scanCardholder(db.queryRow(ctx, `SELECT `+cardholderColumns+` FROM cardholders WHERE school_id = ? AND number = ?`,
		schoolID, num))
	if err != nil {
		return nil, notFound(err, "unable to load cardholder", "No cardholder has card number %s at this school.", num)
	}
	return h, nil
}

// FindCardholders implements onecard.CardholderService. Query matches a
// prefix of the card number (as typed, normalised) or of the name.
func (db *DB) FindCardholders(ctx context.Context, f onecard.CardholderFilter) ([]*onecard.Cardholder, int, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	var where []string
	var args []any
	if f.SchoolID != 0 {
		where, args = append(where, "school_id = ?"), append(args, f.SchoolID)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		num := strings.ToUpper(strings.Join(strings.Fields(q), ""))
		if n, err := onecard.NormalizeCardNumber(q); err == nil {
			num = n
		}
		where = append(where, `(number LIKE ? ESCAPE '\' OR name LIKE ? ESCAPE '\')`)
		args = append(args, likePrefix(num), likePrefix(q))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM cardholders`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count cardholders: %w", err)
	}
	rows, err := db.query(ctx, `SELECT `+cardholderColumns+` FROM cardholders`+cond+` ORDER BY school_id, number LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to list cardholders: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Cardholder{}
	for rows.Next() {
		h, err := scanCardholder(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: unable to list cardholders: %w", err)
		}
		out = append(out, h)
	}
	return out, total, rows.Err()
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// SetCardholderStatus implements onecard.CardholderService. Graduating
// stamps left_at (graduate_freeze_after counts from it); closing needs a
// zero balance with nothing pending, cancels the active card, closes both
// accounts and ends the cardholder's sessions. A closed account stays closed.
func (db *DB) SetCardholderStatus(ctx context.Context, id int64, status onecard.CardholderStatus) (*onecard.Cardholder, error) {
	switch status {
	case onecard.CardholderActive, onecard.CardholderGraduated, onecard.CardholderClosed:
	default:
		return nil, onecard.Errorf(onecard.EINVALID, "Status must be active, graduated or closed.")
	}
	var h *onecard.Cardholder
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil { // may close accounts and cancel a card: lock order
			return err
		}
		var err error
		if h, err = findCardholder(ctx, tx, tx.forUpdate(), id); err != nil {
			return err
		}
		if h.Status == status {
			return nil
		}
		if h.Status == onecard.CardholderClosed {
			return onecard.Errorf(onecard.ECONFLICT, "The account of %s is closed and cannot be reopened.", h.Number)
		}
		leftAt := int64(0)
		switch status {
		case onecard.CardholderGraduated:
			leftAt = micro(tx.now)
		case onecard.CardholderClosed:
			leftAt = micro(tx.now)
			if h.LeftAt != nil {
				leftAt = micro(*h.LeftAt)
			}
			if err := tx.closeCardholder(ctx, h); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE cardholders SET status = ?, left_at = ? WHERE id = ?`, string(status), leftAt, id); err != nil {
			return fmt.Errorf("store: unable to set cardholder status: %w", err)
		}
		h.Status, h.LeftAt = status, fromMicroPtr(leftAt)
		return tx.audit(ctx, auditEvent{Action: "cardholder.set_status", SchoolID: h.SchoolID, TargetType: "cardholder",
			TargetID: id, Detail: string(status)})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (tx *Tx) closeCardholder(ctx context.Context, h *onecard.Cardholder) error {
	rows, err := tx.query(ctx, `SELECT balance, debits_pending, credits_pending FROM accounts WHERE id IN (?, ?)`+tx.forUpdate(),
		h.PurseAccount, h.TransitionAccount)
	if err != nil {
		return fmt.Errorf("store: unable to load balances: %w", err)
	}
	var total, pending int64
	for rows.Next() {
		var b, dp, cp int64
		if err := rows.Scan(&b, &dp, &cp); err != nil {
			rows.Close()
			return fmt.Errorf("store: unable to load balances: %w", err)
		}
		total, pending = total+b, pending+dp+cp
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: unable to load balances: %w", err)
	}
	if total != 0 || pending != 0 {
		return onecard.Errorf(onecard.ECONFLICT, "The balance of %s is %s; refund or settle it before closing the account.",
			h.Number, onecard.Yuan(total))
	}
	if c, err := tx.activeCard(ctx, h.ID); err == nil {
		if _, err := tx.cancelCard(ctx, c); err != nil {
			return err
		}
	} else if onecard.ErrorCode(err) != onecard.ENOTFOUND {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE accounts SET closed = ? WHERE id IN (?, ?)`, true, h.PurseAccount, h.TransitionAccount); err != nil {
		return fmt.Errorf("store: unable to close accounts: %w", err)
	}
	return tx.revokeCardholderSessions(ctx, h.ID)
}

// SetPhone implements onecard.CardholderService. An empty phone clears it.
func (db *DB) SetPhone(ctx context.Context, id int64, phone string) error {
	phone = strings.Join(strings.Fields(phone), "")
	if p := strings.TrimPrefix(phone, "+86"); phone != "" && (len(p) != 11 || p[0] != '1' || strings.Trim(p, "0123456789") != "") {
		return onecard.Errorf(onecard.EINVALID, "Phone %q is not a mobile number.", phone)
	}
	return db.Write(ctx, func(tx *Tx) error {
		h, err := findCardholder(ctx, tx, "", id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE cardholders SET phone = ? WHERE id = ?`, phone, id); err != nil {
			return fmt.Errorf("store: unable to set phone: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "cardholder.set_phone", SchoolID: h.SchoolID, TargetType: "cardholder", TargetID: id})
	})
}

// Balance implements onecard.CardholderService: posted balances, the ones
// the cardholder's history adds up to.
func (db *DB) Balance(ctx context.Context, cardholderID int64) (onecard.Balance, error) {
	h, err := db.Cardholder(ctx, cardholderID)
	if err != nil {
		return onecard.Balance{}, err
	}
	m, err := db.accountBalances(ctx, h.PurseAccount, h.TransitionAccount)
	if err != nil {
		return onecard.Balance{}, err
	}
	b := onecard.Balance{Purse: m[h.PurseAccount], Transition: m[h.TransitionAccount]}
	b.Total = b.Purse + b.Transition
	return b, nil
}

// MatchIDNumber implements onecard.CardholderService. A number that is not
// even well-formed for the cardholder's document type does not match.
func (db *DB) MatchIDNumber(ctx context.Context, cardholderID int64, idNumber string) (bool, error) {
	var idType string
	var stored []byte
	err := db.queryRow(ctx, `SELECT id_type, id_hash FROM cardholders WHERE id = ?`, cardholderID).Scan(&idType, &stored)
	if err != nil {
		return false, notFound(err, "unable to load cardholder", "Cardholder %d does not exist.", cardholderID)
	}
	num, err := onecard.NormalizeIDNumber(onecard.IDType(idType), idNumber)
	if err != nil {
		return false, nil
	}
	return hmac.Equal(db.idHash(num), stored), nil
}

const cardholderColumns = `id, school_id, campus_id, number, name, kind, status, id_type, id_masked, phone,
	purse_account, transition_account, left_at, created_at`

// findCardholder loads a cardholder by id; lock is tx.forUpdate() or "".
func findCardholder(ctx context.Context, q querier, lock string, id int64) (*onecard.Cardholder, error) {
	h, err := scanCardholder(q.queryRow(ctx, `SELECT `+cardholderColumns+` FROM cardholders WHERE id = ?`+lock, id))
	if err != nil {
		return nil, notFound(err, "unable to load cardholder", "Cardholder %d does not exist.", id)
	}
	return h, nil
}

func scanCardholder(r scanner) (*onecard.Cardholder, error) {
	h := &onecard.Cardholder{}
	var kind, status, idType string
	var leftAt, created int64
	if err := r.Scan(&h.ID, &h.SchoolID, &h.CampusID, &h.Number, &h.Name, &kind, &status, &idType, &h.IDMasked, &h.Phone,
		&h.PurseAccount, &h.TransitionAccount, &leftAt, &created); err != nil {
		return nil, err
	}
	h.Kind, h.Status, h.IDType = onecard.CardholderKind(kind), onecard.CardholderStatus(status), onecard.IDType(idType)
	h.LeftAt, h.CreatedAt = fromMicroPtr(leftAt), fromMicro(created)
	return h, nil
}
