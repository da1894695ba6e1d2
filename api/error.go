package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/onecard-campus/onecard"
)

// statusByCode is the one place where onecard error codes become HTTP
// statuses. Clients should switch on the code, not the status: two codes share
// 401 and three share 409.
var statusByCode = map[string]int{
	onecard.EINVALID:      http.StatusBadRequest,
	onecard.ENOTFOUND:     http.StatusNotFound,
	onecard.ECONFLICT:     http.StatusConflict,
	onecard.EUNAUTHORIZED: http.StatusUnauthorized,
	onecard.EFORBIDDEN:    http.StatusForbidden,
	onecard.EWRONGPIN:     http.StatusUnauthorized,
	onecard.ELOCKED:       http.StatusLocked,
	// The request is well formed and the caller allowed; the account's
	// current state (its balance) stands in the way and a top-up changes it,
	// which is what 409 means. 402 is "reserved for future use" (RFC 9110) and
	// 422 would say the request itself is wrong.
	onecard.EINSUFFICIENT: http.StatusConflict,
	onecard.ELIMIT:        http.StatusUnprocessableEntity,
	// The card's state refuses the action, not the caller's rights: 403 stays
	// reserved for "your role or school may not do this", so a console can
	// tell a permissions problem from a lost or frozen card.
	onecard.ECARDBLOCKED: http.StatusConflict,
	onecard.ERATELIMIT:   http.StatusTooManyRequests,
	onecard.EINTERNAL:    http.StatusInternalServerError,
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Code    string        `json:"code" enum:"invalid,not_found,conflict,unauthorized,forbidden,wrong_pin,pin_locked,insufficient_funds,limit_exceeded,card_blocked,rate_limited,internal" doc:"Stable error code; switch on this, not on the status."`
	Message string        `json:"message" doc:"What went wrong, for a person."`
	Status  int           `json:"status" doc:"The HTTP status, repeated."`
	Errors  []ErrorDetail `json:"errors,omitempty" doc:"For invalid input: each problem and where it is."`
}

// ErrorDetail is one problem with the input.
type ErrorDetail struct {
	Location string `json:"location" doc:"Where, e.g. body.transfers[2].amount or query.limit."`
	Message  string `json:"message" doc:"What is wrong there."`
}

// Error implements error.
func (e *ErrorResponse) Error() string { return e.Code + ": " + e.Message }

// GetStatus implements huma.StatusError.
func (e *ErrorResponse) GetStatus() int { return e.Status }

// errorFor turns a service error into a response. Internal errors are logged
// with their cause and shown only as "Internal error.": SQL text and the like
// must never reach a client.
func errorFor(ctx context.Context, op string, err error) *ErrorResponse {
	var e *ErrorResponse
	if errors.As(err, &e) {
		return e
	}
	code := onecard.ErrorCode(err)
	if code == onecard.EINTERNAL {
		loggerFrom(ctx).ErrorContext(ctx, "api: internal error", "op", op, "err", err)
		return internalError()
	}
	status, ok := statusByCode[code]
	if !ok { // a code this file does not know yet is still the service's verdict
		loggerFrom(ctx).WarnContext(ctx, "api: unmapped error code", "op", op, "code", code)
		status = http.StatusBadRequest
	}
	return &ErrorResponse{Code: code, Message: onecard.ErrorMessage(err), Status: status}
}

func internalError() *ErrorResponse {
	return &ErrorResponse{Code: onecard.EINTERNAL, Message: "Internal error.", Status: http.StatusInternalServerError}
}

// writeJSONError writes e outside huma's pipeline (middleware, unknown routes).
func writeJSONError(w http.ResponseWriter, e *ErrorResponse) {
	w.Header().Set("Content-Type", "application/json")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="onecard"`)
	}
	w.WriteHeader(e.Status)
	_ = jsonEncode(w, e)
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func init() {
	// huma builds its own errors (bad JSON, schema validation, body too
	// large) through these hooks; replacing them gives every error one shape.
	huma.NewError = humaError
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		if status >= 500 {
			loggerFrom(ctx.Context()).ErrorContext(ctx.Context(), "api: huma error", "status", status, "msg", msg, "errs", errors.Join(errs...))
		}
		return humaError(status, msg, errs...)
	}
}

// humaError maps an error huma raised to the API's shape. huma answers bad
// JSON with 400 and schema violations with 422; both are input the client
// must fix, so both become code invalid with status 400. Echoed values are
// dropped: they may be PINs or passwords.
func humaError(status int, msg string, errs ...error) huma.StatusError {
	if status == 0 { // huma asks for an example to build the schema
		return &ErrorResponse{}
	}
	if len(errs) == 1 {
		var e *ErrorResponse
		if errors.As(errs[0], &e) {
			return e
		}
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return invalidInput(msg, errs)
	case status == http.StatusRequestEntityTooLarge:
		return &ErrorResponse{Code: onecard.EINVALID, Status: status, Message: "The request body is too large."}
	case status == http.StatusUnsupportedMediaType:
		return &ErrorResponse{Code: onecard.EINVALID, Status: status, Message: "Send the request body as application/json."}
	case status >= 500:
		return internalError()
	}
	code := onecard.EINVALID
	switch status {
	case http.StatusUnauthorized:
		code = onecard.EUNAUTHORIZED
	case http.StatusForbidden:
		code = onecard.EFORBIDDEN
	case http.StatusNotFound:
		code = onecard.ENOTFOUND
	case http.StatusConflict:
		code = onecard.ECONFLICT
	case http.StatusTooManyRequests:
		code = onecard.ERATELIMIT
	}
	return &ErrorResponse{Code: code, Status: status, Message: capitalize(msg) + "."}
}

// invalidInput builds the 400 for huma's parse and validation errors, with a
// message that names the first problem so that a person reading only the
// message knows what to fix.
func invalidInput(msg string, errs []error) *ErrorResponse {
	e := &ErrorResponse{Code: onecard.EINVALID, Status: http.StatusBadRequest}
	for _, err := range errs {
		if err == nil {
			continue
		}
		d := ErrorDetail{Message: err.Error()}
		var hd huma.ErrorDetailer
		if errors.As(err, &hd) {
			dd := hd.ErrorDetail()
			d = ErrorDetail{Location: dd.Location, Message: dd.Message}
		}
		var field string
		switch {
		case d.Message == validation.MsgUnexpectedProperty:
			d.Message = "unknown field"
		case d.Location == "body" && isJSONSyntax(d.Message):
			d.Message = "not valid JSON (" + d.Message + ")"
		default:
			// "expected required property key to be present" at "body"
			// reads better as "required" at "body.key".
			if n, _ := fmt.Sscanf(d.Message, "expected required property %s to be present", &field); n == 1 {
				d.Location, d.Message = d.Location+"."+field, "required"
			}
		}
		e.Errors = append(e.Errors, d)
	}
	switch {
	case len(e.Errors) == 0 && msg == "request body is required":
		e.Message = "A JSON request body is required."
	case len(e.Errors) == 0:
		e.Message = capitalize(msg) + "."
	case len(e.Errors) == 1:
		e.Message = describe(e.Errors[0]) + "."
	default:
		e.Message = fmt.Sprintf("%s (and %d more; see errors).", describe(e.Errors[0]), len(e.Errors)-1)
	}
	return e
}

func isJSONSyntax(msg string) bool {
	return strings.HasPrefix(msg, "invalid character") || strings.HasPrefix(msg, "unexpected end of JSON")
}

func describe(d ErrorDetail) string {
	if d.Location == "body" && strings.HasPrefix(d.Message, "not valid JSON") {
		return "The request body is " + d.Message
	}
	if d.Location == "" {
		return capitalize(d.Message)
	}
	return d.Location + ": " + d.Message
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// WriteError writes err as the API's error body for handlers outside huma
// (the device API), so one code gets one status and one shape everywhere.
func WriteError(w http.ResponseWriter, r *http.Request, op string, err error) {
	writeJSONError(w, errorFor(r.Context(), op, err))
}
