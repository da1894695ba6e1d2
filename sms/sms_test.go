package sms_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/sms"
)

func TestValidPhone(t *testing.T) {
	for _, p := range []string{"13812345678", "19912345678", "15000000000", "17100000001"} {
		if !sms.ValidPhone(p) {
			t.Errorf("%s refused", p)
		}
	}
	for _, p := range []string{"", "1381234567", "138123456789", "12812345678", "10812345678", "23812345678",
		"1381234567x", "+8613812345678", "138 1234 5678", "１３８１２３４５６７８"} {
		if sms.ValidPhone(p) {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678": "13812345678", " 138 1234 5678 ": "13812345678", "138-1234-5678": "13812345678",
		"+8613812345678": "13812345678", "+86 138 1234 5678": "13812345678", "008613812345678": "13812345678",
	} {
		if got, err := sms.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "12812345678", "+1 415 555 0100", "86 13812345678"} {
		_, err := sms.NormalizePhone(in)
		if onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("NormalizePhone(%q): %v, want EINVALID", in, err)
		}
		// The refusal names the number masked, since errors get logged.
		if in == "+1 415 555 0100" && strings.Contains(err.Error(), "5550100") {
			t.Errorf("error shows the number: %v", err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":     "138****5678",
		"+86 13812345678": "138****5678",
		"138-1234-5678":   "138****5678",
		"12345":           "*****",
		"1234567":         "*******",
		"123456789012":    "123*****9012",
		"":                "",
	} {
		if got := sms.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogSendsAndMasks(t *testing.T) {
	var buf bytes.Buffer
	var bufMu sync.Mutex
	l := sms.NewLog(slog.New(slog.NewTextHandler(lockedWriter{&buf, &bufMu}, nil)), 0)
	ctx := context.Background()
	if err := l.Send(ctx, "13812345678", "第一条"); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(ctx, "+86 139 1234 5678", "第二条"); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(ctx, "138-1234-5678", "第三条"); err != nil {
		t.Fatal(err)
	}
	msgs := l.Messages("13812345678")
	if len(msgs) != 2 || msgs[0].Text != "第一条" || msgs[1].Text != "第三条" || msgs[0].Phone != "13812345678" || msgs[0].At.IsZero() {
		t.Errorf("messages to 138: %+v", msgs)
	}
	if got := l.Messages("+8613912345678"); len(got) != 1 || got[0].Text != "第二条" {
		t.Errorf("messages to 139 asked as +86: %+v", got)
	}
	if got := l.Messages(""); len(got) != 3 {
		t.Errorf("all messages: %d", len(got))
	}
	if got := l.Messages("13700000000"); len(got) != 0 {
		t.Errorf("messages to a number never texted: %+v", got)
	}
	if got := l.Messages("garbage"); got != nil {
		t.Errorf("messages to garbage: %+v", got)
	}

	bufMu.Lock()
	logged := buf.String()
	bufMu.Unlock()
	for _, full := range []string{"13812345678", "13912345678", "1234 5678", "1234-5678"} {
		if strings.Contains(logged, full) {
			t.Errorf("log holds the number %s:\n%s", full, logged)
		}
	}
	if !strings.Contains(logged, "138****5678") || !strings.Contains(logged, "139****5678") || !strings.Contains(logged, "第二条") {
		t.Errorf("log lacks the masked numbers or the text:\n%s", logged)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestLogRefuses(t *testing.T) {
	l := sms.NewLog(slog.New(slog.DiscardHandler), 10)
	ctx := context.Background()
	for name, err := range map[string]error{
		"bad number": l.Send(ctx, "12812345678", "x"),
		"no text":    l.Send(ctx, "13812345678", ""),
		"too long":   l.Send(ctx, "13812345678", strings.Repeat("长", sms.MaxText+1)),
	} {
		if onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Send(cancelled, "13812345678", "x"); err == nil {
		t.Error("sent with a cancelled context")
	}
	if got := l.Messages(""); len(got) != 0 {
		t.Errorf("refused messages kept: %+v", got)
	}
}

// The Log keeps the last N messages, oldest first, however many were sent
// and from however many goroutines.
func TestLogKeepsTheLast(t *testing.T) {
	l := sms.NewLog(slog.New(slog.DiscardHandler), 1000)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if err := l.Send(context.Background(), "1381234567"+strconv.Itoa(g), strconv.Itoa(g)+"-"+strconv.Itoa(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all := l.Messages("")
	if len(all) != 1000 {
		t.Fatalf("kept %d, want 1000", len(all))
	}
	// Each sender's messages that were kept are its last ones, in order.
	for g := range 4 {
		mine := l.Messages("1381234567" + strconv.Itoa(g))
		for i, m := range mine {
			want := strconv.Itoa(g) + "-" + strconv.Itoa(500-len(mine)+i)
			if m.Text != want {
				t.Fatalf("sender %d message %d is %q, want %q", g, i, m.Text, want)
			}
		}
	}

	small := sms.NewLog(nil, 3)
	for i := range 5 {
		_ = small.Send(context.Background(), "13812345678", strconv.Itoa(i))
	}
	var texts []string
	for _, m := range small.Messages("") {
		texts = append(texts, m.Text)
	}
	if strings.Join(texts, ",") != "2,3,4" {
		t.Errorf("kept %v, want the last three", texts)
	}
}

var _ sms.Sender = (*sms.Log)(nil)

func TestTemplates(t *testing.T) {
	for _, c := range []struct {
		name, got string
		want      []string
		not       []string
	}{
		{"top-up", sms.TopUpNotice("2012345678", 10000, 12345), []string{"尾号5678", "¥100.00", "¥123.45"}, []string{"2012345678", "10000"}},
		{"top-up masked", sms.TopUpNotice("******5678", 50, 0), []string{"尾号5678", "¥0.50", "¥0.00"}, nil},
		{"top-up masked middle", sms.TopUpNotice("2012****5678", 1, 1), []string{"尾号5678"}, []string{"2012"}},
		{"top-up short card", sms.TopUpNotice("999", 100, 100), []string{"尾号999", "¥1.00"}, nil},
		{"low balance", sms.LowBalanceNotice(850, 1000), []string{"¥8.50", "¥10.00", "充值"}, nil},
		{"low balance in debt", sms.LowBalanceNotice(-300, 1000), []string{"-¥3.00"}, nil},
		{"freeze arrears", sms.FreezeNotice(onecard.FreezeArrears), []string{"冻结", "欠费", "自动解冻"}, nil},
		{"freeze mismatch", sms.FreezeNotice(onecard.FreezeMismatch), []string{"冻结", "不一致", "服务中心"}, []string{"自动解冻"}},
		{"freeze abnormal", sms.FreezeNotice(onecard.FreezeAbnormal), []string{"异常"}, nil},
		{"freeze operator", sms.FreezeNotice(onecard.FreezeOperator), []string{"管理员"}, nil},
		{"freeze unknown", sms.FreezeNotice("solar flare"), []string{"其他原因"}, []string{"solar"}},
		{"code", sms.VerificationCode("012345", "绑定银行卡"), []string{"012345", "绑定银行卡", "5分钟"}, nil},
	} {
		if !strings.HasPrefix(c.got, sms.Signature) {
			t.Errorf("%s: no signature: %s", c.name, c.got)
		}
		for _, w := range c.want {
			if !strings.Contains(c.got, w) {
				t.Errorf("%s: %q lacks %q", c.name, c.got, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(c.got, n) {
				t.Errorf("%s: %q shows %q", c.name, c.got, n)
			}
		}
		// One SMS part is 70 characters; a notice should fit in two.
		if n := len([]rune(c.got)); n > 140 {
			t.Errorf("%s: %d characters", c.name, n)
		}
	}
	// The code is the first run of digits, which is what phones' autofill
	// (and tests reading the code) take.
	if got := regexp.MustCompile(`\d+`).FindString(sms.VerificationCode("987654", "银行卡充值")); got != "987654" {
		t.Errorf("first digits %q", got)
	}
}
