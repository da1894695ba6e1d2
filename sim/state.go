package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/demo"
	"github.com/onecard-campus/onecard/purse"
)

// requestTimeout bounds every device call, so that a run always ends.
const requestTimeout = 15 * time.Second

// State is the simulator's world for one server, kept in a directory:
//
//	kit.json               the server's demo kit as last fetched
//	cards/<UID>.json       each card's purse image, once it was used
//	terminals/<code>.json  each terminal's SAM, sequence, unfinished
//	                       purchase, queued records and blacklist
//	lock                   held while a simulator runs
//
// Saved state is matched to the kit by keys: a card file whose keys are not
// the kit card's, or a terminal file made with another key, belongs to
// another server's demo (a data directory started afresh) and is set aside.
type State struct {
	Server string // base URL
	Dir    string
	Kit    *demo.Kit
	// HTTP is the client of every device call.
	HTTP *http.Client

	cards     []*Card
	byNumber  map[string]*Card
	byUID     map[purse.UID]*Card
	terminals map[string]demo.KitTerminal

	mu     sync.Mutex
	pos    map[string]*POS
	notes  []string
	unlock func()
}

// Open opens the simulator's state for server in dir (DefaultStateDir if
// empty), creating it, and takes its lock until Close. It fetches the
// server's kit: on first use it must succeed; later the saved kit serves
// when the server does not hand it over (no longer --demo, or not on this
// machine), and a kit that changed replaces the saved one.
func Open(ctx context.Context, server, dir string) (*State, error) {
	base, err := ServerURL(server)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		if dir, err = DefaultStateDir(base); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "cards"), filepath.Join(dir, "terminals")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("unable to create the simulator state: %w", err)
		}
	}
	unlock, err := lockDir(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	s := &State{Server: base, Dir: dir, unlock: unlock, pos: map[string]*POS{}, HTTP: newHTTPClient()}
	if err := s.loadKit(ctx); err != nil {
		unlock()
		return nil, err
	}
	if err := s.loadCards(); err != nil {
		unlock()
		return nil, err
	}
	s.terminals = map[string]demo.KitTerminal{}
	for _, t := range s.Kit.Terminals {
		s.terminals[t.Code] = t
	}
	return s, nil
}

// newHTTPClient keeps a connection per POS alive across taps.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
	return &http.Client{Timeout: requestTimeout, Transport: tr}
}

// Close saves the terminals whose queue was uploaded since their last
// save and releases the state directory's lock.
func (s *State) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, p := range s.pos {
		if p.dirty {
			errs = append(errs, p.save())
		}
	}
	s.unlock()
	s.unlock = func() {}
	s.HTTP.CloseIdleConnections()
	return errors.Join(errs...)
}

// loadKit fetches the server's kit, falling back to the saved one.
func (s *State) loadKit(ctx context.Context) error {
	path := filepath.Join(s.Dir, "kit.json")
	var saved *demo.Kit
	if data, err := os.ReadFile(path); err == nil {
		if saved, err = demo.ParseKit(data); err != nil {
			s.note("The saved kit %s is unreadable (%v); fetching it again.", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	kit, err := Fetch(ctx, s.Server)
	switch {
	case err != nil && saved == nil:
		return err
	case err != nil:
		s.note("Using the kit saved in %s: %v.", s.Dir, err)
		s.Kit = saved
		return nil
	}
	s.Kit = kit
	if saved != nil && sameKit(saved, kit) {
		return nil
	}
	if saved != nil {
		s.note("The server's demo kit changed; saved cards and terminals that no longer match it start afresh.")
	}
	if err := writeJSON(path, kit); err != nil {
		return fmt.Errorf("unable to save the kit: %w", err)
	}
	return nil
}

func sameKit(a, b *demo.Kit) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// loadCards opens every card of the kit as last saved.
func (s *State) loadCards() error {
	s.byNumber, s.byUID = map[string]*Card{}, map[purse.UID]*Card{}
	reset := 0
	for _, kc := range s.Kit.Cards {
		c, wasReset, err := openCard(filepath.Join(s.Dir, "cards"), kc)
		if err != nil {
			return err
		}
		if wasReset {
			reset++
		}
		s.cards = append(s.cards, c)
		s.byNumber[c.Number()] = c
		s.byUID[c.Purse.UID] = c
	}
	if reset > 0 {
		s.note("%d saved card(s) did not match the kit (another server's demo) and start as issued.", reset)
	}
	return nil
}

// note records something worth telling; callers hold s.mu or own s alone.
func (s *State) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// TakeNotes returns what the state found worth telling since the last
// call: a kit refreshed or taken from the cache, saved state set aside.
func (s *State) TakeNotes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes := s.notes
	s.notes = nil
	return notes
}

// Cards returns the kit's cards, in card number order.
func (s *State) Cards() []*Card { return s.cards }

// Card finds a card by its number (as printed or as stored: SN:000101 is
// 101) or its UID.
func (s *State) Card(id string) (*Card, error) {
	id = strings.TrimSpace(id)
	if c := s.byNumber[id]; c != nil {
		return c, nil
	}
	if n, err := onecard.NormalizeCardNumber(id); err == nil && s.byNumber[n] != nil {
		return s.byNumber[n], nil
	}
	if uid, err := purse.ParseUID(id); err == nil && s.byUID[uid] != nil {
		return s.byUID[uid], nil
	}
	return nil, fmt.Errorf("card %q is not one of the demo kit's %d cards", id, len(s.cards))
}

// cardByUID finds a card by UID, nil if it is not in the kit.
func (s *State) cardByUID(uid purse.UID) *Card { return s.byUID[uid] }

// Terminals returns the kit's terminals of a kind, by code.
func (s *State) Terminals(kind onecard.TerminalKind) []demo.KitTerminal {
	var out []demo.KitTerminal
	for _, t := range s.Kit.Terminals {
		if t.Kind == kind {
			out = append(out, t)
		}
	}
	return out
}
