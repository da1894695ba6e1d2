package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/onecard-campus/onecard"
)

// access says who may call an operation. Every route names one; there is no
// default, so a new endpoint cannot be open by accident.
type access struct {
	public         bool           // no token needed: the logins
	roles          []onecard.Role // operator roles allowed
	cardholder     bool           // cardholder sessions allowed (the /me endpoints and logout)
	passwordChange bool           // open to operators who must change their password first
	platform       bool           // only operators whose scope is every school
}

var (
	allRoles = []onecard.Role{onecard.RoleAdmin, onecard.RoleOperator, onecard.RoleFinance, onecard.RoleAuditor}

	public = access{public: true}
	// anySession may log out, whatever else it may not do.
	anySession = access{roles: allRoles, cardholder: true, passwordChange: true}
	// passwordOwner is any operator, including one who must change the password.
	passwordOwner = access{roles: allRoles, passwordChange: true}
	// readers are every operator role: auditors read everything operators do.
	readers = access{roles: allRoles}
	admins  = access{roles: []onecard.Role{onecard.RoleAdmin}}
	// auditors read the audit log: admins and the auditor role, whose job it is.
	auditors = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleAuditor}}
	// platformAdmins create schools, which a school-scoped admin could not then see.
	platformAdmins = access{roles: []onecard.Role{onecard.RoleAdmin}, platform: true}
	// hall is the service hall counter: cardholders, cards, PIN resets.
	hall = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleOperator}}
	// cashiers take cash deposits: the counter and finance.
	cashiers = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleOperator, onecard.RoleFinance}}
	// Ledger accounts carry no school, so raw ledger access is for operators
	// who see every school: a school-scoped finance operator could otherwise
	// move another school's money.
	ledgerWriters = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleFinance}, platform: true}
	ledgerReaders = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleFinance, onecard.RoleAuditor}, platform: true}
	// refunders take money back off a card or a merchant: a correction, so
	// finance's, as the ledger's are; the counter staff do not.
	refunders = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleFinance}}
	// The channels' merchant accounts and their statements serve the whole
	// deployment, so reconciliation, like the raw ledger, is for operators
	// who see every school.
	reconcilers       = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleFinance}, platform: true}
	reconcilerReaders = access{roles: []onecard.Role{onecard.RoleAdmin, onecard.RoleFinance, onecard.RoleAuditor}, platform: true}
	// cardholderSelf is a cardholder acting on themselves.
	cardholderSelf = access{cardholder: true}
)

// check returns why p may not call an operation with this access, or nil.
func (a access) check(p *onecard.Principal) error {
	switch {
	case p.Operator != nil:
		o := p.Operator
		if o.Disabled {
			return onecard.Errorf(onecard.EFORBIDDEN, "This operator account is disabled.")
		}
		if o.MustChangePassword && !a.passwordChange {
			return onecard.Errorf(onecard.EFORBIDDEN, "You must change your password first: POST /api/v1/operators/me/password.")
		}
		if !slices.Contains(a.roles, o.Role) {
			if a.cardholder && len(a.roles) == 0 {
				return onecard.Errorf(onecard.EFORBIDDEN, "This endpoint is for cardholders' own sessions.")
			}
			return onecard.Errorf(onecard.EFORBIDDEN, "The %s role may not do this.", o.Role)
		}
		if a.platform && o.SchoolID != 0 {
			return onecard.Errorf(onecard.EFORBIDDEN, "Only operators of the whole platform may do this; your account is limited to one school.")
		}
		return nil
	case p.Cardholder != nil:
		if !a.cardholder {
			return onecard.Errorf(onecard.EFORBIDDEN, "A cardholder session may use only the /api/v1/me endpoints.")
		}
		return nil
	}
	return onecard.Errorf(onecard.EUNAUTHORIZED, "Log in first.")
}

type tokenKey struct{}

// authorize is the per-operation middleware: it resolves the bearer token,
// puts the principal in the context (the store audits who acted from it) and
// refuses callers the access does not admit, before the body is even read.
func (s *Server) authorize(op string, a access) func(huma.Context, func(huma.Context)) {
	return func(hctx huma.Context, next func(huma.Context)) {
		if a.public {
			next(hctx)
			return
		}
		ctx := hctx.Context()
		token, ok := bearerToken(hctx.Header("Authorization"))
		if !ok {
			writeHumaError(hctx, errorFor(ctx, op, onecard.Errorf(onecard.EUNAUTHORIZED, "Log in and send the token as Authorization: Bearer <token>.")))
			return
		}
		p, err := s.cfg.Auth.Authenticate(ctx, token)
		if err == nil && p == nil {
			err = onecard.Errorf(onecard.EUNAUTHORIZED, "Unknown session.")
		}
		if err == nil {
			err = a.check(p)
		}
		if err != nil {
			writeHumaError(hctx, errorFor(ctx, op, err))
			return
		}
		ctx = onecard.NewContextWithPrincipal(ctx, p)
		ctx = context.WithValue(ctx, tokenKey{}, token)
		next(huma.WithContext(hctx, ctx))
	}
}

// bearerToken reads "Bearer <token>"; the scheme is case-insensitive (RFC 9110).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// tokenFrom returns the caller's bearer token, for logout.
func tokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}

// writeHumaError writes e from a middleware, before huma's handler runs.
func writeHumaError(hctx huma.Context, e *ErrorResponse) {
	hctx.SetHeader("Content-Type", "application/json")
	if e.Status == http.StatusUnauthorized {
		hctx.SetHeader("WWW-Authenticate", `Bearer realm="onecard"`)
	}
	hctx.SetStatus(e.Status)
	_ = jsonEncode(hctx.BodyWriter(), e)
}
