package payment

import (
	"fmt"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard/channel"
	"github.com/onecard-campus/onecard/channel/alipay"
	"github.com/onecard-campus/onecard/channel/bank"
	"github.com/onecard-campus/onecard/channel/wechat"
)

// Gateways builds the adapters of every configured channel. hc is the
// client they call the gateways with (nil: one with a 15 s timeout).
func Gateways(cfg channel.Config, hc *http.Client) (map[channel.Name]channel.Gateway, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	out := map[channel.Name]channel.Gateway{}
	if cfg.Alipay != nil {
		g, err := alipay.New(*cfg.Alipay, hc)
		if err != nil {
			return nil, fmt.Errorf("payment: alipay: %w", err)
		}
		out[channel.Alipay] = g
	}
	if cfg.Wechat != nil {
		g, err := wechat.New(*cfg.Wechat, hc)
		if err != nil {
			return nil, fmt.Errorf("payment: wechat: %w", err)
		}
		out[channel.Wechat] = g
	}
	if cfg.Bank != nil {
		g, err := bank.New(*cfg.Bank, hc)
		if err != nil {
			return nil, fmt.Errorf("payment: bank: %w", err)
		}
		out[channel.Bank] = g
	}
	return out, nil
}
