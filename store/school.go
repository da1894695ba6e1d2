package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

var _ onecard.SchoolService = (*DB)(nil)

// CreateSchool implements onecard.SchoolService. It opens the school's
// system accounts (SystemAccountKinds) and stores its campuses.
func (db *DB) CreateSchool(ctx context.Context, s *onecard.School) error {
	code, err := normalizeSchoolCode(s.Code)
	if err != nil {
		return err
	}
	s.Code = code
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || len([]rune(s.Name)) > 64 {
		return onecard.Errorf(onecard.EINVALID, "A school name must be 1 to 64 characters.")
	}
	if reflect.ValueOf(s.Settings).IsZero() {
		s.Settings = onecard.DefaultSettings()
	}
	s.Settings = s.Settings.WithDefaults()
	if err := s.Settings.Validate(); err != nil {
		return err
	}
	for i := range s.Campuses {
		if err := validateCampusName(&s.Campuses[i]); err != nil {
			return err
		}
	}
	settings, err := json.Marshal(s.Settings)
	if err != nil {
		return fmt.Errorf("store: unable to encode settings: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		id, err := tx.insertID(ctx, `INSERT INTO schools (code, name, settings, created_at) VALUES (?, ?, ?, ?)`,
			s.Code, s.Name, string(settings), micro(tx.now))
		if isUniqueViolation(err) {
			return onecard.Errorf(onecard.ECONFLICT, "School code %q is already taken.", s.Code)
		} else if err != nil {
			return fmt.Errorf("store: unable to create school: %w", err)
		}
		s.ID, s.CreatedAt = id, tx.now
		for _, kind := range SystemAccountKinds {
			spec := AccountSpec{SchoolID: id, Kind: kind, Floor: ledger.NoFloor, Ceiling: ledger.NoCeiling}
			if kind == KindFeeIncome {
				spec.Floor = 0 // fees only come in
			}
			if _, err := tx.CreateAccount(ctx, spec); err != nil {
				return err
			}
		}
		for i := range s.Campuses {
			s.Campuses[i].SchoolID = id
			if err := tx.createCampus(ctx, &s.Campuses[i]); err != nil {
				return err
			}
		}
		return tx.audit(ctx, auditEvent{Action: "school.create", SchoolID: id, TargetType: "school", TargetID: id, Detail: s.Code})
	})
}

// School implements onecard.SchoolService.
func (db *DB) School(ctx context.Context, id int64) (*onecard.School, error) {
	s, err := findSchool(ctx, db, `id = ?`, id)
	if err != nil {
		return nil, notFound(err, "unable to load school", "School %d does not exist.", id)
	}
	return s, db.loadCampuses(ctx, s)
}

// SchoolByCode implements onecard.SchoolService.
func (db *DB) SchoolByCode(ctx context.Context, code string) (*onecard.School, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	s, err := findSchool(ctx, db, `code = ?`, code)
	if err != nil {
		return nil, notFound(err, "unable to load school", "No school has the code %q.", code)
	}
	return s, db.loadCampuses(ctx, s)
}

// Schools implements onecard.SchoolService.
func (db *DB) Schools(ctx context.Context) ([]*onecard.School, error) {
	rows, err := db.query(ctx, `SELECT `+schoolColumns+` FROM schools ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list schools: %w", err)
	}
	defer rows.Close()
	var out []*onecard.School
	byID := map[int64]*onecard.School{}
	for rows.Next() {
		s, err := scanSchool(rows)
		if err != nil {
			return nil, err
		}
		s.Campuses = []onecard.Campus{}
		out = append(out, s)
		byID[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unable to list schools: %w", err)
	}
	rows.Close()
	crows, err := db.query(ctx, `SELECT id, school_id, name FROM campuses ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list campuses: %w", err)
	}
	defer crows.Close()
	for crows.Next() {
		var c onecard.Campus
		if err := crows.Scan(&c.ID, &c.SchoolID, &c.Name); err != nil {
			return nil, fmt.Errorf("store: unable to list campuses: %w", err)
		}
		if s := byID[c.SchoolID]; s != nil {
			s.Campuses = append(s.Campuses, c)
		}
	}
	return out, crows.Err()
}

// UpdateSettings implements onecard.SchoolService. The floors of the
// school's transition accounts follow the arrears limit and the ceilings of
// its purses the purse ceiling; an account already beyond a new bound keeps
// a bound at its current balance, so that no stored balance breaks its
// CHECK and the change never fails because of one cardholder.
func (db *DB) UpdateSettings(ctx context.Context, id int64, s onecard.Settings) (*onecard.School, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	settings, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("store: unable to encode settings: %w", err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.LockHead(ctx); err != nil { // account bounds change: lock order
			return err
		}
		res, err := tx.exec(ctx, `UPDATE schools SET settings = ? WHERE id = ?`, string(settings), id)
		if err != nil {
			return fmt.Errorf("store: unable to update settings: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return onecard.Errorf(onecard.ENOTFOUND, "School %d does not exist.", id)
		}
		if _, err := tx.exec(ctx, `UPDATE accounts SET floor = `+db.least()+`(?, balance - debits_pending)
			WHERE school_id = ? AND kind = ?`, -s.ArrearsLimit, id, KindTransition); err != nil {
			return fmt.Errorf("store: unable to update transition floors: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE accounts SET ceiling = `+db.greatest()+`(?, balance + credits_pending)
			WHERE school_id = ? AND kind = ?`, s.PurseCeiling, id, KindPurse); err != nil {
			return fmt.Errorf("store: unable to update purse ceilings: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "school.update_settings", SchoolID: id, TargetType: "school", TargetID: id, Detail: string(settings)})
	})
	if err != nil {
		return nil, err
	}
	return db.School(ctx, id)
}

// CreateCampus implements onecard.SchoolService.
func (db *DB) CreateCampus(ctx context.Context, c *onecard.Campus) error {
	if err := validateCampusName(c); err != nil {
		return err
	}
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.school(ctx, c.SchoolID); err != nil {
			return err
		}
		if err := tx.createCampus(ctx, c); err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: "campus.create", SchoolID: c.SchoolID, TargetType: "campus", TargetID: c.ID, Detail: c.Name})
	})
}

func (tx *Tx) createCampus(ctx context.Context, c *onecard.Campus) error {
	id, err := tx.insertID(ctx, `INSERT INTO campuses (school_id, name) VALUES (?, ?)`, c.SchoolID, c.Name)
	if isUniqueViolation(err) {
		return onecard.Errorf(onecard.ECONFLICT, "The school already has a campus named %q.", c.Name)
	} else if err != nil {
		return fmt.Errorf("store: unable to create campus: %w", err)
	}
	c.ID = id
	return nil
}

// school loads a school (without campuses) inside tx. ENOTFOUND.
func (tx *Tx) school(ctx context.Context, id int64) (*onecard.School, error) {
	s, err := findSchool(ctx, tx, `id = ?`, id)
	if err != nil {
		return nil, notFound(err, "unable to load school", "School %d does not exist.", id)
	}
	return s, nil
}

// campusOf checks that a campus belongs to a school; 0 means no campus.
func campusOf(ctx context.Context, q querier, schoolID, campusID int64) error {
	if campusID == 0 {
		return nil
	}
	var id int64
	if err := q.queryRow(ctx, `SELECT id FROM campuses WHERE id = ? AND school_id = ?`, campusID, schoolID).Scan(&id); err != nil {
		return notFound(err, "unable to load campus", "Campus %d is not a campus of this school.", campusID)
	}
	return nil
}

func (db *DB) loadCampuses(ctx context.Context, s *onecard.School) error {
	rows, err := db.query(ctx, `SELECT id, school_id, name FROM campuses WHERE school_id = ? ORDER BY id`, s.ID)
	if err != nil {
		return fmt.Errorf("store: unable to list campuses: %w", err)
	}
	defer rows.Close()
	s.Campuses = []onecard.Campus{}
	for rows.Next() {
		var c onecard.Campus
		if err := rows.Scan(&c.ID, &c.SchoolID, &c.Name); err != nil {
			return fmt.Errorf("store: unable to list campuses: %w", err)
		}
		s.Campuses = append(s.Campuses, c)
	}
	return rows.Err()
}

const schoolColumns = `id, code, name, settings, created_at`

func findSchool(ctx context.Context, q querier, where string, args ...any) (*onecard.School, error) {
	return scanSchool(q.queryRow(ctx, `SELECT `+schoolColumns+` FROM schools WHERE `+where, args...))
}

type scanner interface{ Scan(dest ...any) error }

func scanSchool(r scanner) (*onecard.School, error) {
	s := &onecard.School{}
	var settings string
	var created int64
	if err := r.Scan(&s.ID, &s.Code, &s.Name, &settings, &created); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMicro(created)
	if err := json.Unmarshal([]byte(settings), &s.Settings); err != nil {
		return nil, fmt.Errorf("store: school %d has unreadable settings: %w", s.ID, err)
	}
	s.Settings = s.Settings.WithDefaults()
	return s, nil
}

// normalizeSchoolCode lower-cases a login code and checks it is 2 to 32 of
// a-z, 0-9 and hyphens.
func normalizeSchoolCode(code string) (string, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	ok := len(code) >= 2 && len(code) <= 32
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return "", onecard.Errorf(onecard.EINVALID, "A school code is 2 to 32 lowercase letters, digits or hyphens, like \"nankai\".")
	}
	return code, nil
}

func validateCampusName(c *onecard.Campus) error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len([]rune(c.Name)) > 64 {
		return onecard.Errorf(onecard.EINVALID, "A campus name must be 1 to 64 characters.")
	}
	return nil
}
