package device_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

// fakeCodePayer records what the device API asked for and answers paid,
// or err when set.
type fakeCodePayer struct {
	mu   sync.Mutex
	got  []payment.CodePaymentRequest
	err  error
	paid string // the state to answer
}

func (f *fakeCodePayer) PayByCode(_ context.Context, req *payment.CodePaymentRequest) (*onecard.CodePayment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, *req)
	if f.err != nil {
		return nil, f.err
	}
	return &onecard.CodePayment{No: "C1_" + req.No, MerchantID: req.MerchantID, TerminalID: req.TerminalID,
		Channel: "onecard", Amount: req.Amount, State: f.paid}, nil
}

func TestCodePayChecksTheTerminal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		school := &onecard.School{Code: "nankai", Name: "南开大学"}
		if err := db.CreateSchool(ctx, school); err != nil {
			t.Fatal(err)
		}
		canteen := &onecard.Merchant{SchoolID: school.ID, Code: "canteen-1", Name: "第一食堂", Kind: "canteen"}
		if err := db.CreateMerchant(ctx, canteen); err != nil {
			t.Fatal(err)
		}
		fake := &fakeCodePayer{paid: onecard.CodePaid}
		srv := httptest.NewServer(device.New(device.Config{Terminals: db, Cards: db, CodePayer: fake}))
		t.Cleanup(srv.Close)
		client := func(kind onecard.TerminalKind, code string, merchant int64) (*device.Client, *onecard.Terminal) {
			term := &onecard.Terminal{SchoolID: school.ID, MerchantID: merchant, Kind: kind, Code: code, Name: code}
			key, err := db.CreateTerminal(ctx, term)
			if err != nil {
				t.Fatal(err)
			}
			return &device.Client{BaseURL: srv.URL, School: school.Code, Terminal: code, Key: key}, term
		}
		pos, posT := client(onecard.TerminalPOS, "pos-1", canteen.ID)
		centre, _ := client(onecard.TerminalPOS, "pos-centre", 0)
		bath, _ := client(onecard.TerminalBath, "bath-1", canteen.ID)
		const code = "660000000000000001"

		res, err := pos.CodePay(ctx, &device.CodePayRequest{No: "A1", Code: code, Amount: 15_50})
		if err != nil {
			t.Fatal(err)
		}
		if res.State != onecard.CodePaid || res.No != "C1_A1" || res.Amount != 15_50 || res.Channel != "onecard" {
			t.Errorf("answer: %+v", res)
		}
		// The payee is the terminal's merchant, and the sale carries the
		// terminal: nothing in the body can name another.
		if g := fake.got[0]; g.MerchantID != canteen.ID || g.TerminalID != posT.ID || g.Code != code || g.Terminal != "pos-1" {
			t.Errorf("asked the payment service for %+v", g)
		}
		err = pos.Do(ctx, http.MethodPost, "/device/v1/codepay", map[string]any{"no": "A2", "code": code, "amount": 1_00, "merchant_id": 99}, nil)
		wantErr(t, "a body naming a merchant", err, onecard.EINVALID)

		for _, c := range []struct {
			name   string
			client *device.Client
			req    device.CodePayRequest
			want   string
		}{
			{"a bath controller", bath, device.CodePayRequest{No: "B1", Code: code, Amount: 1_00}, onecard.EFORBIDDEN},
			{"a POS of no merchant", centre, device.CodePayRequest{No: "B2", Code: code, Amount: 1_00}, onecard.EFORBIDDEN},
			{"no sale number", pos, device.CodePayRequest{Code: code, Amount: 1_00}, onecard.EINVALID},
			{"a sale number too long", pos, device.CodePayRequest{No: "123456789012345678901", Code: code, Amount: 1_00}, onecard.EINVALID},
			{"a sale number with a dash", pos, device.CodePayRequest{No: "B-3", Code: code, Amount: 1_00}, onecard.EINVALID},
			{"no amount", pos, device.CodePayRequest{No: "B4", Code: code}, onecard.EINVALID},
		} {
			_, err := c.client.CodePay(ctx, &c.req)
			wantErr(t, c.name, err, c.want)
		}
		if len(fake.got) != 1 {
			t.Errorf("refused requests reached the payment service: %+v", fake.got[1:])
		}

		// The payment service's refusal comes back in the error shape.
		fake.err = onecard.Errorf(onecard.EINSUFFICIENT, "Not enough money.")
		_, err = pos.CodePay(ctx, &device.CodePayRequest{No: "C1", Code: code, Amount: 1_00})
		wantErr(t, "a refusal", err, onecard.EINSUFFICIENT)
		// A retry of a sale that was cancelled is not shown as paid.
		fake.err, fake.paid = nil, onecard.CodeClosed
		_, err = pos.CodePay(ctx, &device.CodePayRequest{No: "C2", Code: code, Amount: 1_00})
		wantErr(t, "a closed sale", err, onecard.ECONFLICT)
	})
}

func TestCodePayIsServedOnlyWithAPayer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		_, err := w.client.CodePay(ctx, &device.CodePayRequest{No: "1", Code: "660000000000000001", Amount: 1_00})
		if err == nil {
			t.Fatal("code payments answered without a payment service")
		}
	})
}

// wantErr fails unless err is an error answer with the code.
func wantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *onecard.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}
