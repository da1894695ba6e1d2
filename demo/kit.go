package demo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/purse"
	"github.com/onecard-campus/onecard/store"
)

// KitFile is the demo kit's file name in serve's data directory.
const KitFile = "demo-kit.json"

// Kit is what `onecard sim` needs to play the demo school's terminals and
// cardholders: every terminal's signing key and every card's purse image,
// card keys included. With it anyone can sign as the school's terminals and
// make purchase records whose TACs verify, so it exists only for the demo:
// serve writes it only with --demo, readable by its owner only, and serves
// it only to clients on its own machine (KitHandler).
type Kit struct {
	School    string        `json:"school"` // the school code terminals sign with
	Terminals []KitTerminal `json:"terminals"`
	Cards     []KitCard     `json:"cards"`
}

// KitTerminal is a demo terminal as its firmware is provisioned.
type KitTerminal struct {
	Code     string               `json:"code"`
	Kind     onecard.TerminalKind `json:"kind"`
	Merchant string               `json:"merchant,omitempty"` // the merchant's code; none for the card centre's machines
	Key      string               `json:"key"`                // the signing key, hex
}

// KitCard is a demo card as the card centre issued it: its purse image,
// personalized by the school's issuer with the card's UID, number and the
// school's purse ceiling. It is empty: the cardholder's deposit waits in
// the transition balance and reaches the card as a claim at its first
// online tap. PIN is the holder's initial consumption PIN, which the
// simulator types when a POS asks for it, as the holder would.
type KitCard struct {
	Card *purse.Card `json:"card"`
	PIN  string      `json:"pin,omitempty"`
}

// BuildKit makes the demo school's kit from the store. Everything in it
// comes from there: the terminal keys are sealed in the database under the
// store secret, which serve holds, and a card's image is a function of the
// school's issuer and the card. So a lost kit file is never a lost key:
// the next start writes the same kit again, nothing is re-keyed. Disabled
// terminals and cards whose UID is not a purse UID are left out.
func BuildKit(ctx context.Context, db *store.DB) (*Kit, error) {
	school, err := db.SchoolByCode(ctx, SchoolCode)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	kit := &Kit{School: school.Code}
	if kit.Terminals, err = kitTerminals(ctx, db, school); err != nil {
		return nil, err
	}
	if kit.Cards, err = kitCards(ctx, db, school); err != nil {
		return nil, err
	}
	return kit, nil
}

// kitTerminals returns the school's enabled terminals with their keys, by code.
func kitTerminals(ctx context.Context, db *store.DB, school *onecard.School) ([]KitTerminal, error) {
	ms, err := db.Merchants(ctx, school.ID)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	merchantCodes := map[int64]string{}
	for _, m := range ms {
		merchantCodes[m.ID] = m.Code
	}
	ts, err := db.Terminals(ctx, school.ID)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	out := []KitTerminal{}
	for _, t := range ts {
		if t.Disabled {
			continue
		}
		_, key, err := db.TerminalKey(ctx, school.Code, t.Code)
		if err != nil {
			return nil, fmt.Errorf("demo: the key of terminal %s: %w", t.Code, err)
		}
		out = append(out, KitTerminal{Code: t.Code, Kind: t.Kind, Merchant: merchantCodes[t.MerchantID], Key: hex.EncodeToString(key)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// kitCards personalizes the active card of every cardholder of the school,
// by card number.
func kitCards(ctx context.Context, db *store.DB, school *onecard.School) ([]KitCard, error) {
	issuer, err := db.PurseIssuer(ctx, school.ID)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	pins := map[string]string{}
	for _, p := range people() {
		pins[normalized(p)] = onecard.InitialPIN(school.Settings.InitialPIN, p.IDNumber)
	}
	out := []KitCard{}
	for offset := 0; ; offset += 500 {
		page, total, err := db.FindCardholders(ctx, onecard.CardholderFilter{SchoolID: school.ID, Offset: offset, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		for _, h := range page {
			c, err := db.ActiveCard(ctx, h.ID)
			if onecard.ErrorCode(err) == onecard.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			uid, err := purse.ParseUID(c.UID)
			if err != nil {
				continue // an operator's UID of another length: not a purse card
			}
			out = append(out, KitCard{Card: issuer.Personalize(uid, h.Number, school.Settings.PurseCeiling), PIN: pins[h.Number]})
		}
		if len(page) == 0 || offset+len(page) >= total {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Card.Number < out[j].Card.Number })
	return out, nil
}

// WriteKit builds the kit and writes it to dir/KitFile, readable by its
// owner only, unless the file already holds exactly this kit: a restart
// with --demo leaves it as it is. It returns the kit and its JSON.
func WriteKit(ctx context.Context, db *store.DB, dir string) (*Kit, []byte, error) {
	kit, err := BuildKit(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.MarshalIndent(kit, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	data = append(data, '\n')
	path := filepath.Join(dir, KitFile)
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		// Whoever made the file, it holds keys: keep it private.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
		return kit, data, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	if err := writePrivate(path, data); err != nil {
		return nil, nil, fmt.Errorf("demo: unable to write the kit: %w", err)
	}
	return kit, data, nil
}

// ParseKit decodes a kit and checks that it can be used: a school, terminal
// keys in hex, a purse image for every card.
func ParseKit(data []byte) (*Kit, error) {
	var kit Kit
	if err := json.Unmarshal(data, &kit); err != nil {
		return nil, fmt.Errorf("demo: the kit is not valid JSON: %w", err)
	}
	if kit.School == "" {
		return nil, errors.New("demo: the kit names no school")
	}
	for _, t := range kit.Terminals {
		if k, err := hex.DecodeString(t.Key); err != nil || len(k) == 0 || t.Code == "" {
			return nil, fmt.Errorf("demo: kit terminal %q has no usable code and key", t.Code)
		}
	}
	for i, c := range kit.Cards {
		if c.Card == nil || c.Card.Number == "" {
			return nil, fmt.Errorf("demo: kit card %d has no purse image", i)
		}
	}
	return &kit, nil
}

// writePrivate replaces path with data atomically (a temporary file in the
// same directory, then a rename), mode 0600, creating the directory 0700.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
