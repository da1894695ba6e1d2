package main

import (
	"fmt"
	"io"

	"github.com/onecard-campus/onecard/demo"
)

// printDemo tells a person who just ran `onecard serve --demo` how to log in
// and what to try first. The administrator's password is not repeated here:
// it was printed once when the account was made.
func printDemo(w io.Writer, base string, info *demo.Info) {
	fmt.Fprintf(w, `
Demo school %q (%s): %d cardholders with cards and balances, %d merchants, %d campuses.

Log in as an operator:
  username %s, password: the one-time password printed when the administrator was created
  (or ONECARD_ADMIN_PASSWORD). A one-time password must be changed first.
  curl -s -X POST %s/api/v1/auth/operator/login -H 'Content-Type: application/json' \
    -d '{"username":"%s","password":"PASSWORD"}'
  curl -s -X POST %s/api/v1/operators/me/password -H "Authorization: Bearer TOKEN" \
    -H 'Content-Type: application/json' -d '{"old":"PASSWORD","new":"NEW PASSWORD, 10+ characters"}'

Log in as a cardholder:
  school %s, card number %s (%s), query PIN %s
  (the initial PIN: the last six digits of the ID number)
  curl -s -X POST %s/api/v1/auth/cardholder/login -H 'Content-Type: application/json' \
    -d '{"school":"%s","number":"%s","pin":"%s"}'
  curl -s %s/api/v1/me -H "Authorization: Bearer TOKEN"

`, info.SchoolCode, info.SchoolName, info.Cardholders, info.Merchants, info.Campuses,
		info.Operator, base, info.Operator, base,
		info.SchoolCode, info.SampleNumber, info.SampleName, info.SamplePIN,
		base, info.SchoolCode, info.SampleNumber, info.SamplePIN, base)
}
