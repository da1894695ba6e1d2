package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
)

func TestHealthzOpenAPIAndUnknownRoutes(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/healthz", "", nil)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"status":"ok"}` {
			t.Fatalf("healthz: %d %s", r.status, r.body)
		}

		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		e.ok(200, "GET", "/openapi.json", "", nil, &doc)
		if doc.OpenAPI != "3.1.0" {
			t.Errorf("openapi version %q", doc.OpenAPI)
		}
		for _, p := range []string{"/api/v1/transfers", "/api/v1/me/payments", "/api/v1/cards/{id}/report-lost", "/api/v1/schools/{id}/cardholders"} {
			if doc.Paths[p] == nil {
				t.Errorf("openapi.json lacks %s", p)
			}
		}
		if !strings.Contains(string(e.do("GET", "/openapi.json", "", nil).body), `"maxItems":8190`) {
			t.Error("the transfer batch limit is not in the OpenAPI document")
		}

		e.do("GET", "/api/v1/nothing-here", e.admin, nil).wantError(t, 404, onecard.ENOTFOUND)
		r = e.do("DELETE", "/api/v1/schools", e.admin, nil)
		r.wantError(t, 405, onecard.EINVALID)
		if r.header.Get("Allow") == "" {
			t.Error("405 without Allow header")
		}
	})
}

func TestAuthentication(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		for _, tc := range []struct{ name, header string }{
			{"no header", ""},
			{"not bearer", "Basic YWRtaW46YWRtaW4="},
			{"empty token", "Bearer "},
			{"unknown token", "Bearer 0123456789abcdef"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest("GET", fmt.Sprintf("/api/v1/schools/%d", s.ID), nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, req)
				r := &response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
				r.wantError(t, 401, onecard.EUNAUTHORIZED)
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		e.do("POST", "/api/v1/auth/operator/login", "", map[string]string{"username": "admin", "password": "wrong-password"}).
			wantError(t, 401, onecard.EUNAUTHORIZED)

		token := e.operator(onecard.RoleOperator, 0)
		e.ok(204, "POST", "/api/v1/auth/logout", token, nil, nil)
		e.do("GET", "/api/v1/schools", token, nil).wantError(t, 401, onecard.EUNAUTHORIZED)
	})
}

func TestMustChangePasswordBlocksEverythingElse(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		username, password := e.name("new"), "initial-password-1"
		e.ok(201, "POST", "/api/v1/operators", e.admin, map[string]any{
			"username": username, "name": "New", "role": "operator", "password": password}, nil)
		var s onecard.Session
		e.ok(200, "POST", "/api/v1/auth/operator/login", "", map[string]string{"username": username, "password": password}, &s)
		if !s.Operator.MustChangePassword {
			t.Skip("this backend does not make new operators change their password")
		}
		er := e.do("GET", "/api/v1/schools", s.Token, nil).wantError(t, 403, onecard.EFORBIDDEN)
		if !strings.Contains(er.Message, "/api/v1/operators/me/password") {
			t.Errorf("message does not say how to change the password: %q", er.Message)
		}
		e.do("POST", "/api/v1/operators/me/password", s.Token, map[string]string{"old": "not-it-at-all", "new": "a-new-password"}).
			wantError(t, 401, onecard.EUNAUTHORIZED)
		e.do("POST", "/api/v1/operators/me/password", s.Token, map[string]string{"old": password, "new": "short"}).
			wantError(t, 400, onecard.EINVALID)
		e.ok(204, "POST", "/api/v1/operators/me/password", s.Token, map[string]string{"old": password, "new": "a-new-password"}, nil)
		e.ok(200, "GET", "/api/v1/schools", s.Token, nil, nil)
	})
}

func TestRoles(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		tokens := map[onecard.Role]string{}
		for _, r := range []onecard.Role{onecard.RoleOperator, onecard.RoleFinance, onecard.RoleAuditor} {
			tokens[r] = e.operator(r, 0)
		}
		tokens[onecard.RoleAdmin] = e.admin
		newCardholder := func() any {
			e.seq++
			return map[string]any{"number": fmt.Sprintf("R%05d", e.seq), "name": "李四", "kind": "staff", "id_number": fmt.Sprintf("1101052000010%05d", e.seq)}
		}
		deposit := func() any { return map[string]any{"key": e.name("k"), "amount": 100} }
		transfer := func() any {
			return map[string]any{"transfers": []map[string]any{{"key": e.name("t"), "debit": p.Trans, "credit": p.Purse, "amount": 1, "code": "test"}}}
		}
		for _, tc := range []struct {
			name   string
			method string
			path   string
			body   func() any
			allow  []onecard.Role
			status int // on success
		}{
			{"list schools", "GET", "/api/v1/schools", nil, []onecard.Role{"admin", "operator", "finance", "auditor"}, 200},
			{"create school", "POST", "/api/v1/schools", func() any { c := e.name("s"); return map[string]any{"code": c, "name": c} }, []onecard.Role{"admin"}, 201},
			{"list operators", "GET", "/api/v1/operators", nil, []onecard.Role{"admin"}, 200},
			{"audit log", "GET", "/api/v1/audit", nil, []onecard.Role{"admin", "auditor"}, 200},
			{"register cardholder", "POST", fmt.Sprintf("/api/v1/schools/%d/cardholders", s.ID), newCardholder, []onecard.Role{"admin", "operator"}, 201},
			{"read cardholder", "GET", fmt.Sprintf("/api/v1/cardholders/%d", p.ID), nil, []onecard.Role{"admin", "operator", "finance", "auditor"}, 200},
			{"deposit", "POST", fmt.Sprintf("/api/v1/cardholders/%d/deposits", p.ID), deposit, []onecard.Role{"admin", "operator", "finance"}, 200},
			{"reset PIN", "POST", fmt.Sprintf("/api/v1/cardholders/%d/pins/consumption/reset", p.ID), nil, []onecard.Role{"admin", "operator"}, 204},
			{"merchants", "GET", fmt.Sprintf("/api/v1/schools/%d/merchants", s.ID), nil, []onecard.Role{"admin", "operator", "finance", "auditor"}, 200},
			{"terminals", "GET", fmt.Sprintf("/api/v1/schools/%d/terminals", s.ID), nil, []onecard.Role{"admin", "operator", "finance", "auditor"}, 200},
			{"register terminal", "POST", fmt.Sprintf("/api/v1/schools/%d/terminals", s.ID), func() any {
				return map[string]any{"code": e.name("pos"), "name": "POS", "kind": "pos"}
			}, []onecard.Role{"admin"}, 201},
			{"transfers", "POST", "/api/v1/transfers", transfer, []onecard.Role{"admin", "finance"}, 200},
			{"ledger account", "GET", fmt.Sprintf("/api/v1/accounts/%d", p.Trans), nil, []onecard.Role{"admin", "finance", "auditor"}, 200},
			{"me", "GET", "/api/v1/me", nil, nil, 200},
		} {
			for _, role := range []onecard.Role{"admin", "operator", "finance", "auditor"} {
				t.Run(tc.name+"/"+string(role), func(t *testing.T) {
					var body any
					if tc.body != nil {
						body = tc.body()
					}
					r := e.do(tc.method, tc.path, tokens[role], body)
					if slices.Contains(tc.allow, role) {
						if r.status != tc.status {
							t.Fatalf("%s may %s: got %d %s", role, tc.name, r.status, r.body)
						}
						return
					}
					r.wantError(t, 403, onecard.EFORBIDDEN)
				})
			}
		}
	})
}

func TestAuditAndOperators(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		s := e.school()
		p := e.cardholder(s)
		e.ok(200, "POST", fmt.Sprintf("/api/v1/cards/%d/report-lost", p.CardID), e.admin, nil, nil)
		var audit struct{ Items []onecard.AuditEntry }
		e.ok(200, "GET", fmt.Sprintf("/api/v1/audit?school_id=%d&limit=5", s.ID), e.admin, nil, &audit)
		if len(audit.Items) == 0 || audit.Items[0].ActorType != "operator" {
			t.Errorf("audit: %+v", audit.Items)
		}
		e.do("POST", "/api/v1/operators", e.admin, map[string]any{"username": "x", "name": "X", "role": "janitor", "password": "initial-password-1"}).
			wantError(t, 400, onecard.EINVALID)
		var ops struct{ Items []onecard.Operator }
		e.ok(200, "GET", "/api/v1/operators", e.admin, nil, &ops)
		if len(ops.Items) == 0 || strings.Contains(string(mustJSON(ops)), "password\":\"") {
			t.Errorf("operators: %+v", ops)
		}
	})
}
