package onecard

import (
	"strings"
	"time"
	"unicode"
)

// CardholderKind says who a cardholder is.
type CardholderKind string

// Cardholder kinds.
const (
	Student CardholderKind = "student"
	Staff   CardholderKind = "staff"
	Visitor CardholderKind = "visitor"
)

// CardholderStatus is where a cardholder is in their life at the school.
type CardholderStatus string

// Cardholder statuses. A graduated cardholder keeps their balance until the
// school's graduate_freeze_after has passed; a closed one has no card and no
// money left.
const (
	CardholderActive    CardholderStatus = "active"
	CardholderGraduated CardholderStatus = "graduated"
	CardholderClosed    CardholderStatus = "closed"
)

// IDType is the kind of identity document a cardholder registered with.
type IDType string

// Identity document types.
const (
	IDCard   IDType = "id_card"  // 居民身份证
	Passport IDType = "passport" // international students and staff
)

// Cardholder is a student, staff member or visitor with a card number. The ID
// document number itself is never stored: only a keyed hash for matching and
// a masked form for display.
type Cardholder struct {
	ID                int64            `json:"id"`
	SchoolID          int64            `json:"school_id"`
	CampusID          int64            `json:"campus_id,omitempty"`
	Number            string           `json:"number"` // the card number printed on the card
	Name              string           `json:"name"`
	Kind              CardholderKind   `json:"kind"`
	Status            CardholderStatus `json:"status"`
	IDType            IDType           `json:"id_type"`
	IDMasked          string           `json:"id_masked"` // e.g. 110105********123X
	Phone             string           `json:"phone,omitempty"`
	PurseAccount      int64            `json:"purse_account"`
	TransitionAccount int64            `json:"transition_account"`
	LeftAt            *time.Time       `json:"left_at,omitempty"` // when a graduate left
	CreatedAt         time.Time        `json:"created_at"`
}

// NewCardholder is what an operator enters to register a cardholder. The ID
// number is used to derive the initial PINs and a matching hash, then dropped.
type NewCardholder struct {
	SchoolID int64          `json:"school_id"`
	CampusID int64          `json:"campus_id,omitempty"`
	Number   string         `json:"number"`
	Name     string         `json:"name"`
	Kind     CardholderKind `json:"kind"`
	IDType   IDType         `json:"id_type"`
	IDNumber string         `json:"id_number"`
	Phone    string         `json:"phone,omitempty"`
}

// Validate normalises the card number and ID number in place and checks every
// field, returning EINVALID with a message naming the field.
func (n *NewCardholder) Validate() error {
	num, err := NormalizeCardNumber(n.Number)
	if err != nil {
		return err
	}
	n.Number = num
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || len([]rune(n.Name)) > 64 {
		return Errorf(EINVALID, "Name must be 1 to 64 characters.")
	}
	switch n.Kind {
	case Student, Staff, Visitor:
	default:
		return Errorf(EINVALID, "Kind must be student, staff or visitor.")
	}
	if n.IDType == "" {
		n.IDType = IDCard
	}
	id, err := NormalizeIDNumber(n.IDType, n.IDNumber)
	if err != nil {
		return err
	}
	n.IDNumber = id
	n.Phone = strings.TrimSpace(n.Phone)
	if n.Phone != "" && !validPhone(n.Phone) {
		return Errorf(EINVALID, "Phone %q is not a mobile number.", n.Phone)
	}
	return nil
}

// NormalizeCardNumber turns what a person types into the stored card number.
// Visitor cards printed "SN:000999" are entered as 999 (seed 002), so the SN
// prefix and leading zeros are dropped; "F000999" is kept as is. Letters are
// upper-cased and spaces removed.
func NormalizeCardNumber(s string) (string, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	for _, p := range []string{"SN:", "SN：", "SN"} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" && digits(rest) {
			s = strings.TrimLeft(rest, "0")
			if s == "" {
				s = "0"
			}
			break
		}
	}
	if s == "" || len(s) > 20 {
		return "", Errorf(EINVALID, "A card number has 1 to 20 letters and digits.")
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
			return "", Errorf(EINVALID, "Card number %q may hold only letters and digits.", s)
		}
	}
	return s, nil
}

// NormalizeIDNumber checks an ID document number and returns it upper-cased
// without spaces. A resident ID has 17 digits and a digit or X; a passport
// number 5 to 20 letters and digits.
func NormalizeIDNumber(t IDType, s string) (string, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	switch t {
	case IDCard:
		if len(s) != 18 || !digits(s[:17]) || !(unicode.IsDigit(rune(s[17])) || s[17] == 'X') {
			return "", Errorf(EINVALID, "A resident ID number has 17 digits followed by a digit or X.")
		}
	case Passport:
		if len(s) < 5 || len(s) > 20 {
			return "", Errorf(EINVALID, "A passport number has 5 to 20 letters and digits.")
		}
		for _, r := range s {
			if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z') {
				return "", Errorf(EINVALID, "A passport number has only letters and digits.")
			}
		}
	default:
		return "", Errorf(EINVALID, "ID type must be id_card or passport.")
	}
	return s, nil
}

// MaskIDNumber keeps the first six and last four characters of an ID number:
// enough for a person to recognise their own, not enough to misuse.
func MaskIDNumber(s string) string {
	if len(s) <= 6 {
		return strings.Repeat("*", len(s))
	}
	if len(s) <= 10 {
		return s[:2] + strings.Repeat("*", len(s)-4) + s[len(s)-2:]
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}

// MaskName shows a payer only the last character of a name (张三 -> *三), so
// a public lookup confirms the right person without listing names.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return "*"
	}
	return strings.Repeat("*", len(r)-1) + string(r[len(r)-1])
}

func validPhone(s string) bool {
	s = strings.TrimPrefix(s, "+86")
	return len(s) == 11 && s[0] == '1' && digits(s)
}
