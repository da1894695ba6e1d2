package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// servingRE matches the line serve prints once it listens.
var servingRE = regexp.MustCompile(`Serving on (http://\S+) `)

// waitForOutput polls out until re matches and returns the submatches. It
// fails the test at the deadline or when exited closes first.
func waitForOutput(t *testing.T, out *syncBuffer, re *regexp.Regexp, timeout time.Duration, exited <-chan struct{}) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case <-exited:
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m
			}
			t.Fatalf("the server exited before printing %q", re)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s", re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiClient calls the JSON API of a running server.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{Timeout: 30 * time.Second}}
}

// call sends body as JSON (none when nil), decodes a 2xx response into out
// (when non-nil) and returns the status. Any other status is an error
// carrying the response body.
func (c *apiClient) call(method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w in %s", method, path, err, data)
		}
	}
	return resp.StatusCode, nil
}

// must is call that fails the test on any error.
func (c *apiClient) must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if _, err := c.call(method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

// loginOperator logs in and keeps the token for later calls.
func (c *apiClient) loginOperator(t *testing.T, username, password string) {
	t.Helper()
	var s struct{ Token string }
	c.must(t, "POST", "/api/v1/auth/operator/login", map[string]string{"username": username, "password": password}, &s)
	c.token = s.Token
}
