package onecard

import (
	"context"
	"net"
	"net/url"
	"strings"
)

// Unified identity authentication (统一身份认证). Chinese universities run
// one login for all campus systems, and the seeds have cardholders bind their
// card "with the unified identity account and password". A school may point
// OneCard at it, by CAS (most 统一身份认证 platforms) or OpenID Connect (newer
// ones); the card number and query PIN remain the fallback.

// SSO kinds.
const (
	SSOCAS  = "cas"
	SSOOIDC = "oidc"
)

// DefaultUserClaim is the OIDC claim read for the card number when a school
// names none: the claim most platforms fill with the student or staff number
// (the subject is often an opaque ID that matches no card).
const DefaultUserClaim = "preferred_username"

// SSOConfig is how a school's cardholders log in through its identity
// provider.
type SSOConfig struct {
	SchoolID int64  `json:"school_id"`
	Kind     string `json:"kind"` // SSOCAS or SSOOIDC
	// CASURL is the CAS server's base, e.g. https://cas.example.edu.cn/cas:
	// /login and /serviceValidate are under it.
	CASURL string `json:"cas_url,omitempty"`
	// OIDC: the issuer (discovery is at Issuer/.well-known/openid-configuration)
	// and OneCard's client registration there.
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// ClientSecret is never encoded to JSON, so that handing a config to a
	// page or a log cannot leak it; a form that sets it reads it itself.
	ClientSecret string `json:"-"`
	// UserClaim is the ID token (or userinfo) claim holding the card number;
	// DefaultUserClaim when empty. CAS always answers with cas:user.
	UserClaim string `json:"user_claim,omitempty"`
}

// Validate trims and checks c in place, returning EINVALID with a message
// naming the field. The fields of the other kind are cleared, so that a
// school switched from one protocol to the other keeps no stale secret.
func (c *SSOConfig) Validate() error {
	c.Kind = strings.ToLower(strings.TrimSpace(c.Kind))
	c.CASURL = strings.TrimSpace(c.CASURL)
	c.Issuer = strings.TrimSpace(c.Issuer)
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.UserClaim = strings.TrimSpace(c.UserClaim)
	if c.SchoolID <= 0 {
		return Errorf(EINVALID, "A unified identity login belongs to a school.")
	}
	switch c.Kind {
	case SSOCAS:
		// The base is joined with /login and /serviceValidate, so a trailing
		// slash would double.
		c.CASURL = strings.TrimRight(c.CASURL, "/")
		if err := checkIdPURL("CAS URL", c.CASURL); err != nil {
			return err
		}
		c.Issuer, c.ClientID, c.ClientSecret, c.UserClaim = "", "", "", ""
	case SSOOIDC:
		// The issuer is compared byte for byte with the discovery document
		// and the tokens' iss, so a trailing slash is kept as given.
		if err := checkIdPURL("issuer", c.Issuer); err != nil {
			return err
		}
		if c.ClientID == "" || len(c.ClientID) > 255 {
			return Errorf(EINVALID, "An OpenID Connect login needs the client ID (at most 255 characters) registered at the identity provider.")
		}
		// OneCard's web app is a confidential client: the code it receives
		// passes through the browser, and only the secret (with PKCE) keeps
		// someone who copies it from exchanging it.
		if c.ClientSecret == "" || len(c.ClientSecret) > 1024 {
			return Errorf(EINVALID, "An OpenID Connect login needs the client secret (at most 1024 characters) issued by the identity provider.")
		}
		if c.UserClaim == "" {
			c.UserClaim = DefaultUserClaim
		}
		if len(c.UserClaim) > 64 || strings.ContainsFunc(c.UserClaim, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return Errorf(EINVALID, "The user claim is a claim name such as %q.", DefaultUserClaim)
		}
		c.CASURL = ""
	default:
		return Errorf(EINVALID, "A unified identity login is %q or %q, not %q.", SSOCAS, SSOOIDC, c.Kind)
	}
	return nil
}

// checkIdPURL requires an absolute https URL without query or fragment.
// Plain http is let through only for hosts that cannot be reached from the
// internet (this machine, a private network), where the development identity
// provider of a demo runs: over http on the internet a ticket or code could
// be read and a validation answer forged on the way.
func checkIdPURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(s) > 512 {
		return Errorf(EINVALID, "The %s must be an absolute URL without query, like https://cas.example.edu.cn/cas.", field)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if localHost(u.Hostname()) {
			return nil
		}
		return Errorf(EINVALID, "The %s must use https (http only for a development server on this machine or a private network).", field)
	}
	return Errorf(EINVALID, "The %s must be an https URL.", field)
}

// localHost reports whether host names this machine or a private network.
func localHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

// SSOService keeps schools' identity provider settings and turns a login the
// provider vouched for into a OneCard session. The protocols themselves are
// spoken by package sso.
type SSOService interface {
	// SSOConfig returns a school's configuration, client secret included.
	// ENOTFOUND when the school has none.
	SSOConfig(ctx context.Context, schoolID int64) (*SSOConfig, error)
	// SetSSOConfig validates and stores a school's configuration, replacing
	// any earlier one. EINVALID, ENOTFOUND (school).
	SetSSOConfig(ctx context.Context, c *SSOConfig) error
	// RemoveSSOConfig turns a school's unified identity login off; cardholders
	// then log in with the card number and query PIN only. ENOTFOUND when
	// there was none.
	RemoveSSOConfig(ctx context.Context, schoolID int64) error
	// CardholderSession opens a session for the cardholder of the school
	// with that card number, once the school's identity provider has vouched
	// for them: no PIN is asked. via is the protocol that vouched (SSOCAS or
	// SSOOIDC) and must be the school's configured kind; the login is audited
	// with it. A graduate, who keeps a balance until it is refunded, logs in
	// as with the PIN. EUNAUTHORIZED, with one message whether the number is
	// unknown or its account closed; EUNAUTHORIZED too when the school has no
	// such login configured.
	CardholderSession(ctx context.Context, schoolID int64, number, via string) (*Session, error)
}
