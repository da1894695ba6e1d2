package onecard

import (
	"errors"
	"fmt"
)

// Error codes are stable strings that clients may switch on. Only the HTTP
// package maps them to status codes.
const (
	EINVALID      = "invalid"            // bad input; nothing changed
	ENOTFOUND     = "not_found"          // no such school, card, account...
	ECONFLICT     = "conflict"           // the state does not allow it (already lost, duplicate...)
	EUNAUTHORIZED = "unauthorized"       // not logged in or bad credentials
	EFORBIDDEN    = "forbidden"          // logged in but not allowed
	EWRONGPIN     = "wrong_pin"          // PIN did not match; attempts remain
	ELOCKED       = "pin_locked"         // too many wrong PINs; locked for a while
	EINSUFFICIENT = "insufficient_funds" // balance below what the operation needs
	ELIMIT        = "limit_exceeded"     // a single, daily or per-meal limit
	ECARDBLOCKED  = "card_blocked"       // card lost, frozen or cancelled
	ERATELIMIT    = "rate_limited"       // too many requests
	EINTERNAL     = "internal"           // a bug or an outage; details are logged, not shown
)

// Error is a domain error: a stable code and a message for a human.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("onecard: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic message for internal errors so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
