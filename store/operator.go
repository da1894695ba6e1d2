package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/password"
)

var _ onecard.OperatorService = (*DB)(nil)

// CreateOperator implements onecard.OperatorService.
func (db *DB) CreateOperator(ctx context.Context, o *onecard.Operator, pass string) error {
	if err := validateOperator(o); err != nil {
		return err
	}
	if err := validateOperatorPassword(pass); err != nil {
		return err
	}
	hash, err := password.HashWith(password.Operator, db.pepper, pass)
	if err != nil {
		return fmt.Errorf("store: unable to hash password: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		if o.SchoolID != 0 {
			if _, err := tx.school(ctx, o.SchoolID); err != nil {
				return err
			}
		}
		if err := tx.createOperator(ctx, o, hash); err != nil {
			return err
		}
		return tx.audit(ctx, auditEvent{Action: "operator.create", SchoolID: o.SchoolID, TargetType: "operator", TargetID: o.ID,
			Detail: o.Username + " as " + string(o.Role)})
	})
}

func (tx *Tx) createOperator(ctx context.Context, o *onecard.Operator, hash string) error {
	id, err := tx.insertID(ctx, `INSERT INTO operators (username, name, role, school_id, password_hash, must_change_password,
		disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Username, o.Name, string(o.Role), o.SchoolID, hash, o.MustChangePassword, o.Disabled, micro(tx.now))
	if isUniqueViolation(err) {
		return onecard.Errorf(onecard.ECONFLICT, "Username %q is already taken.", o.Username)
	} else if err != nil {
		return fmt.Errorf("store: unable to create operator: %w", err)
	}
	o.ID, o.CreatedAt = id, tx.now
	return nil
}

// Operators implements onecard.OperatorService.
func (db *DB) Operators(ctx context.Context) ([]*onecard.Operator, error) {
	rows, err := db.query(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list operators: %w", err)
	}
	defer rows.Close()
	out := []*onecard.Operator{}
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("store: unable to list operators: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ChangeOperatorPassword implements onecard.OperatorService. A wrong old
// password counts towards the lockout like a wrong login.
func (db *DB) ChangeOperatorPassword(ctx context.Context, id int64, old, new string) error {
	if err := validateOperatorPassword(new); err != nil {
		return err
	}
	if old == new {
		return onecard.Errorf(onecard.EINVALID, "The new password must differ from the current one.")
	}
	o, err := findOperator(ctx, db, `id = ?`, id)
	if err != nil {
		return err
	}
	if err := db.checkOperatorPassword(ctx, o, old); err != nil {
		if onecard.ErrorCode(err) == onecard.EUNAUTHORIZED {
			return onecard.Errorf(onecard.EUNAUTHORIZED, "The current password is wrong.")
		}
		return err
	}
	hash, err := password.HashWith(password.Operator, db.pepper, new)
	if err != nil {
		return fmt.Errorf("store: unable to hash password: %w", err)
	}
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE operators SET password_hash = ?, must_change_password = ?, failed_attempts = 0,
			locked_until = 0 WHERE id = ?`, hash, false, id); err != nil {
			return fmt.Errorf("store: unable to change password: %w", err)
		}
		return tx.audit(ctx, auditEvent{Action: "operator.change_password", SchoolID: o.SchoolID, TargetType: "operator", TargetID: id})
	})
}

// EnsureAdmin implements onecard.OperatorService. The administrator works

// AdminUsername is the first administrator's login, made by EnsureAdmin.
const AdminUsername = "admin"

// for every school (SchoolID 0).
func (db *DB) EnsureAdmin(ctx context.Context, pass string) (string, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
		return "", fmt.Errorf("store: unable to count operators: %w", err)
	} else if n > 0 {
		return "", nil
	}
	o := &onecard.Operator{Username: AdminUsername, Name: "Administrator", Role: onecard.RoleAdmin}
	if pass == "" {
		pass, o.MustChangePassword = oneTimePassword(), true
	} else if err := validateOperatorPassword(pass); err != nil {
		return "", err
	}
	hash, err := password.HashWith(password.Operator, db.pepper, pass)
	if err != nil {
		return "", fmt.Errorf("store: unable to hash password: %w", err)
	}
	created := false
	err = db.Write(ctx, func(tx *Tx) error {
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
			return fmt.Errorf("store: unable to count operators: %w", err)
		} else if n > 0 {
			return nil
		}
		if err := tx.createOperator(ctx, o, hash); err != nil {
			return err
		}
		created = true
		return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "operator.create", TargetType: "operator", TargetID: o.ID,
			Detail: "first administrator"})
	})
	if onecard.ErrorCode(err) == onecard.ECONFLICT { // another process made it first
		return "", nil
	} else if err != nil || !created {
		return "", err
	}
	return pass, nil
}

// oneTimePassword returns 16 characters from an alphabet without look-alikes
// (no 0/O, 1/l/I), about 90 bits.
func oneTimePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		b[i] = alphabet[randIntn(len(alphabet))]
	}
	return string(b)
}

// randIntn returns a uniform random int in [0, n) from crypto/rand.
func randIntn(n int) int {
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < 256-256%n {
			return int(b[0]) % n
		}
	}
}

// checkOperatorPassword verifies an operator's password with lockout:
// EUNAUTHORIZED or ELOCKED.
func (db *DB) checkOperatorPassword(ctx context.Context, o *onecard.Operator, pass string) error {
	r, err := db.checkSecret(ctx, attempt{
		table: "operators", hashColumn: "password_hash", where: "id = ?", args: []any{o.ID},
		max: operatorMaxAttempts, lockout: operatorLockout,
		onLock: func(ctx context.Context, tx *Tx) error {
			return tx.auditAs(ctx, actorSystem, 0, auditEvent{Action: "operator.locked", SchoolID: o.SchoolID, TargetType: "operator", TargetID: o.ID})
		},
	}, pass)
	switch {
	case err != nil:
		return err
	case !r.lockedUntil.IsZero():
		loc := onecard.DefaultSettings().Location()
		return onecard.Errorf(onecard.ELOCKED, "Too many wrong passwords; try again after %s.", r.lockedUntil.In(loc).Format("15:04"))
	case !r.ok:
		return onecard.Errorf(onecard.EUNAUTHORIZED, "Wrong password.")
	}
	return nil
}

func validateOperator(o *onecard.Operator) error {
	o.Username = strings.ToLower(strings.TrimSpace(o.Username))
	ok := len(o.Username) >= 3 && len(o.Username) <= 32
	for _, r := range o.Username {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return onecard.Errorf(onecard.EINVALID, "A username is 3 to 32 lowercase letters, digits, dots, hyphens or underscores.")
	}
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" || len([]rune(o.Name)) > 64 {
		return onecard.Errorf(onecard.EINVALID, "A name must be 1 to 64 characters.")
	}
	if !o.Role.Valid() {
		return onecard.Errorf(onecard.EINVALID, "Role must be admin, operator, finance or auditor.")
	}
	return nil
}

func validateOperatorPassword(p string) error {
	if n := len([]rune(p)); n < 10 || n > 128 {
		return onecard.Errorf(onecard.EINVALID, "A password must be 10 to 128 characters.")
	}
	return nil
}

const operatorColumns = `id, username, name, role, school_id, must_change_password, disabled, created_at`

func findOperator(ctx context.Context, q querier, where string, args ...any) (*onecard.Operator, error) {
	o, err := scanOperator(q.queryRow(ctx, `SELECT `+operatorColumns+` FROM operators WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err, "unable to load operator", "Operator not found.")
	}
	return o, nil
}

func scanOperator(r scanner) (*onecard.Operator, error) {
	o := &onecard.Operator{}
	var role string
	var created int64
	if err := r.Scan(&o.ID, &o.Username, &o.Name, &role, &o.SchoolID, &o.MustChangePassword, &o.Disabled, &created); err != nil {
		return nil, err
	}
	o.Role, o.CreatedAt = onecard.Role(role), fromMicro(created)
	return o, nil
}

// SetOperatorDisabled implements onecard.OperatorService.
func (db *DB) SetOperatorDisabled(ctx context.Context, id int64, disabled bool) (*onecard.Operator, error) {
	var o *onecard.Operator
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if o, err = findOperator(ctx, tx, `id = ?`+tx.forUpdate(), id); err != nil {
			return err
		}
		if disabled && o.Role == onecard.RoleAdmin && o.SchoolID == 0 && !o.Disabled {
			var others int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM operators WHERE role = ? AND school_id = 0 AND disabled = ? AND id <> ?`,
				string(onecard.RoleAdmin), false, id).Scan(&others); err != nil {
				return fmt.Errorf("store: unable to count administrators: %w", err)
			}
			if others == 0 {
				return onecard.Errorf(onecard.ECONFLICT, "%s is the last administrator of every school; enable or create another first.", o.Username)
			}
		}
		if _, err := tx.exec(ctx, `UPDATE operators SET disabled = ? WHERE id = ?`, disabled, id); err != nil {
			return fmt.Errorf("store: unable to disable operator: %w", err)
		}
		action := "operator.enable"
		if disabled {
			action = "operator.disable"
			if _, err := tx.exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE operator_id = ? AND revoked_at = 0`, micro(tx.now), id); err != nil {
				return fmt.Errorf("store: unable to end operator's sessions: %w", err)
			}
		}
		o.Disabled = disabled
		return tx.audit(ctx, auditEvent{Action: action, SchoolID: o.SchoolID, TargetType: "operator", TargetID: id, Detail: o.Username})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}
