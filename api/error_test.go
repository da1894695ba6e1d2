package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/api"
)

// failingSchools answers every listing with err.
type failingSchools struct {
	onecard.SchoolService
	err error
}

func (f failingSchools) Schools(context.Context) ([]*onecard.School, error) { return nil, f.err }

// oneOperator lets every token in as a platform admin.
type oneOperator struct{ onecard.AuthService }

func (oneOperator) Authenticate(context.Context, string) (*onecard.Principal, error) {
	return &onecard.Principal{Operator: &onecard.Operator{ID: 1, Role: onecard.RoleAdmin}}, nil
}

func TestErrorCodesMapToStatuses(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		code    string
		message string
	}{
		{onecard.Errorf(onecard.EINVALID, "Bad."), 400, "invalid", "Bad."},
		{onecard.Errorf(onecard.ENOTFOUND, "No."), 404, "not_found", "No."},
		{onecard.Errorf(onecard.ECONFLICT, "Taken."), 409, "conflict", "Taken."},
		{onecard.Errorf(onecard.EUNAUTHORIZED, "Who?"), 401, "unauthorized", "Who?"},
		{onecard.Errorf(onecard.EFORBIDDEN, "Not you."), 403, "forbidden", "Not you."},
		{onecard.Errorf(onecard.EWRONGPIN, "Wrong PIN; 4 attempts left."), 401, "wrong_pin", "Wrong PIN; 4 attempts left."},
		{onecard.Errorf(onecard.ELOCKED, "Locked."), 423, "pin_locked", "Locked."},
		{onecard.Errorf(onecard.EINSUFFICIENT, "Too low."), 409, "insufficient_funds", "Too low."},
		{onecard.Errorf(onecard.ELIMIT, "Over the limit."), 422, "limit_exceeded", "Over the limit."},
		{onecard.Errorf(onecard.ECARDBLOCKED, "Lost."), 409, "card_blocked", "Lost."},
		{onecard.Errorf(onecard.ERATELIMIT, "Slow down."), 429, "rate_limited", "Slow down."},
		{fmt.Errorf("store: unable to list schools: %w", onecard.Errorf(onecard.ENOTFOUND, "Wrapped.")), 404, "not_found", "Wrapped."},
		{errors.New(`pq: relation "schools" does not exist: SELECT id, secret FROM schools`), 500, "internal", "Internal error."},
	} {
		t.Run(tc.code, func(t *testing.T) {
			var logs syncBuffer
			h := api.New(api.Config{Schools: failingSchools{err: tc.err}, Auth: oneOperator{},
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			req := httptest.NewRequest("GET", "/api/v1/schools", nil)
			req.Header.Set("Authorization", "Bearer t")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			r := &response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
			er := r.wantError(t, tc.status, tc.code)
			if er.Message != tc.message || er.Status != tc.status {
				t.Errorf("got %+v", er)
			}
			if tc.code == "internal" {
				if strings.Contains(string(r.body), "SELECT") || strings.Contains(string(r.body), "pq:") {
					t.Errorf("internal error leaks: %s", r.body)
				}
				if !strings.Contains(logs.String(), "does not exist") {
					t.Errorf("internal error not logged: %q", logs.String())
				}
			}
		})
	}
}
