package sso

import (
	"errors"
	"strings"
	"testing"
)

// TestParseCASResponse covers answers the development IdP does not give:
// other namespace prefixes, none, attributes in the way, server trouble.
func TestParseCASResponse(t *testing.T) {
	for _, tc := range []struct {
		name, body, user string
		denied, fails    bool
	}{
		{"cas prefix", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
			<cas:user> 2025000001 </cas:user><cas:attributes><cas:name>张三</cas:name></cas:attributes>
			</cas:authenticationSuccess></cas:serviceResponse>`, "2025000001", false, false},
		{"other prefix", `<?xml version="1.0" encoding="UTF-8"?><sso:serviceResponse xmlns:sso="http://www.yale.edu/tp/cas">
			<sso:authenticationSuccess><sso:user>T1234</sso:user></sso:authenticationSuccess></sso:serviceResponse>`, "T1234", false, false},
		{"no namespace", `<serviceResponse><authenticationSuccess><user>2025000002</user></authenticationSuccess></serviceResponse>`,
			"2025000002", false, false},
		{"invalid ticket", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">
			Ticket ST-1 not recognized</cas:authenticationFailure></cas:serviceResponse>`, "", true, false},
		{"invalid service", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_SERVICE">
			</cas:authenticationFailure></cas:serviceResponse>`, "", true, false},
		{"server trouble", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INTERNAL_ERROR">
			database down</cas:authenticationFailure></cas:serviceResponse>`, "", false, true},
		{"success without user", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
			<cas:user> </cas:user></cas:authenticationSuccess></cas:serviceResponse>`, "", false, true},
		{"neither", `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"></cas:serviceResponse>`, "", false, true},
		{"another document", `<html><body>CAS is down</body></html>`, "", false, true},
		{"not XML", `yes
2025000001
`, "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, err := parseCASResponse(strings.NewReader(tc.body))
			switch {
			case tc.denied && !errors.Is(err, ErrDenied):
				t.Errorf("parse = %q, %v; want ErrDenied", user, err)
			case tc.fails && (err == nil || errors.Is(err, ErrDenied)):
				t.Errorf("parse = %q, %v; want an error that is not a refusal", user, err)
			case !tc.denied && !tc.fails && (err != nil || user != tc.user):
				t.Errorf("parse = %q, %v; want %q", user, err, tc.user)
			}
		})
	}
}
