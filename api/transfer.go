package api

import (
	"context"
	"fmt"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/ledger"
)

// maxBatch is the most transfers one request takes: the ledger's request
// limit, TigerBeetle's 8190 transfers of 128 bytes in a 1 MiB message (the
// maxItems tag below repeats it for the schema). In JSON a transfer is two
// to three times that, so this endpoint's body limit is 4 MiB instead of the
// usual 1 MiB.
const (
	maxBatch      = ledger.MaxRequest
	maxBatchBytes = 4 << 20
	// maxTimeout keeps a hold's timeout far from time.Duration overflow.
	maxTimeout = 366 * 24 * 3600
)

// flagNames are the names of ledger.Flags in the API.
var flagNames = map[string]ledger.Flags{
	"linked":       ledger.Linked,
	"pending":      ledger.Pending,
	"post_pending": ledger.PostPending,
	"void_pending": ledger.VoidPending,
}

// transferRequest is one transfer of a batch as a client writes it.
type transferRequest struct {
	Key            string   `json:"key" minLength:"1" maxLength:"128" doc:"Idempotency key: the same key twice moves money once and returns the first result."`
	Debit          int64    `json:"debit" minimum:"0" doc:"Account debited. 0 only with post_pending or void_pending (the hold's account)."`
	Credit         int64    `json:"credit" minimum:"0" doc:"Account credited. 0 only with post_pending or void_pending (the hold's account)."`
	Amount         int64    `json:"amount" minimum:"0" maximum:"1000000000" doc:"Amount in fen (分): 1 yuan = 100 fen. Positive, except that 0 with post_pending posts the whole hold."`
	Flags          []string `json:"flags,omitempty" enum:"linked,pending,post_pending,void_pending" uniqueItems:"true" doc:"linked: succeeds or fails with the next transfer; pending: a hold; post_pending / void_pending: settle or release the hold named by pending_key."`
	PendingKey     string   `json:"pending_key,omitempty" maxLength:"128" doc:"The hold's key, with post_pending or void_pending."`
	TimeoutSeconds int64    `json:"timeout_seconds,omitempty" minimum:"0" maximum:"31622400" doc:"With pending: release the hold after this many seconds; 0: never."`
	Code           string   `json:"code,omitempty" maxLength:"32" doc:"What it is for: topup, purchase, fee, correction..."`
	Memo           string   `json:"memo,omitempty" maxLength:"256" doc:"Shown in histories."`
}

type submitInput struct {
	Body struct {
		Transfers []transferRequest `json:"transfers" minItems:"1" maxItems:"8190" doc:"At most 8190 transfers, applied in order."`
	}
}

// transferView is a stored transfer as the API shows it: flags by name.
type transferView struct {
	ID             int64        `json:"id"`
	Key            string       `json:"key"`
	Debit          int64        `json:"debit"`
	Credit         int64        `json:"credit"`
	Amount         int64        `json:"amount" doc:"Amount in fen."`
	Flags          []string     `json:"flags"`
	PendingKey     string       `json:"pending_key,omitempty"`
	PendingID      int64        `json:"pending_id,omitempty"`
	TimeoutSeconds int64        `json:"timeout_seconds,omitempty"`
	Code           string       `json:"code"`
	Memo           string       `json:"memo,omitempty"`
	Time           time.Time    `json:"time"`
	State          ledger.State `json:"state,omitempty" enum:"pending,posted,voided,expired" doc:"Pending transfers only."`
	ExpiresAt      *time.Time   `json:"expires_at,omitempty"`
}

func newTransferView(t *ledger.Transfer) *transferView {
	v := &transferView{ID: t.ID, Key: t.Key, Debit: t.Debit, Credit: t.Credit, Amount: t.Amount,
		Flags: []string{}, PendingKey: t.PendingKey, PendingID: t.PendingID,
		TimeoutSeconds: int64(t.Timeout / time.Second), Code: t.Code, Memo: t.Memo, Time: t.Time,
		State: t.State, ExpiresAt: t.ExpiresAt}
	for _, name := range []string{"linked", "pending", "post_pending", "void_pending"} {
		if t.Flags&flagNames[name] != 0 {
			v.Flags = append(v.Flags, name)
		}
	}
	return v
}

// transferResult is one transfer's outcome.
type transferResult struct {
	Result   string        `json:"result" doc:"ok, exists (stored before under this key; nothing moved again), or why it failed, e.g. insufficient_funds, linked_transfer_failed."`
	Transfer *transferView `json:"transfer,omitempty" doc:"The stored transfer, when result is ok or exists."`
}

type submitOutput struct {
	Body struct {
		Results []transferResult `json:"results" doc:"One per transfer, in order. The response is 200 even when some failed."`
	}
}

// submitTransfers posts a batch to the ledger. Input that cannot be a
// transfer refuses the whole batch (nothing moves); transfers the ledger
// refuses get their own result and never fail their neighbours.
func (s *Server) submitTransfers(ctx context.Context, in *submitInput) (*submitOutput, error) {
	if len(in.Body.Transfers) > maxBatch {
		return nil, onecard.Errorf(onecard.EINVALID, "At most %d transfers per request.", maxBatch)
	}
	ts := make([]ledger.Transfer, len(in.Body.Transfers))
	for i, r := range in.Body.Transfers {
		t, err := r.transfer()
		if err != nil {
			return nil, onecard.Errorf(onecard.EINVALID, "transfers[%d]: %s", i, onecard.ErrorMessage(err))
		}
		ts[i] = t
	}
	outs, err := s.cfg.Ledger.Submit(ctx, ts)
	if err != nil {
		return nil, err
	}
	if len(outs) != len(ts) {
		return nil, fmt.Errorf("api: ledger returned %d outcomes for %d transfers", len(outs), len(ts))
	}
	out := &submitOutput{}
	out.Body.Results = make([]transferResult, len(outs))
	for i, o := range outs {
		out.Body.Results[i].Result = o.Result.String()
		if o.Transfer != nil {
			out.Body.Results[i].Transfer = newTransferView(o.Transfer)
		}
	}
	return out, nil
}

// transfer checks what the schema cannot and builds the ledger's transfer.
func (r *transferRequest) transfer() (ledger.Transfer, error) {
	t := ledger.Transfer{Key: r.Key, Debit: r.Debit, Credit: r.Credit, Amount: r.Amount,
		PendingKey: r.PendingKey, Timeout: time.Duration(r.TimeoutSeconds) * time.Second, Code: r.Code, Memo: r.Memo}
	for _, name := range r.Flags {
		f, ok := flagNames[name]
		if !ok {
			return t, onecard.Errorf(onecard.EINVALID, "unknown flag %q.", name)
		}
		t.Flags |= f
	}
	resolves := t.Flags&(ledger.PostPending|ledger.VoidPending) != 0
	switch {
	case resolves && r.PendingKey == "":
		return t, onecard.Errorf(onecard.EINVALID, "post_pending and void_pending need pending_key.")
	case !resolves && r.PendingKey != "":
		return t, onecard.Errorf(onecard.EINVALID, "pending_key goes only with post_pending or void_pending.")
	case !resolves && (r.Debit <= 0 || r.Credit <= 0):
		return t, onecard.Errorf(onecard.EINVALID, "debit and credit must be account IDs.")
	case r.TimeoutSeconds > 0 && t.Flags&ledger.Pending == 0:
		return t, onecard.Errorf(onecard.EINVALID, "timeout_seconds goes only with pending.")
	case r.TimeoutSeconds > maxTimeout:
		return t, onecard.Errorf(onecard.EINVALID, "timeout_seconds is at most %d.", maxTimeout)
	// The ledger counts bytes, the schema characters: 100 Chinese characters
	// pass maxLength and are still too long.
	case len(r.Code) > ledger.MaxCodeLen:
		return t, onecard.Errorf(onecard.EINVALID, "code is at most %d bytes of UTF-8.", ledger.MaxCodeLen)
	case len(r.Memo) > ledger.MaxMemoLen:
		return t, onecard.Errorf(onecard.EINVALID, "memo is at most %d bytes of UTF-8 (a Chinese character takes 3).", ledger.MaxMemoLen)
	}
	if !resolves || r.Amount != 0 {
		if err := onecard.ValidateAmount(r.Amount); err != nil {
			return t, err
		}
	}
	return t, nil
}

type transferKeyInput struct {
	Key string `path:"key" minLength:"1" maxLength:"128" doc:"The transfer's idempotency key."`
}

type transferOutput struct {
	Body *transferView
}

// getTransfer returns a stored transfer by its key.
func (s *Server) getTransfer(ctx context.Context, in *transferKeyInput) (*transferOutput, error) {
	t, err := s.cfg.Accounts.TransferByKey(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	return &transferOutput{Body: newTransferView(t)}, nil
}
