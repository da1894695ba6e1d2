package store

import (
	"context"
	"strconv"
	"sync"

	"github.com/onecard-campus/onecard/purse"
)

// issuers caches each school's purse issuer: deriving its keys is cheap,
// but the server verifies a TAC for every uploaded record.
var issuers sync.Map // map[issuerKey]*purse.Issuer

type issuerKey struct {
	db     *DB
	school int64
}

// PurseIssuer returns the purse issuer of a school: the master keys that
// personalize its cards, authorise loads onto them and verify their TACs.
// The school's purse secret is derived from the store secret and the
// school's ID, so it never needs storing and every instance sharing the
// database agrees on it. ENOTFOUND if the school does not exist.
func (db *DB) PurseIssuer(ctx context.Context, schoolID int64) (*purse.Issuer, error) {
	k := issuerKey{db, schoolID}
	if is, ok := issuers.Load(k); ok {
		return is.(*purse.Issuer), nil
	}
	if _, err := db.School(ctx, schoolID); err != nil {
		return nil, err
	}
	is, err := purse.NewIssuer(derive(db.secret, "onecard purse school v1:"+strconv.FormatInt(schoolID, 10)))
	if err != nil {
		return nil, err
	}
	actual, _ := issuers.LoadOrStore(k, is)
	return actual.(*purse.Issuer), nil
}
