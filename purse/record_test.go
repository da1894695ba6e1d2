package purse_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/onecard-campus/onecard/purse"
)

// genuine returns the issuer and a genuine purchase record: card A, balance
// 50.00, pays 12.50 at termID as sequence 7.
func genuine(t testing.TB) (*purse.Issuer, *purse.Record) {
	t.Helper()
	is := issuer(t, secret)
	return is, purchase(t, is.SAM(termID), newCard(t, is, uidA, 5000), 1250, 7, when)
}

// TestVerifyRecordBad: every way an uploaded record can differ from what the
// card signed.
func TestVerifyRecordBad(t *testing.T) {
	is, rec := genuine(t)
	if err := is.VerifyRecord(rec); err != nil {
		t.Fatalf("genuine record: %v", err)
	}
	cases := []struct {
		name   string
		is     *purse.Issuer
		mutate func(r *purse.Record)
		want   error
	}{
		{name: "wrong card", mutate: func(r *purse.Record) { r.UID = uidB }, want: purse.ErrBadTAC},
		{name: "wrong school master", is: issuer(t, secret2), want: purse.ErrBadTAC},
		{name: "changed amount, balances adjusted", mutate: func(r *purse.Record) { r.Amount--; r.BalanceBefore-- }, want: purse.ErrBadTAC},
		{name: "changed amount only", mutate: func(r *purse.Record) { r.Amount-- }, want: purse.ErrBadRecord},
		{name: "changed terminal id", mutate: func(r *purse.Record) { r.TerminalID = termID2 }, want: purse.ErrBadTAC},
		{name: "changed terminal sequence", mutate: func(r *purse.Record) { r.TerminalSeq++ }, want: purse.ErrBadTAC},
		{name: "changed time", mutate: func(r *purse.Record) { r.Time = r.Time.Add(time.Second) }, want: purse.ErrBadTAC},
		{name: "changed counter", mutate: func(r *purse.Record) { r.Counter++ }, want: purse.ErrBadTAC},
		{name: "changed balances", mutate: func(r *purse.Record) { r.BalanceBefore += 1000; r.BalanceAfter += 1000 }, want: purse.ErrBadTAC},
		{name: "changed balance after", mutate: func(r *purse.Record) { r.BalanceAfter++ }, want: purse.ErrBadRecord},
		{name: "changed balance before", mutate: func(r *purse.Record) { r.BalanceBefore++ }, want: purse.ErrBadRecord},
		{name: "type load", mutate: func(r *purse.Record) { r.Type = purse.TypeLoad }, want: purse.ErrBadRecord},
		{name: "type load, balances swapped", mutate: func(r *purse.Record) {
			r.Type, r.TerminalSeq, r.BalanceBefore, r.BalanceAfter = purse.TypeLoad, 0, r.BalanceAfter, r.BalanceBefore
		}, want: purse.ErrBadTAC},
		{name: "a purchase relabelled compound", mutate: func(r *purse.Record) { r.Type = purse.TypeCompound }, want: purse.ErrBadTAC},
		{name: "negative balance after", mutate: func(r *purse.Record) { r.BalanceBefore, r.BalanceAfter = 0, -1250 }, want: purse.ErrBadRecord},
		{name: "zero amount", mutate: func(r *purse.Record) { r.Amount, r.BalanceAfter = 0, r.BalanceBefore }, want: purse.ErrBadRecord},
		{name: "zero counter", mutate: func(r *purse.Record) { r.Counter = 0 }, want: purse.ErrBadRecord},
		{name: "zero TAC", mutate: func(r *purse.Record) { r.TAC = purse.TAC{} }, want: purse.ErrBadTAC},
	}
	for i := range purse.MACSize {
		cases = append(cases, struct {
			name   string
			is     *purse.Issuer
			mutate func(r *purse.Record)
			want   error
		}{name: "TAC byte " + string(rune('0'+i)) + " flipped", mutate: func(r *purse.Record) { r.TAC = flip(r.TAC, i) }, want: purse.ErrBadTAC})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := *rec
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			v := is
			if tt.is != nil {
				v = tt.is
			}
			if err := v.VerifyRecord(&r); !errors.Is(err, tt.want) {
				t.Errorf("VerifyRecord: %v, want %v", err, tt.want)
			}
		})
	}
	if err := is.VerifyRecord(nil); !errors.Is(err, purse.ErrBadRecord) {
		t.Errorf("VerifyRecord(nil): %v, want ErrBadRecord", err)
	}
}

// TestRecordJSON: a record survives the upload encoding and still verifies.
func TestRecordJSON(t *testing.T) {
	is, rec := genuine(t)
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got purse.Record
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := is.VerifyRecord(&got); err != nil {
		t.Errorf("VerifyRecord after JSON %s: %v", b, err)
	}
	want := `{"type":"purchase","uid":"041A2B3C4D5E6F80","number":"20256F80","counter":1,` +
		`"terminal_id":1108101562375,"terminal_seq":7,"amount":1250,"balance_before":5000,"balance_after":3750,` +
		`"time":"2025-09-01T11:45:00Z","tac":"661b4036310c5f4f"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

// FuzzVerifyRecord: records made of arbitrary fields never verify unless they
// are the genuine one, and never panic.
func FuzzVerifyRecord(f *testing.F) {
	is, rec := genuine(f)
	add := func(r *purse.Record) {
		f.Add(byte(r.Type), r.UID[:], r.Counter, uint64(r.TerminalID), r.TerminalSeq, r.Amount,
			r.BalanceBefore, r.BalanceAfter, r.Time.Unix(), r.TAC[:])
	}
	add(rec)
	r := *rec
	r.TAC = flip(r.TAC, 0)
	add(&r)
	r = *rec
	r.Type, r.TerminalSeq, r.BalanceBefore, r.BalanceAfter = purse.TypeLoad, 0, r.BalanceAfter, r.BalanceBefore
	add(&r)
	f.Add(byte(0), []byte{}, uint16(0), uint64(0), uint32(0), int64(0), int64(0), int64(0), int64(0), []byte{})
	f.Add(byte(2), []byte{0xff}, uint16(65535), ^uint64(0), ^uint32(0), int64(1<<62), int64(1<<63-1), int64(-1<<63), int64(-1<<63), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, typ byte, uid []byte, counter uint16, term uint64, seq uint32,
		amount, before, after, unix int64, tac []byte) {
		r := &purse.Record{Type: purse.Type(typ), Counter: counter, TerminalID: purse.TerminalID(term),
			TerminalSeq: seq, Amount: amount, BalanceBefore: before, BalanceAfter: after, Time: time.Unix(unix, 0)}
		copy(r.UID[:], uid)
		copy(r.TAC[:], tac)
		err := is.VerifyRecord(r)
		isGenuine := r.Type == rec.Type && r.UID == rec.UID && r.Counter == rec.Counter &&
			r.TerminalID == rec.TerminalID && r.TerminalSeq == rec.TerminalSeq && r.Amount == rec.Amount &&
			r.BalanceBefore == rec.BalanceBefore && r.BalanceAfter == rec.BalanceAfter &&
			r.Time.Unix() == rec.Time.Unix() && r.TAC == rec.TAC
		if err == nil && !isGenuine {
			t.Fatalf("a made-up record verifies: %+v", r)
		}
		if err != nil && isGenuine {
			t.Fatalf("the genuine record does not verify: %v", err)
		}
	})
}

// BenchmarkVerifyRecord is the server's cost per uploaded record: derive the
// card's TAC key from the UID and recompute the TAC.
func BenchmarkVerifyRecord(b *testing.B) {
	is, rec := genuine(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := is.VerifyRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRecordParallel is the same on every core, as a batch upload
// handler would run it.
func BenchmarkVerifyRecordParallel(b *testing.B) {
	is, rec := genuine(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := is.VerifyRecord(rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
