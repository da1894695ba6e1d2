package main

import (
	"net/url"

	"github.com/onecard-campus/onecard/store"
)

// redactDSN returns the database name fit for logs and reports: a
// PostgreSQL URL without its password.
func redactDSN(dsn string) string {
	if !store.IsPostgresURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}
