package onecard

import "time"

// Role is what an operator may do. Every operator action is audited.
type Role string

// Operator roles.
const (
	RoleAdmin    Role = "admin"    // everything, including schools, settings and operators
	RoleOperator Role = "operator" // service hall: cardholders, cards, PIN resets, cash deposits
	RoleFinance  Role = "finance"  // ledger transfers, corrections, checks
	RoleAuditor  Role = "auditor"  // read-only
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOperator, RoleFinance, RoleAuditor:
		return true
	}
	return false
}

// Operator is a card-centre, finance or IT staff member using the console.
// SchoolID 0 means the operator works for every school of the deployment.
type Operator struct {
	ID                 int64     `json:"id"`
	Username           string    `json:"username"`
	Name               string    `json:"name"`
	Role               Role      `json:"role"`
	SchoolID           int64     `json:"school_id,omitempty"`
	MustChangePassword bool      `json:"must_change_password"`
	Disabled           bool      `json:"disabled"`
	CreatedAt          time.Time `json:"created_at"`
}

// CanAccessSchool reports whether the operator's scope covers the school.
func (o *Operator) CanAccessSchool(schoolID int64) bool {
	return o.SchoolID == 0 || o.SchoolID == schoolID
}

// Merchant is a business that receives payments: a canteen, the bath house,
// the network centre, the card centre itself. Each has a ledger account.
type Merchant struct {
	ID        int64     `json:"id"`
	SchoolID  int64     `json:"school_id"`
	CampusID  int64     `json:"campus_id,omitempty"`
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // canteen, bath, network, card_center, shop
	Account   int64     `json:"account"`
	CreatedAt time.Time `json:"created_at"`
}

// AuditEntry records one operator or cardholder action that changed state.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorType  string    `json:"actor_type"` // operator, cardholder, system
	ActorID    int64     `json:"actor_id"`
	Action     string    `json:"action"` // card.report_lost, pin.reset, ...
	SchoolID   int64     `json:"school_id,omitempty"`
	TargetType string    `json:"target_type,omitempty"`
	TargetID   int64     `json:"target_id,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}
