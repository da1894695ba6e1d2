package demo

import (
	"context"
	"fmt"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/store"
)

// POSPerCanteen is how many POS each demo canteen has: two canteens make
// the 120 POS a default `onecard sim lunch` drives.
const POSPerCanteen = 60

// terminalSpec is a demo terminal: its code, kind, name, campus and the code
// of the merchant it belongs to ("" for the card centre's machines, which
// belong to no merchant).
type terminalSpec struct {
	code     string
	kind     onecard.TerminalKind
	name     string
	campus   string
	merchant string
}

// terminals lists the demo school's terminals: the canteens' POS, the bath
// house's water controllers and the card centre's kiosks, cash and
// replacement machines, one of each of those per campus where it makes sense.
func terminals() []terminalSpec {
	var out []terminalSpec
	for _, c := range []struct{ code, name, merchant, campus string }{
		{"canteen1", "第一食堂", "canteen-1", campusNorth},
		{"canteen2", "第二食堂", "canteen-2", campusSouth},
	} {
		for n := 1; n <= POSPerCanteen; n++ {
			out = append(out, terminalSpec{fmt.Sprintf("%s-pos-%02d", c.code, n), onecard.TerminalPOS,
				fmt.Sprintf("%s %d号机", c.name, n), c.campus, c.merchant})
		}
	}
	for n := 1; n <= 4; n++ {
		out = append(out, terminalSpec{fmt.Sprintf("bath-%02d", n), onecard.TerminalBath,
			fmt.Sprintf("学生浴室 控水器 %02d", n), campusSouth, "bath"})
	}
	for n, campus := range []string{campusNorth, campusSouth} {
		out = append(out,
			terminalSpec{fmt.Sprintf("kiosk-%02d", n+1), onecard.TerminalKiosk, "圈存机 " + campus, campus, ""},
			terminalSpec{fmt.Sprintf("cash-%02d", n+1), onecard.TerminalCash, "现金充值机 " + campus, campus, ""})
	}
	return append(out, terminalSpec{"replacement-01", onecard.TerminalReplacement, "自助补卡机 " + campusNorth, campusNorth, ""})
}

// ensureTerminals registers the demo terminals the school does not have
// yet. Their keys are not kept here: the store seals them with its secret,
// and the kit (kit.go) reads them back from there.
func ensureTerminals(ctx context.Context, db *store.DB, school *onecard.School) error {
	have, err := db.Terminals(ctx, school.ID)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	codes := map[string]bool{}
	for _, t := range have {
		codes[t.Code] = true
	}
	ms, err := db.Merchants(ctx, school.ID)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	merchantIDs := map[string]int64{}
	for _, m := range ms {
		merchantIDs[m.Code] = m.ID
	}
	campuses := map[string]int64{}
	for _, c := range school.Campuses {
		campuses[c.Name] = c.ID
	}
	for _, spec := range terminals() {
		if codes[spec.code] {
			continue
		}
		t := &onecard.Terminal{SchoolID: school.ID, CampusID: campuses[spec.campus], MerchantID: merchantIDs[spec.merchant],
			Kind: spec.kind, Code: spec.code, Name: spec.name}
		if _, err := db.CreateTerminal(ctx, t); err != nil {
			return fmt.Errorf("demo: unable to register terminal %s: %w", spec.code, err)
		}
	}
	return nil
}
