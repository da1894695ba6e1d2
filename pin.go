package onecard

import "strings"

// PINKind names one of a cardholder's two PINs (seed 001, Part 07).
type PINKind string

// PIN kinds.
const (
	QueryPIN       PINKind = "query"       // app and kiosk actions: login, loss report, changes
	ConsumptionPIN PINKind = "consumption" // purchases over the per-meal threshold
)

// Valid reports whether k is a known PIN kind.
func (k PINKind) Valid() bool { return k == QueryPIN || k == ConsumptionPIN }

// ValidatePIN refuses anything but exactly six digits.
func ValidatePIN(pin string) error {
	if len(pin) != 6 || !digits(pin) {
		return Errorf(EINVALID, "A PIN is exactly six digits.")
	}
	return nil
}

// InitialPIN derives a new cardholder's PIN from their normalised ID number
// by the school's rule. Numbers with fewer than six usable characters are
// left-padded with zeros.
func InitialPIN(rule InitialPINRule, idNumber string) string {
	var d string
	switch rule {
	case PINZeros:
		return "000000"
	case PINXAsZero:
		d = strings.Map(func(r rune) rune {
			switch {
			case r == 'X' || r == 'x':
				return '0'
			case r >= '0' && r <= '9':
				return r
			}
			return -1
		}, idNumber)
	default: // PINLastSixDigits: the digit part only, so an X shifts the window
		d = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, idNumber)
	}
	if len(d) < 6 {
		d = strings.Repeat("0", 6-len(d)) + d
	}
	return d[len(d)-6:]
}
