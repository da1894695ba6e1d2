package store

import (
	"context"
	"strconv"

	"github.com/onecard-campus/onecard/purse"
)

// PurseIssuer returns the purse issuer of a school: the master keys that
// personalize its cards, authorise loads onto them and verify their TACs.
// The school's purse secret is derived from the store secret and the
// school's ID, so it never needs storing and every instance sharing the
// database agrees on it. ENOTFOUND if the school does not exist.
func (db *DB) PurseIssuer(ctx context.Context, schoolID int64) (*purse.Issuer, error) {
	if is, ok := db.issuers.Load(schoolID); ok {
		return is.(*purse.Issuer), nil
	}
	if _, err := db.School(ctx, schoolID); err != nil {
		return nil, err
	}
	is, err := purse.NewIssuer(derive(db.secret, "onecard purse school v1:"+strconv.FormatInt(schoolID, 10)))
	if err != nil {
		return nil, err
	}
	actual, _ := db.issuers.LoadOrStore(schoolID, is)
	return actual.(*purse.Issuer), nil
}
