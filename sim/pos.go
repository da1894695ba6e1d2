package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/purse"
)

// POS is a canteen point of sale of the kit as the simulator plays it: a
// device.Client signing as the terminal, its SAM, and the purse.Terminal
// with its sequence and unfinished purchase, saved after every step with
// the records it has not uploaded yet. Online it asks the server before it
// charges a card and uploads each record at once; offline (Offline set) it
// charges cards alone and keeps the records until Upload. A POS is not safe
// for concurrent use: like the machine, it serves one card at a time.
type POS struct {
	Code     string
	Merchant string // the merchant's code
	Offline  bool
	Client   *device.Client

	path    string
	file    terminalFile
	dirty   bool // file holds records already uploaded
	blocked map[purse.UID]bool
}

// terminalFile is what a terminal keeps between runs.
type terminalFile struct {
	// KeyID fingerprints the signing key the state was made with: the
	// state of a terminal of another server's demo is not this one's.
	KeyID string         `json:"key_id"`
	SAM   *device.SAMKey `json:"sam,omitempty"`
	// Terminal holds the sequence and the unfinished purchase.
	Terminal  purse.Terminal `json:"terminal"`
	Outbox    []purse.Record `json:"outbox,omitempty"`
	Blacklist blacklistState `json:"blacklist"`
}

// blacklistState is the blacklist as the terminal last pulled it.
type blacklistState struct {
	Version int64       `json:"version"`
	Blocked []purse.UID `json:"blocked,omitempty"`
}

// POS returns the kit's POS with the given code as it was left. On first
// use the terminal is provisioned: its SAM from client.SAM, as a school
// would insert the SAM card, and its blacklist.
func (s *State) POS(ctx context.Context, code string) (*POS, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pos[code]; p != nil {
		return p, nil
	}
	kt, ok := s.terminals[code]
	if !ok {
		return nil, fmt.Errorf("terminal %q is not in the demo kit", code)
	} else if kt.Kind != onecard.TerminalPOS {
		return nil, fmt.Errorf("terminal %s is a %s terminal, not a POS", code, kt.Kind)
	}
	key, err := hex.DecodeString(kt.Key)
	if err != nil {
		return nil, fmt.Errorf("terminal %s: the kit's key is not hex", code)
	}
	p := &POS{Code: code, Merchant: kt.Merchant, path: filepath.Join(s.Dir, "terminals", code+".json"),
		Client: &device.Client{BaseURL: s.Server, School: s.Kit.School, Terminal: code, Key: key, HTTP: s.HTTP}}
	sum := sha256.Sum256(key)
	keyID := hex.EncodeToString(sum[:8])
	err = readJSON(p.path, &p.file)
	if (err != nil && !errors.Is(err, fs.ErrNotExist)) || (err == nil && p.file.KeyID != keyID) {
		if n := len(p.file.Outbox); n > 0 {
			s.note("Terminal %s's saved state was another server's; its %d queued record(s) are dropped.", code, n)
		}
		p.file = terminalFile{}
	}
	p.file.KeyID = keyID
	if p.file.SAM == nil {
		if p.file.SAM, err = p.Client.SAM(ctx); err != nil {
			return nil, fmt.Errorf("unable to provision terminal %s's SAM: %w", code, err)
		}
		if err := p.pullBlacklist(ctx); err != nil {
			return nil, err
		}
	}
	p.file.Terminal.SAM = purse.NewSAM(p.file.SAM.PurchaseMasterKey, p.file.SAM.TerminalID)
	p.blocked = map[purse.UID]bool{}
	for _, uid := range p.file.Blacklist.Blocked {
		p.blocked[uid] = true
	}
	if err := p.save(); err != nil {
		return nil, err
	}
	s.pos[code] = p
	return p, nil
}

// save writes the terminal's state to its file.
func (p *POS) save() error {
	if err := writeJSON(p.path, &p.file); err != nil {
		return fmt.Errorf("unable to save terminal %s: %w", p.Code, err)
	}
	p.dirty = false
	return nil
}

// Pending returns the purchase the POS sent to a card without seeing the
// answer, nil if none.
func (p *POS) Pending() *purse.Pending { return p.file.Terminal.Pending }

// Seq returns the terminal's last transaction sequence.
func (p *POS) Seq() uint32 { return p.file.Terminal.Seq }

// Queued returns how many records wait to be uploaded.
func (p *POS) Queued() int { return len(p.file.Outbox) }

// Tap charges amount fen to the card, online or offline as the POS is.
// Online: the server's check (with pin, the consumption PIN the holder
// types, if the server asks for it; "" when the holder does not know it),
// the claim it offers, the purchase and the record's upload. A refusal is
// a result, not an error; errors are failures (the network, the server,
// a state file) and leave the card and the POS consistent. A card tapped
// again after a purchase whose answer was lost completes that purchase
// instead (TapResult.Recovered).
func (p *POS) Tap(ctx context.Context, c *Card, amount int64, pin string) (r *TapResult, err error) {
	r = &TapResult{Terminal: p.Code, Card: c.Number(), Amount: amount, Offline: p.Offline, Before: c.Purse.Balance}
	defer func() { r.After = c.Purse.Balance }()
	if done, err := p.retry(c, amount, r); err != nil || done {
		if r.Record != nil && !p.Offline {
			p.upload(ctx, r)
		}
		return r, err
	}
	if p.Offline {
		return r, p.tapOffline(c, amount, r)
	}
	return r, p.tapOnline(ctx, c, amount, pin, r)
}

// retry settles the POS's unfinished purchase when its card comes back.
// done means this tap was the retry and made r.Record.
func (p *POS) retry(c *Card, amount int64, r *TapResult) (done bool, err error) {
	t := &p.file.Terminal
	pend := t.Pending
	switch {
	case pend == nil:
		return false, nil
	case pend.UID != c.Purse.UID:
		return false, &PendingError{Terminal: p.Code, Card: pend.Number, Amount: pend.Amount}
	case c.Purse.OfflineCounter == pend.Init.Counter:
		t.Pending = nil // the debit never reached the card: this tap starts afresh
		return false, p.save()
	}
	res, err := t.Tap(c.Purse, amount, now())
	if errors.Is(err, purse.ErrUnresolved) {
		r.Abandoned = res.Abandoned
		return false, p.save()
	} else if err != nil {
		if serr := p.save(); serr != nil {
			return false, serr
		}
		if cardRefusal(err) {
			r.refuse(ByCard, err)
			return true, nil
		}
		return false, err
	}
	if err := p.keep(c, res.Record); err != nil {
		return false, err
	}
	r.Decision, r.Record, r.Recovered = device.Approve, res.Record, res.Recovered
	return true, nil
}

// tapOnline is an online POS's tap after any retry.
func (p *POS) tapOnline(ctx context.Context, c *Card, amount int64, pin string, r *TapResult) error {
	start := now()
	req := &device.TapRequest{Card: device.StateOf(c.Purse), Amount: amount}
	d, err := p.Client.Tap(ctx, req)
	if err != nil {
		return err
	}
	if d.Decision == device.PINRequired && pin != "" {
		r.PINAsked = true
		req.PIN = pin
		if d, err = p.Client.Tap(ctx, req); err != nil {
			return err
		}
	}
	r.Decision, r.Code, r.Message = d.Decision, d.Code, d.Message
	switch d.Decision {
	case device.Approve:
	case device.Refuse:
		r.RefusedBy = ByServer
		if d.LockCard && !c.Purse.Blacklisted {
			c.Purse.Blacklisted, r.LockedCard = true, true
			return c.save()
		}
		return nil
	case device.PINRequired:
		return nil
	default:
		return fmt.Errorf("the server answered %q to a tap", d.Decision)
	}
	if d.Claim > 0 {
		if err := p.claim(ctx, c, d.Claim); err != nil {
			return err
		}
		r.Claim = d.Claim
	}
	rec, err := p.charge(c, amount)
	if cardRefusal(err) {
		r.refuse(ByCard, err)
		return nil
	} else if err != nil {
		return err
	}
	r.Record = rec
	p.upload(ctx, r)
	if r.Upload != nil && r.Upload.Status != device.RecordRejected {
		r.Latency = now().Sub(start)
	}
	return nil
}

// claim loads the transition balance the server offered onto the card:
// the card's MAC1, the issuer's MAC2, the card's TAC confirmed. A load the
// card made but the server never heard confirmed is settled by the server
// at the card's next tap.
func (p *POS) claim(ctx context.Context, c *Card, amount int64) error {
	init, err := c.Purse.InitLoad(amount, p.file.Terminal.SAM.TerminalID())
	if err != nil {
		return fmt.Errorf("the card refused the claim of %s: %w", onecard.Yuan(amount), err)
	}
	a, err := p.Client.AuthorizeLoad(ctx, &device.LoadRequest{Kind: device.LoadClaim, UID: c.Purse.UID, Amount: amount, Init: *init})
	if err != nil {
		return fmt.Errorf("the claim of %s was not authorised: %w", onecard.Yuan(amount), err)
	}
	tac, err := c.Purse.Load(a.MAC2, a.Time)
	if err != nil {
		return fmt.Errorf("the card refused the server's MAC2 for the claim: %w", err)
	}
	if err := c.save(); err != nil {
		return err
	}
	if err := p.Client.ConfirmLoad(ctx, &device.ConfirmLoadRequest{UID: c.Purse.UID, Counter: c.Purse.OnlineCounter, TAC: tac}); err != nil {
		return fmt.Errorf("the claim is on the card but its confirmation failed: %w", err)
	}
	return nil
}

// charge runs the purchase with the card: the POS saves it as pending
// before the card sees it, so that a simulator killed in between completes
// it at the card's next tap instead of charging twice; then the card
// debits, is saved, and the record joins the queue.
func (p *POS) charge(c *Card, amount int64) (*purse.Record, error) {
	t := &p.file.Terminal
	if _, err := t.Begin(c.Purse, amount, now()); err != nil {
		return nil, err
	}
	if err := p.save(); err != nil {
		return nil, err
	}
	rec, err := t.Finish(c.Purse)
	if err != nil {
		if serr := p.save(); serr != nil {
			return nil, serr
		}
		return nil, err
	}
	return rec, p.keep(c, rec)
}

// keep saves the card the record came from, then queues the record: in
// that order, a record never exists for a debit the card does not show.
func (p *POS) keep(c *Card, rec *purse.Record) error {
	if err := c.save(); err != nil {
		return err
	}
	p.file.Outbox = append(p.file.Outbox, *rec)
	return p.save()
}

// upload sends the queue with r's record in it and notes the server's
// verdict on that record.
func (p *POS) upload(ctx context.Context, r *TapResult) {
	ups, err := p.send(ctx, false)
	r.Uploaded, r.UploadErr = ups, err
	for i := range ups {
		if ups[i].Record.TerminalSeq == r.Record.TerminalSeq {
			r.Upload = &ups[i].Result
		}
	}
}

// pullBlacklist applies the blacklist changes since the last pull.
func (p *POS) pullBlacklist(ctx context.Context) error {
	d, err := p.Client.Blacklist(ctx, p.file.Blacklist.Version)
	if err != nil {
		return fmt.Errorf("terminal %s could not pull the blacklist: %w", p.Code, err)
	}
	blocked := map[purse.UID]bool{}
	for _, uid := range p.file.Blacklist.Blocked {
		blocked[uid] = true
	}
	for _, e := range d.Entries {
		uid, err := purse.ParseUID(e.UID)
		if err != nil {
			continue // not a purse card
		}
		if e.Blocked {
			blocked[uid] = true
		} else {
			delete(blocked, uid)
		}
	}
	p.blocked = blocked
	p.file.Blacklist.Version = d.Version
	p.file.Blacklist.Blocked = p.file.Blacklist.Blocked[:0]
	for uid := range blocked {
		p.file.Blacklist.Blocked = append(p.file.Blacklist.Blocked, uid)
	}
	slices.SortFunc(p.file.Blacklist.Blocked, func(a, b purse.UID) int { return slices.Compare(a[:], b[:]) })
	return p.save()
}
