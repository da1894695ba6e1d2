package device

import (
	"context"
	"net/http"

	"github.com/onecard-campus/onecard"
)

// ReportLost reports a card lost at a kiosk by number and query PIN.
func (c *Client) ReportLost(ctx context.Context, req *ReportLostRequest) (*CardAnswer, error) {
	var a CardAnswer
	return &a, c.Do(ctx, http.MethodPost, "/device/v1/kiosk/report-lost", req, &a)
}

// Unlock unlocks the inserted card with the query PIN.
func (c *Client) Unlock(ctx context.Context, req *CardRequest) (*CardAnswer, error) {
	var a CardAnswer
	return &a, c.Do(ctx, http.MethodPost, "/device/v1/kiosk/unlock", req, &a)
}

// ChangePIN changes the inserted card's query or consumption PIN.
func (c *Client) ChangePIN(ctx context.Context, req *ChangePINRequest) (*CardAnswer, error) {
	var a CardAnswer
	return &a, c.Do(ctx, http.MethodPost, "/device/v1/kiosk/pins", req, &a)
}

// BindBank binds the bank card used for loads at the kiosk.
func (c *Client) BindBank(ctx context.Context, req *BankBindingRequest) (*onecard.BankBinding, error) {
	var b onecard.BankBinding
	return &b, c.Do(ctx, http.MethodPost, "/device/v1/kiosk/bank-binding", req, &b)
}

// Replace asks the replacement machine's server for a new card.
func (c *Client) Replace(ctx context.Context, req *ReplacementRequest) (*ReplacementAnswer, error) {
	var a ReplacementAnswer
	return &a, c.Do(ctx, http.MethodPost, "/device/v1/replacements", req, &a)
}
