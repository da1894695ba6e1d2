package onecard

import (
	"fmt"
	"time"
)

// School is one university (or one campus group that runs its own card
// centre) served by a deployment. A deployment may serve many.
type School struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"` // short unique code used at login, e.g. "nankai"
	Name      string    `json:"name"`
	Settings  Settings  `json:"settings"`
	Campuses  []Campus  `json:"campuses"`
	CreatedAt time.Time `json:"created_at"`
}

// Campus is a site of a school; terminals and merchants belong to one.
type Campus struct {
	ID       int64  `json:"id"`
	SchoolID int64  `json:"school_id"`
	Name     string `json:"name"`
}

// InitialPINRule says how a new cardholder's PINs are derived from the ID
// document number. Seeds disagree, so it is a per-school setting.
type InitialPINRule string

// Initial PIN rules.
const (
	// PINLastSixDigits takes the last six digits of the number's digit part,
	// so a trailing X shifts the window by one (seeds 001, 003). Default.
	PINLastSixDigits InitialPINRule = "last6_digits"
	// PINXAsZero reads X as 0 and takes the last six characters (seed 004).
	PINXAsZero InitialPINRule = "x_as_zero"
	// PINZeros sets 000000 for everyone (seed 003's other option).
	PINZeros InitialPINRule = "zeros"
)

// MealPeriod is a named slice of the day; the per-meal threshold counts
// purchases within one period of one day.
type MealPeriod struct {
	Name  string `json:"name"`  // breakfast, lunch, dinner, night
	Start string `json:"start"` // "06:00", local school time
	End   string `json:"end"`   // "10:00"; exclusive
}

// Settings are the per-school rules. DefaultSettings follows Nankai (seed 001).
type Settings struct {
	TimeZone            string         `json:"time_zone"`
	ArrearsLimit        int64          `json:"arrears_limit"`         // fen the transition balance may go below zero
	SingleLimit         int64          `json:"single_limit"`          // fen per purchase
	DailyLimit          int64          `json:"daily_limit"`           // fen per day of purchases
	MealPeriods         []MealPeriod   `json:"meal_periods"`          // for the per-meal threshold
	MealPINThreshold    int64          `json:"meal_pin_threshold"`    // cumulative fen per meal above which the consumption PIN is needed
	MismatchThreshold   int64          `json:"mismatch_threshold"`    // fen of card-vs-shadow difference that freezes the card
	ReplacementFee      int64          `json:"replacement_fee"`       // fen charged for a new card
	PurseCeiling        int64          `json:"purse_ceiling"`         // largest balance a card may carry
	InitialPIN          InitialPINRule `json:"initial_pin"`           // how initial PINs are derived
	PINMaxAttempts      int            `json:"pin_max_attempts"`      // wrong tries before a lockout
	PINLockout          Duration       `json:"pin_lockout"`           // how long a lockout lasts
	GraduateFreezeAfter Duration       `json:"graduate_freeze_after"` // graduates' cards freeze this long after leaving (seed 004)
	TopUp               TopUpRules     `json:"top_up"`                // top-ups from the payment channels
}

// DefaultSettings returns the settings of a new school: Nankai's behaviour.
func DefaultSettings() Settings {
	return Settings{
		TimeZone:            "Asia/Shanghai",
		ArrearsLimit:        50_00,
		SingleLimit:         500_00,
		DailyLimit:          2000_00,
		MealPINThreshold:    50_00,
		MismatchThreshold:   10_00,
		ReplacementFee:      15_00,
		PurseCeiling:        1000_00,
		InitialPIN:          PINLastSixDigits,
		PINMaxAttempts:      5,
		PINLockout:          Duration(30 * time.Minute),
		GraduateFreezeAfter: Duration(90 * 24 * time.Hour),
		TopUp:               DefaultTopUpRules(),
		MealPeriods: []MealPeriod{
			{Name: "breakfast", Start: "05:00", End: "10:00"},
			{Name: "lunch", Start: "10:00", End: "15:00"},
			{Name: "dinner", Start: "15:00", End: "20:30"},
			{Name: "night", Start: "20:30", End: "05:00"},
		},
	}
}

// WithDefaults fills rules a school's settings do not have yet with the
// defaults: the top-up rules of a school created before they existed, or
// settings sent without them.
func (s Settings) WithDefaults() Settings {
	if s.TopUp.Min == 0 && s.TopUp.Max == 0 && s.TopUp.DailyLimit == 0 {
		s.TopUp = DefaultTopUpRules()
	}
	return s
}

// Validate checks that settings are usable; it returns EINVALID otherwise.
func (s Settings) Validate() error {
	if _, err := time.LoadLocation(s.TimeZone); err != nil {
		return Errorf(EINVALID, "Unknown time zone %q.", s.TimeZone)
	}
	for name, v := range map[string]int64{
		"arrears_limit": s.ArrearsLimit, "single_limit": s.SingleLimit, "daily_limit": s.DailyLimit,
		"meal_pin_threshold": s.MealPINThreshold, "mismatch_threshold": s.MismatchThreshold,
		"replacement_fee": s.ReplacementFee, "purse_ceiling": s.PurseCeiling,
	} {
		if v < 0 || v > MaxAmount {
			return Errorf(EINVALID, "Setting %s must be between 0 and %d fen.", name, MaxAmount)
		}
	}
	if s.SingleLimit == 0 || s.DailyLimit < s.SingleLimit {
		return Errorf(EINVALID, "The daily limit must be at least the single limit, and both positive.")
	}
	if s.PurseCeiling == 0 {
		return Errorf(EINVALID, "The purse ceiling must be positive.")
	}
	switch s.InitialPIN {
	case PINLastSixDigits, PINXAsZero, PINZeros:
	default:
		return Errorf(EINVALID, "Unknown initial PIN rule %q (want %s, %s or %s).", s.InitialPIN, PINLastSixDigits, PINXAsZero, PINZeros)
	}
	if s.PINMaxAttempts < 1 || s.PINMaxAttempts > 20 {
		return Errorf(EINVALID, "pin_max_attempts must be between 1 and 20.")
	}
	if s.PINLockout < 0 || s.GraduateFreezeAfter < 0 {
		return Errorf(EINVALID, "Durations must not be negative.")
	}
	if err := s.TopUp.Validate(); err != nil {
		return err
	}
	for _, p := range s.MealPeriods {
		if p.Name == "" {
			return Errorf(EINVALID, "Every meal period needs a name.")
		}
		if _, err := clockMinutes(p.Start); err != nil {
			return err
		}
		if _, err := clockMinutes(p.End); err != nil {
			return err
		}
	}
	return nil
}

// Location returns the school's time zone, Asia/Shanghai if unset or unknown.
func (s Settings) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// MealPeriodAt returns the meal period containing t and the start of that
// period's occurrence (so that a night period spanning midnight counts as one
// meal). ok is false when no period covers t.
func (s Settings) MealPeriodAt(t time.Time) (p MealPeriod, start time.Time, ok bool) {
	t = t.In(s.Location())
	now := t.Hour()*60 + t.Minute()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	for _, p := range s.MealPeriods {
		a, _ := clockMinutes(p.Start)
		b, _ := clockMinutes(p.End)
		switch {
		case a <= b && now >= a && now < b:
			return p, day.Add(time.Duration(a) * time.Minute), true
		case a > b && now >= a: // spans midnight, evening part
			return p, day.Add(time.Duration(a) * time.Minute), true
		case a > b && now < b: // spans midnight, morning part: began yesterday
			return p, day.AddDate(0, 0, -1).Add(time.Duration(a) * time.Minute), true
		}
	}
	return MealPeriod{}, time.Time{}, false
}

// DayStart returns midnight of t's day in the school's time zone: daily
// limits count from there.
func (s Settings) DayStart(t time.Time) time.Time {
	t = t.In(s.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func clockMinutes(hhmm string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); n != 2 || err != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(hhmm) != 5 {
		return 0, Errorf(EINVALID, "%q is not a time of day like 07:30.", hhmm)
	}
	return h*60 + m, nil
}
