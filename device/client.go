package device

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
)

// Client calls the device API as one terminal, signing every request. The
// simulator and the tests use it as real terminals' firmware would.
type Client struct {
	BaseURL  string // e.g. http://127.0.0.1:8080
	School   string // school code
	Terminal string // terminal code
	Key      []byte
	HTTP     *http.Client
	Now      func() time.Time // the terminal's clock; time.Now if nil
}

// Do sends a signed request with in as its JSON body (nil for none) and
// decodes the answer into out. An error answer comes back as *onecard.Error
// with the server's code and message.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := Sign(req, c.School, c.Terminal, c.Key, now()); err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("device: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("device: %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e onecard.Error
		if json.Unmarshal(data, &e) != nil || e.Code == "" {
			return fmt.Errorf("device: %s %s: status %d", method, path, resp.StatusCode)
		}
		return &e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Whoami returns the terminal's record and the server's clock.
func (c *Client) Whoami(ctx context.Context) (*Whoami, error) {
	var w Whoami
	return &w, c.Do(ctx, http.MethodGet, "/device/v1/terminal", nil, &w)
}

// Blacklist pulls the blacklist changes after version since.
func (c *Client) Blacklist(ctx context.Context, since int64) (*BlacklistDelta, error) {
	var d BlacklistDelta
	return &d, c.Do(ctx, http.MethodGet, "/device/v1/blacklist?since="+strconv.FormatInt(since, 10), nil, &d)
}

// SAM returns the key a POS or bath controller's SAM holds.
func (c *Client) SAM(ctx context.Context) (*SAMKey, error) {
	var k SAMKey
	return &k, c.Do(ctx, http.MethodGet, "/device/v1/sam", nil, &k)
}

// Tap asks whether the card may be charged.
func (c *Client) Tap(ctx context.Context, req *TapRequest) (*TapDecision, error) {
	var d TapDecision
	return &d, c.Do(ctx, http.MethodPost, "/device/v1/taps", req, &d)
}

// AuthorizeLoad asks for the MAC2 of a load the card opened.
func (c *Client) AuthorizeLoad(ctx context.Context, req *LoadRequest) (*LoadAuthorization, error) {
	var a LoadAuthorization
	return &a, c.Do(ctx, http.MethodPost, "/device/v1/loads", req, &a)
}

// ConfirmLoad reports the card's TAC of a completed load.
func (c *Client) ConfirmLoad(ctx context.Context, req *ConfirmLoadRequest) error {
	return c.Do(ctx, http.MethodPost, "/device/v1/loads/confirm", req, nil)
}

// UploadRecords uploads purchase records and returns one result each.
func (c *Client) UploadRecords(ctx context.Context, records []purse.Record) ([]RecordResult, error) {
	var r RecordsResponse
	if err := c.Do(ctx, http.MethodPost, "/device/v1/records", &RecordsRequest{Records: records}, &r); err != nil {
		return nil, err
	}
	return r.Results, nil
}

// CodePay charges a payment code the POS scanned. It may take as long as the
// payer needs to confirm on the phone: give HTTP a timeout above 30 s.
func (c *Client) CodePay(ctx context.Context, req *CodePayRequest) (*CodePayResult, error) {
	var r CodePayResult
	return &r, c.Do(ctx, http.MethodPost, "/device/v1/codepay", req, &r)
}
