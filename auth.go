package onecard

import (
	"context"
	"time"
)

// Principal is who is calling: an operator or a cardholder, never both.
type Principal struct {
	SessionID  int64
	Operator   *Operator
	Cardholder *Cardholder
}

// Session is a bearer token handed out at login. Only a hash of the token is
// stored; the token itself is shown once.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Operator  *Operator `json:"operator,omitempty"`
	// Cardholder is set for cardholder sessions.
	Cardholder *Cardholder `json:"cardholder,omitempty"`
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries the caller.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the caller, or nil for an anonymous or system call.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// OperatorFromContext returns the calling operator or nil.
func OperatorFromContext(ctx context.Context) *Operator {
	if p := PrincipalFromContext(ctx); p != nil {
		return p.Operator
	}
	return nil
}

// CardholderFromContext returns the calling cardholder or nil.
func CardholderFromContext(ctx context.Context) *Cardholder {
	if p := PrincipalFromContext(ctx); p != nil {
		return p.Cardholder
	}
	return nil
}
