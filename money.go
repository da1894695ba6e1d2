package onecard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxAmount is the largest amount any single operation accepts: ten million
// yuan. It keeps sums of many amounts far away from int64 overflow.
const MaxAmount int64 = 1_000_000_000

// Yuan formats an amount in fen as yuan with two decimals and the currency
// sign, the one way amounts are shown to people: ¥12.50, -¥3.00.
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign = "-"
		u = uint64(-(fen + 1)) + 1 // safe for math.MinInt64
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, u/100, u%100)
}

// ParseYuan parses a decimal yuan amount ("12.5", "12.50", "¥12.50", "100")
// into fen. More than two decimals, signs, exponents and values above
// MaxAmount are refused with EINVALID: money never goes through a float.
func ParseYuan(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "¥")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) || !digits(whole) || !digits(frac) {
		return 0, Errorf(EINVALID, "%q is not an amount in yuan with at most two decimals.", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > MaxAmount/100 {
		return 0, Errorf(EINVALID, "Amount %q is too large.", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen := w*100 + f
	if fen > MaxAmount {
		return 0, Errorf(EINVALID, "Amount %q is too large.", s)
	}
	return fen, nil
}

// ValidateAmount refuses zero, negative and overlarge amounts with EINVALID.
func ValidateAmount(fen int64) error {
	if fen <= 0 {
		return Errorf(EINVALID, "Amount must be positive, got %d fen.", fen)
	} else if fen > MaxAmount {
		return Errorf(EINVALID, "Amount %s is above the largest accepted amount %s.", Yuan(fen), Yuan(MaxAmount))
	}
	return nil
}

// AddChecked adds two amounts and reports whether the sum overflowed.
func AddChecked(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
