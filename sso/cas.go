package sso

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

// CAS is a CAS 2.0/3.0 client (the Apereo CAS protocol that most 统一身份认证
// platforms speak). It is written here rather than taken from a library:
// there is no well-kept Go CAS client, and the part a relying party needs
// is small: a redirect to /login and one validation request whose XML
// answer names the user.
//
// The state goes into the service URL as a query parameter: CAS has no
// state of its own, and the service URL comes back unchanged with the
// ticket. Tickets are single-use at the server (the protocol requires it);
// Finish validates each ticket once and never retries, since a retry would
// find it spent.
type CAS struct {
	base string
	// ValidatePath is the validation endpoint under the CAS URL:
	// "serviceValidate" (CAS 2.0, which every server has) by default, or
	// "p3/serviceValidate" (CAS 3.0). Set it before use.
	ValidatePath string
	hc           *http.Client
}

// NewCAS returns a client of the CAS server at casURL (e.g.
// https://cas.example.edu.cn/cas). hc nil means DefaultClient.
func NewCAS(casURL string, hc *http.Client) (*CAS, error) {
	u, err := url.Parse(casURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("sso: CAS URL %q is not an absolute http(s) URL without query", casURL)
	}
	return &CAS{base: strings.TrimRight(casURL, "/"), ValidatePath: "serviceValidate", hc: client(hc)}, nil
}

// Kind implements Provider.
func (c *CAS) Kind() string { return onecard.SSOCAS }

// Begin implements Provider.
func (c *CAS) Begin(callback string) (string, Flow) {
	f := Flow{Kind: onecard.SSOCAS, IdP: c.base, Callback: callback, State: random(), Started: time.Now().UTC()}
	return c.base + "/login?" + url.Values{"service": {serviceURL(f)}}.Encode(), f
}

// serviceURL is the callback with the state in its query: what the browser
// is sent back to and what the ticket is validated for, so it must be the
// same string both times.
func serviceURL(f Flow) string {
	sep := "?"
	if strings.Contains(f.Callback, "?") {
		sep = "&"
	}
	return f.Callback + sep + url.Values{"state": {f.State}}.Encode()
}

// Finish implements Provider.
func (c *CAS) Finish(ctx context.Context, r *http.Request, f Flow) (string, error) {
	q := r.URL.Query()
	if err := f.check(onecard.SSOCAS, c.base, q.Get("state")); err != nil {
		return "", err
	}
	ticket := q.Get("ticket")
	if ticket == "" {
		// Back without logging in (a gateway login, or the person
		// navigated back): nothing to validate.
		return "", refuse(ErrDenied, "no ticket")
	}
	if len(ticket) > 256 {
		return "", refuse(ErrDenied, "ticket longer than 256 characters")
	}
	return c.validate(ctx, ticket, serviceURL(f))
}

// casResponse is the validation answer. The element names are matched
// without their namespace: some servers bind the prefix to another URI or
// none, and the local names are what the protocol fixes.
type casResponse struct {
	XMLName xml.Name `xml:"serviceResponse"`
	Success *struct {
		User string `xml:"user"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code    string `xml:"code,attr"`
		Message string `xml:",chardata"`
	} `xml:"authenticationFailure"`
}

func (c *CAS) validate(ctx context.Context, ticket, service string) (string, error) {
	u := c.base + "/" + strings.Trim(c.ValidatePath, "/") + "?" + url.Values{"ticket": {ticket}, "service": {service}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("sso: cas: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("sso: cas: validation request failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("sso: cas: validation answered %s", resp.Status)
	}
	return parseCASResponse(io.LimitReader(resp.Body, 1<<20))
}

// parseCASResponse reads a serviceValidate answer. INTERNAL_ERROR is the
// server's trouble, not a verdict on the person; every other failure code
// (INVALID_TICKET, INVALID_SERVICE, INVALID_REQUEST...) refuses the login.
func parseCASResponse(body io.Reader) (string, error) {
	var res casResponse
	if err := xml.NewDecoder(body).Decode(&res); err != nil {
		return "", fmt.Errorf("sso: cas: unreadable validation answer: %w", err)
	}
	switch {
	case res.Success != nil:
		user := strings.TrimSpace(res.Success.User)
		if user == "" {
			return "", fmt.Errorf("sso: cas: validation succeeded without a user")
		}
		return user, nil
	case res.Failure != nil:
		code, msg := strings.TrimSpace(res.Failure.Code), strings.TrimSpace(res.Failure.Message)
		if code == "INTERNAL_ERROR" {
			return "", fmt.Errorf("sso: cas: server error: %s", msg)
		}
		return "", refuse(ErrDenied, fmt.Sprintf("cas %s: %s", code, msg))
	}
	return "", fmt.Errorf("sso: cas: validation answer has neither success nor failure")
}
