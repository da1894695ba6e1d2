// Package sms sends text messages to cardholders' mobile phones: top-up
// notices, low-balance and freeze warnings, verification codes. Sender is
// what the rest of OneCard calls; a deployment plugs in its SMS provider's
// adapter. Log, the only provider here, writes messages to a log and keeps
// the recent ones in memory, for development, tests and the demo.
//
// Phone numbers are mainland mobile numbers. They never reach a log in full:
// MaskPhone is applied everywhere a number is logged.
package sms

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onecard-campus/onecard"
)

// Sender sends one text message. Implementations are safe for concurrent
// use. A number that is not a mobile number is EINVALID.
type Sender interface {
	Send(ctx context.Context, phone, text string) error
}

// MaxText bounds a message, in characters. Providers split long texts
// into 67-character parts and charge each; anything near this is a bug, not
// a message.
const MaxText = 500

// ValidPhone reports whether s is a mainland mobile number as stored: 11
// digits, 1 then 3 to 9 (1[3-9]xxxxxxxxx). Use NormalizePhone on what a
// person typed.
func ValidPhone(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizePhone turns a typed mobile number ("138 1234 5678",
// "138-1234-5678", "+86 13812345678", "0086…") into its 11 digits, or
// EINVALID.
func NormalizePhone(s string) (string, error) {
	d, ok := digitsOfMobile(s)
	if !ok {
		return "", onecard.Errorf(onecard.EINVALID, "%s is not a mainland mobile number (11 digits starting 13 to 19).", MaskPhone(s))
	}
	return d, nil
}

// MaskPhone shows a number as 138****5678: the first three and last four
// digits, enough for a person to recognise their own. Anything that is not a
// mobile number is masked as safely: short strings entirely.
func MaskPhone(s string) string {
	if d, ok := digitsOfMobile(s); ok {
		return d[:3] + "****" + d[7:]
	}
	r := []rune(strings.TrimSpace(s))
	if len(r) < 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// digitsOfMobile strips separators and the country code and reports
// whether what is left is a mobile number.
func digitsOfMobile(s string) (string, bool) {
	d := strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(d, "+86"); ok {
		d = rest
	} else if rest, ok := strings.CutPrefix(d, "0086"); ok {
		d = rest
	}
	return d, ValidPhone(d)
}

// Message is one message a Log sent.
type Message struct {
	Phone string    `json:"phone"` // 11 digits
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

// Log is the development provider: each message goes to a logger, with the
// number masked, and the last few are kept in memory for tests and the
// demo's page. The text is logged as is, verification codes included: that
// is how a developer reads them, and why Log is not for production.
type Log struct {
	log  *slog.Logger
	keep int

	mu   sync.Mutex
	msgs []Message // oldest first, at most keep
}

// DefaultKeep is how many messages a Log keeps when NewLog is given 0.
const DefaultKeep = 1000

// NewLog returns a Log writing to l (slog.Default() when nil) and keeping
// the last keep messages (DefaultKeep when keep <= 0).
func NewLog(l *slog.Logger, keep int) *Log {
	if l == nil {
		l = slog.Default()
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &Log{log: l, keep: keep}
}

// Send implements Sender.
func (l *Log) Send(ctx context.Context, phone, text string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	if text == "" || utf8.RuneCountInString(text) > MaxText {
		return onecard.Errorf(onecard.EINVALID, "A text message has 1 to %d characters.", MaxText)
	}
	m := Message{Phone: p, Text: text, At: time.Now()}
	l.mu.Lock()
	l.msgs = append(l.msgs, m)
	if len(l.msgs) > l.keep {
		// Dropping from the front keeps the order; append reallocates the
		// backing array now and then, so memory stays about 2×keep.
		l.msgs = l.msgs[len(l.msgs)-l.keep:]
	}
	l.mu.Unlock()
	l.log.InfoContext(ctx, "sms: sent", "phone", MaskPhone(p), "text", text)
	return nil
}

// Messages returns the kept messages sent to phone (any form NormalizePhone
// accepts), oldest first; "" returns every kept message.
func (l *Log) Messages(phone string) []Message {
	want := ""
	if phone != "" {
		p, ok := digitsOfMobile(phone)
		if !ok {
			return nil
		}
		want = p
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Message
	for _, m := range l.msgs {
		if want == "" || m.Phone == want {
			out = append(out, m)
		}
	}
	return out
}
