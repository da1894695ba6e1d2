package store

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
)

// Audit actor types.
const (
	actorOperator   = "operator"
	actorCardholder = "cardholder"
	actorSystem     = "system"
)

// auditEvent is one row of the audit log. Detail is for people and must
// never hold a PIN, a password or an ID number.
type auditEvent struct {
	Action     string
	SchoolID   int64
	TargetType string
	TargetID   int64
	Detail     string
}

// audit records an action by the caller in ctx (system when anonymous)
// inside tx, so that the entry commits or rolls back with the change.
func (tx *Tx) audit(ctx context.Context, e auditEvent) error {
	actor, id := actorSystem, int64(0)
	if p := onecard.PrincipalFromContext(ctx); p != nil {
		switch {
		case p.Operator != nil:
			actor, id = actorOperator, p.Operator.ID
		case p.Cardholder != nil:
			actor, id = actorCardholder, p.Cardholder.ID
		}
	}
	return tx.auditAs(ctx, actor, id, e)
}

// auditAs records an action by a given actor; the ledger's own decisions
// (freezing for arrears) are the system's, whoever's payment caused them.
func (tx *Tx) auditAs(ctx context.Context, actorType string, actorID int64, e auditEvent) error {
	_, err := tx.exec(ctx, `INSERT INTO audit_log (at, actor_type, actor_id, action, school_id, target_type, target_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, micro(tx.now), actorType, actorID, e.Action, e.SchoolID, e.TargetType, e.TargetID, e.Detail)
	if err != nil {
		return fmt.Errorf("store: unable to record audit entry %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog implements onecard.OperatorService. A schoolID of 0 lists every
// school's entries.
func (db *DB) AuditLog(ctx context.Context, schoolID int64, limit int) ([]*onecard.AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	const cols = `SELECT id, at, actor_type, actor_id, action, school_id, target_type, target_id, detail FROM audit_log`
	q, args := cols+` ORDER BY id DESC LIMIT ?`, []any{limit}
	if schoolID != 0 {
		q, args = cols+` WHERE school_id = ? ORDER BY id DESC LIMIT ?`, []any{schoolID, limit}
	}
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list audit log: %w", err)
	}
	defer rows.Close()
	var out []*onecard.AuditEntry
	for rows.Next() {
		e := &onecard.AuditEntry{}
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorType, &e.ActorID, &e.Action, &e.SchoolID, &e.TargetType, &e.TargetID, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: unable to list audit log: %w", err)
		}
		e.At = fromMicro(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
