package store_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

const ssoSecret = "s3cr3t-0f-the-idp-client"

func oidcConfig(schoolID int64) *onecard.SSOConfig {
	return &onecard.SSOConfig{SchoolID: schoolID, Kind: onecard.SSOOIDC, Issuer: "https://id.nankai.edu.cn/oidc",
		ClientID: "onecard", ClientSecret: ssoSecret}
}

func TestSSOConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    onecard.SSOConfig
		code string
	}{
		{"cas", onecard.SSOConfig{SchoolID: 1, Kind: "CAS ", CASURL: "https://cas.nankai.edu.cn/cas/"}, ""},
		{"cas on localhost over http", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "http://localhost:8080/idp/cas"}, ""},
		{"cas on a private network over http", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "http://192.168.1.5:8080/idp/cas"}, ""},
		{"cas over http on the internet", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "http://cas.nankai.edu.cn/cas"}, onecard.EINVALID},
		{"cas relative", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "/cas"}, onecard.EINVALID},
		{"cas with a query", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas?x=1"}, onecard.EINVALID},
		{"cas with credentials", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "https://u:p@cas.nankai.edu.cn/cas"}, onecard.EINVALID},
		{"cas ftp", onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "ftp://cas.nankai.edu.cn/cas"}, onecard.EINVALID},
		{"no school", onecard.SSOConfig{Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas"}, onecard.EINVALID},
		{"unknown kind", onecard.SSOConfig{SchoolID: 1, Kind: "saml", CASURL: "https://cas.nankai.edu.cn/cas"}, onecard.EINVALID},
		{"oidc", *oidcConfig(1), ""},
		{"oidc without client ID", onecard.SSOConfig{SchoolID: 1, Kind: "oidc", Issuer: "https://id.nankai.edu.cn", ClientSecret: "x"}, onecard.EINVALID},
		{"oidc without secret", onecard.SSOConfig{SchoolID: 1, Kind: "oidc", Issuer: "https://id.nankai.edu.cn", ClientID: "x"}, onecard.EINVALID},
		{"oidc without issuer", onecard.SSOConfig{SchoolID: 1, Kind: "oidc", ClientID: "x", ClientSecret: "x"}, onecard.EINVALID},
		{"oidc claim with a space", onecard.SSOConfig{SchoolID: 1, Kind: "oidc", Issuer: "https://id.nankai.edu.cn", ClientID: "x",
			ClientSecret: "x", UserClaim: "student number"}, onecard.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.c.Validate(), tc.code)
		})
	}
	c := onecard.SSOConfig{SchoolID: 1, Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas/", Issuer: "https://x", ClientSecret: "x"}
	if err := c.Validate(); err != nil || c.CASURL != "https://cas.nankai.edu.cn/cas" || c.Issuer != "" || c.ClientSecret != "" {
		t.Errorf("validated CAS config = %+v, %v; want the trailing slash and the OIDC fields gone", c, err)
	}
	o := oidcConfig(1)
	o.Issuer += "/"
	if err := o.Validate(); err != nil || o.UserClaim != onecard.DefaultUserClaim || o.Issuer != "https://id.nankai.edu.cn/oidc/" {
		t.Errorf("validated OIDC config = %+v, %v; want the default claim and the issuer as given", o, err)
	}
	if b, _ := json.Marshal(o); bytes.Contains(b, []byte(ssoSecret)) {
		t.Errorf("JSON of a config holds the client secret: %s", b)
	}
}

func TestSSOConfig(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		other := f.newSchool(t, "tju", onecard.Settings{})
		_, err := f.db.SSOConfig(ctx, f.school.ID)
		wantCode(t, err, onecard.ENOTFOUND)
		wantCode(t, f.db.SetSSOConfig(ctx, &onecard.SSOConfig{SchoolID: 999, Kind: "cas", CASURL: "https://cas.x.edu.cn/cas"}), onecard.ENOTFOUND)
		wantCode(t, f.db.SetSSOConfig(ctx, &onecard.SSOConfig{SchoolID: f.school.ID, Kind: "cas"}), onecard.EINVALID)

		if err := f.db.SetSSOConfig(asOperator(7), &onecard.SSOConfig{SchoolID: f.school.ID, Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas/"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.db.SSOConfig(ctx, f.school.ID)
		want := onecard.SSOConfig{SchoolID: f.school.ID, Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas"}
		if err != nil || *got != want {
			t.Fatalf("SSOConfig = %+v, %v; want %+v", got, err, want)
		}

		// OIDC replaces CAS; the secret comes back, but is stored sealed.
		if err := f.db.SetSSOConfig(asOperator(7), oidcConfig(f.school.ID)); err != nil {
			t.Fatal(err)
		}
		if err := f.db.SetSSOConfig(ctx, oidcConfig(other.ID)); err != nil {
			t.Fatal(err)
		}
		got, err = f.db.SSOConfig(ctx, f.school.ID)
		want = *oidcConfig(f.school.ID)
		want.UserClaim = onecard.DefaultUserClaim
		if err != nil || *got != want {
			t.Fatalf("SSOConfig = %+v, %v; want %+v", got, err, want)
		}
		sealed, err := f.db.SealedSSOSecret(ctx, f.school.ID)
		if err != nil || len(sealed) == 0 || bytes.Contains(sealed, []byte(ssoSecret)) {
			t.Errorf("stored client secret = %q, %v; want it sealed", sealed, err)
		}
		entries, err := f.db.AuditLog(ctx, f.school.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var sets int
		for _, e := range entries {
			if strings.Contains(e.Detail, ssoSecret) {
				t.Errorf("audit entry %s shows the client secret: %q", e.Action, e.Detail)
			}
			if e.Action == "school.set_sso" {
				sets++
				if e.ActorType != "operator" || e.ActorID != 7 {
					t.Errorf("audit entry %+v, want operator 7", e)
				}
			}
		}
		if sets != 2 {
			t.Errorf("%d school.set_sso entries, want 2", sets)
		}

		// A sealed secret is bound to its school: copied into another row
		// (someone editing the database), it does not open.
		if err := f.db.ExecRaw(ctx, `UPDATE school_sso SET client_secret = (SELECT client_secret FROM school_sso WHERE school_id = ?)
			WHERE school_id = ?`, f.school.ID, other.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.db.SSOConfig(ctx, other.ID)
		wantCode(t, err, onecard.EINTERNAL)

		if err := f.db.RemoveSSOConfig(ctx, f.school.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.db.SSOConfig(ctx, f.school.ID)
		wantCode(t, err, onecard.ENOTFOUND)
		wantCode(t, f.db.RemoveSSOConfig(ctx, f.school.ID), onecard.ENOTFOUND)
	})
}

func TestSSOCardholderSession(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		h, _, _ := f.cardholder(t)
		graduate, _, _ := f.cardholder(t)
		closed, _, _ := f.cardholder(t)
		other := f.newSchool(t, "tju", onecard.Settings{})
		elsewhere, _, _ := f.cardholderAt(t, other.ID)
		if _, err := f.db.SetCardholderStatus(ctx, graduate.ID, onecard.CardholderGraduated); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SetCardholderStatus(ctx, closed.ID, onecard.CardholderClosed); err != nil {
			t.Fatal(err)
		}

		_, err := f.db.CardholderSession(ctx, f.school.ID, h.Number, onecard.SSOCAS)
		wantCode(t, err, onecard.EUNAUTHORIZED, "does not log in through")
		if err := f.db.SetSSOConfig(ctx, &onecard.SSOConfig{SchoolID: f.school.ID, Kind: "cas", CASURL: "https://cas.nankai.edu.cn/cas"}); err != nil {
			t.Fatal(err)
		}
		const noCard = "has no active campus card here"
		for _, tc := range []struct {
			name, number, via, code, msg string
		}{
			{"other protocol", h.Number, onecard.SSOOIDC, onecard.EUNAUTHORIZED, "does not log in through"},
			{"unknown number", "424242", onecard.SSOCAS, onecard.EUNAUTHORIZED, noCard},
			{"malformed number", "not a number!", onecard.SSOCAS, onecard.EUNAUTHORIZED, noCard},
			{"empty number", "", onecard.SSOCAS, onecard.EUNAUTHORIZED, noCard},
			{"closed account, same message", closed.Number, onecard.SSOCAS, onecard.EUNAUTHORIZED, noCard},
			{"cardholder of another school", elsewhere.Number, onecard.SSOCAS, onecard.EUNAUTHORIZED, noCard},
			{"graduate", graduate.Number, onecard.SSOCAS, "", ""},
			{"active, number as typed", " " + strings.ToLower(h.Number) + " ", onecard.SSOCAS, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.db.CardholderSession(ctx, f.school.ID, tc.number, tc.via)
				wantCode(t, err, tc.code, tc.msg)
			})
		}

		s, err := f.db.CardholderSession(ctx, f.school.ID, h.Number, onecard.SSOCAS)
		if err != nil {
			t.Fatal(err)
		}
		if s.Cardholder == nil || s.Cardholder.ID != h.ID || s.Operator != nil || !s.ExpiresAt.Equal(start.Add(store.CardholderSessionTTL)) {
			t.Errorf("session = %+v", s)
		}
		p, err := f.db.Authenticate(ctx, s.Token)
		if err != nil || p.Cardholder == nil || p.Cardholder.ID != h.ID {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		entries, err := f.db.AuditLog(ctx, f.school.ID, 1)
		if err != nil || len(entries) != 1 {
			t.Fatal(entries, err)
		}
		if e := entries[0]; e.Action != "cardholder.login" || e.ActorType != "cardholder" || e.ActorID != h.ID ||
			e.TargetID != h.ID || !strings.HasSuffix(e.Detail, " via cas") {
			t.Errorf("audit entry = %+v, want a cardholder login via cas", e)
		}

		// The session is an ordinary one: a loss report's revocation ends it.
		if err := f.db.RevokeCardholderSessions(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.db.Authenticate(ctx, s.Token)
		wantCode(t, err, onecard.EUNAUTHORIZED)
		f.clock.Advance(store.CardholderSessionTTL)
		s, err = f.db.CardholderSession(ctx, f.school.ID, h.Number, onecard.SSOCAS)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(store.CardholderSessionTTL)
		_, err = f.db.Authenticate(ctx, s.Token)
		wantCode(t, err, onecard.EUNAUTHORIZED, "log in again")
	})
}
