package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

// simTopUp is a parent topping up a card from the public page (seed 002)
// on a server whose channels go to the sandbox: it finds the school, checks
// the masked name, opens the order, pays on the sandbox's checkout page as
// the payer's browser would, and waits for the money to reach the card.
func simTopUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var server, school, name, number, amount, ch, phone string
	flags := newFlagSet("sim topup", "onecard sim topup [--server URL] --school CODE --name NAME --card NUMBER --amount YUAN [--channel alipay|wechat] [--phone N]", stderr)
	flags.StringVar(&server, "server", "http://"+defaultAddr, "the OneCard server")
	flags.StringVar(&school, "school", "demo", "the school's code")
	flags.StringVar(&name, "name", "", "the card holder's name")
	flags.StringVar(&number, "card", "", "the card number")
	flags.StringVar(&amount, "amount", "50", "yuan to top up")
	flags.StringVar(&ch, "channel", onecard.ChannelAlipay, "alipay or wechat")
	flags.StringVar(&phone, "phone", "", "a mobile number to text when the money arrives")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	fen, err := onecard.ParseYuan(amount)
	if err != nil || name == "" || number == "" {
		fmt.Fprintln(stderr, "onecard sim topup: --name, --card and a valid --amount are needed")
		return errUsage
	}
	server = strings.TrimSuffix(server, "/")
	c := &simClient{base: server + "/api/v1", http: &http.Client{Timeout: 15 * time.Second}}

	var schools struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/public/schools?q="+url.QueryEscape(school), nil, &schools); err != nil {
		return err
	}
	var schoolID int64
	for _, s := range schools.Items {
		if s.Code == school {
			schoolID = s.ID
		}
	}
	if schoolID == 0 {
		return fmt.Errorf("no school with code %q on %s", school, server)
	}
	var card struct {
		School     string `json:"school"`
		NameMasked string `json:"name_masked"`
		Number     string `json:"number"`
	}
	if err := c.do(ctx, http.MethodPost, "/public/lookup", map[string]any{"school_id": schoolID, "name": name, "number": number}, &card); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Card %s of %s, holder %s.\n", card.Number, card.School, card.NameMasked)
	var order struct {
		No     string `json:"no"`
		Total  int64  `json:"total"`
		PayURL string `json:"pay_url"`
	}
	key := fmt.Sprintf("sim-%d", time.Now().UnixNano())
	if err := c.do(ctx, http.MethodPost, "/public/topups", map[string]any{"school_id": schoolID, "name": name, "number": number,
		"channel": ch, "amount": fen, "phone": phone, "key": key, "agree_terms": true}, &order); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Order %s: paying %s with %s at the gateway's page.\n", order.No, onecard.Yuan(order.Total), ch)

	// The payer's browser: open the gateway's page (it redirects to the
	// checkout), then confirm there.
	res, err := c.http.Get(order.PayURL)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the gateway's page answered %s", res.Status)
	}
	res, err = c.http.PostForm(res.Request.URL.String(), url.Values{})
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode >= 400 {
		return fmt.Errorf("confirming at the gateway: %s", res.Status)
	}
	fmt.Fprintln(stdout, "Paid at the gateway; waiting for the notification.")

	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			State  string `json:"state"`
			Amount int64  `json:"amount"`
		}
		if err := c.do(ctx, http.MethodGet, "/public/topups/"+url.PathEscape(order.No), nil, &st); err != nil {
			return err
		}
		if st.State != string(onecard.TopUpPending) {
			fmt.Fprintf(stdout, "Order %s is %s: %s waits in the transition balance until the card is tapped at a POS.\n",
				order.No, st.State, onecard.Yuan(st.Amount))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("order %s still pending after 30 s", order.No)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// simClient calls the JSON API and turns error answers into errors with
// the server's message.
type simClient struct {
	base string
	http *http.Client
}

func (c *simClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&e)
		return fmt.Errorf("%s %s: %s (%s)", method, path, e.Message, e.Code)
	}
	return json.NewDecoder(res.Body).Decode(out)
}
