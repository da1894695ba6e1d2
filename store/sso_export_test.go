package store

import "context"

// SealedSSOSecret returns a school's client_secret column as stored, so that
// the external tests can check it is not the secret itself.
func (db *DB) SealedSSOSecret(ctx context.Context, schoolID int64) ([]byte, error) {
	var sealed []byte
	err := db.queryRow(ctx, `SELECT client_secret FROM school_sso WHERE school_id = ?`, schoolID).Scan(&sealed)
	return sealed, err
}
