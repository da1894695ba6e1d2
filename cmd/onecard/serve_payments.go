package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/payment"
	"github.com/onecard-campus/onecard/sandbox"
	"github.com/onecard-campus/onecard/sms"
	"github.com/onecard-campus/onecard/store"
)

// sandboxPrefixes are the paths the embedded sandbox answers on the demo
// server: its pages and test API, and each protocol's endpoints.
var sandboxPrefixes = []string{"/sandbox/", "/alipay/", "/wechat/", "/bank/"}

// paymentSide is the payment service and, under --demo without channels,
// the sandbox gateway embedded in the same server.
type paymentSide struct {
	svc     *payment.Service
	sandbox *sandbox.Sandbox
	sms     *sms.Log
}

// setupPayments configures the channels: from --channels (a file written
// by "onecard sandbox" or by hand with the school's real credentials), or,
// with --demo and no file, from a sandbox embedded in this server, so that
// a newcomer tops up end to end with no account anywhere. With neither,
// the payment endpoints are off.
func setupPayments(c *serveConfig, db *store.DB, base string, log *slog.Logger) (*paymentSide, error) {
	var (
		cfg channel.Config
		sb  *sandbox.Sandbox
	)
	switch {
	case c.channels != "":
		var err error
		if cfg, err = readChannels(c.channels); err != nil {
			return nil, err
		}
	case c.demo:
		keys, err := sandboxKeys(c.dataDir)
		if err != nil {
			return nil, err
		}
		sb = sandbox.NewWithKeys(sandbox.Options{BaseURL: base, Logger: log}, keys)
		cfg = sb.Config()
	default:
		return nil, nil
	}
	gateways, err := payment.Gateways(cfg, nil)
	if err != nil {
		return nil, err
	}
	public := c.publicURL
	if public == "" {
		public = base
	}
	texts := sms.NewLog(log, 1000)
	svc := payment.New(payment.Config{
		Store: db, Schools: db, Cardholders: db, Cards: db, Banks: db, Merchants: db,
		Gateways: gateways, SMS: texts, Notices: db, PublicURL: public, Logger: log,
	})
	return &paymentSide{svc: svc, sandbox: sb, sms: texts}, nil
}

// mount puts the embedded sandbox on the server's mux.
func (p *paymentSide) mount(mux *http.ServeMux) {
	if p == nil || p.sandbox == nil {
		return
	}
	for _, prefix := range sandboxPrefixes {
		mux.Handle(prefix, p.sandbox)
	}
}

// run starts the payment jobs; the returned function stops them and waits.
func (p *paymentSide) run(ctx context.Context, db *store.DB) func() {
	if p == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loc := schoolLocation(ctx, db)
		p.svc.Run(ctx, loc)
	}()
	return func() {
		cancel()
		<-done
		if p.sandbox != nil {
			p.sandbox.Close()
		}
	}
}

// print tells a demo user where the sandbox is and how to top up through it.
func (p *paymentSide) print(w io.Writer, base string, info *demo.Info) {
	if p == nil {
		return
	}
	if p.sandbox != nil {
		fmt.Fprintf(w, "Payments: Alipay, WeChat Pay and the bank link go to the sandbox gateway embedded in this server (no real money).\n")
		if info != nil {
			fmt.Fprintf(w, "  Top up a card as a parent would, paying at the sandbox's checkout page:\n")
			fmt.Fprintf(w, "  onecard sim topup --server %s --school %s --name %s --card %s --amount 50\n\n", base, info.SchoolCode, info.SampleName, info.SampleNumber)
		}
		return
	}
	fmt.Fprintf(w, "Payments: channels %v configured.\n", p.svc.Channels())
}

// schoolLocation is the time zone the daily jobs run in: the first school's,
// Asia/Shanghai when there is none yet.
func schoolLocation(ctx context.Context, db *store.DB) *time.Location {
	if schools, err := db.Schools(ctx); err == nil && len(schools) > 0 {
		return schools[0].Settings.Location()
	}
	return onecard.DefaultSettings().Location()
}

// service returns the payment service, nil when payments are off.
func (p *paymentSide) service() *payment.Service {
	if p == nil {
		return nil
	}
	return p.svc
}
