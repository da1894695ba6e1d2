package sms

import (
	"fmt"
	"strings"
	"time"

	"github.com/onecard-campus/onecard"
)

// The message templates. Each returns the full text of one message in
// Chinese, starting with the signature carriers require of every business
// message (【签名】), with amounts in fen shown by onecard.Yuan. They are
// functions rather than format strings so that no caller can put a full
// card number or an amount in fen into a text by mistake.

// Signature opens every message.
const Signature = "【校园一卡通】"

// CodeValidity is how long a verification code is accepted; the store
// issues codes valid this long, and VerificationCode says so.
const CodeValidity = 5 * time.Minute

// TopUpNotice tells a cardholder a top-up reached the account. card is
// the one-card number, masked or not: only its last four characters are
// shown (尾号5678), the way banks name accounts in messages.
func TopUpNotice(card string, amount, balance int64) string {
	return fmt.Sprintf("%s您尾号%s的校园卡充值%s已到账，当前余额%s。", Signature, tail(card), onecard.Yuan(amount), onecard.Yuan(balance))
}

// LowBalanceNotice warns that the balance fell below the threshold the
// cardholder chose.
func LowBalanceNotice(balance, threshold int64) string {
	return fmt.Sprintf("%s您的校园卡余额为%s，已低于您设置的提醒金额%s，请及时充值。", Signature, onecard.Yuan(balance), onecard.Yuan(threshold))
}

// FreezeNotice tells a cardholder the card was frozen and why, and what
// lifts it: arrears lift themselves once the account is topped up, every
// other reason needs the card office.
func FreezeNotice(reason onecard.FreezeReason) string {
	why, after := "其他原因", "如非本人操作或有疑问，请到一卡通服务中心办理。"
	switch reason {
	case onecard.FreezeArrears:
		why, after = "账户欠费", "充值补足欠款后将自动解冻。"
	case onecard.FreezeMismatch:
		why = "卡内余额与账户余额不一致"
	case onecard.FreezeAbnormal:
		why = "校园卡使用异常"
	case onecard.FreezeOperator:
		why = "管理员冻结"
	}
	return fmt.Sprintf("%s您的校园卡已冻结（原因：%s），冻结期间不能消费。%s", Signature, why, after)
}

// VerificationCode is the text carrying a one-time code; purpose says what
// it confirms, e.g. "银行卡充值" or "绑定银行卡". The code comes first
// among the digits of the message, so that a phone's code autofill finds
// it.
func VerificationCode(code, purpose string) string {
	return fmt.Sprintf("%s验证码%s，用于%s，%d分钟内有效。请勿将验证码告诉他人，如非本人操作请忽略本短信。",
		Signature, code, purpose, int(CodeValidity/time.Minute))
}

// tail returns the last four characters of a card number, masked or not.
// Only what follows the last star or space counts, so that "2012****5678"
// gives 5678 and never digits from before the masked middle.
func tail(card string) string {
	card = strings.TrimSpace(card)
	if i := strings.LastIndexAny(card, "* "); i >= 0 {
		card = card[i+1:]
	}
	r := []rune(card)
	if len(r) == 0 {
		return "****"
	}
	if len(r) > 4 {
		r = r[len(r)-4:]
	}
	return string(r)
}
