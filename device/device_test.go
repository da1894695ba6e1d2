package device_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/onecard-campus/onecard"
	"github.com/onecard-campus/onecard/device"
	"github.com/onecard-campus/onecard/store"
	"github.com/onecard-campus/onecard/store/storetest"
)

var ctx = context.Background()

// world is a school with a POS registered, served by the device API.
type world struct {
	db     *store.DB
	srv    *httptest.Server
	school *onecard.School
	pos    *onecard.Terminal
	key    []byte
	client *device.Client
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	w := &world{db: db, school: &onecard.School{Code: "nankai", Name: "南开大学"}}
	if err := db.CreateSchool(ctx, w.school); err != nil {
		t.Fatal(err)
	}
	w.pos = &onecard.Terminal{SchoolID: w.school.ID, Kind: onecard.TerminalPOS, Code: "pos-1", Name: "一食堂 1号机"}
	var err error
	if w.key, err = db.CreateTerminal(ctx, w.pos); err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(device.New(device.Config{Terminals: db, Cards: db}))
	t.Cleanup(w.srv.Close)
	w.client = &device.Client{BaseURL: w.srv.URL, School: "nankai", Terminal: "pos-1", Key: w.key}
	return w
}

func TestSignedRequestsAreAcceptedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		if who, err := w.client.Whoami(ctx); err != nil || who.Terminal.ID != w.pos.ID {
			t.Fatalf("whoami: %+v %v", who, err)
		}
		sign := func(r *http.Request, key []byte, at time.Time) *http.Request {
			if err := device.Sign(r, "nankai", "pos-1", key, at); err != nil {
				t.Fatal(err)
			}
			return r
		}
		get := func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/device/v1/blacklist?since=0", nil)
			return r
		}
		wrongKey := bytes.Repeat([]byte{7}, 32)
		for _, c := range []struct {
			name string
			req  func() *http.Request
		}{
			{"unsigned", get},
			{"wrong key", func() *http.Request { return sign(get(), wrongKey, time.Now()) }},
			{"query changed after signing", func() *http.Request {
				r := sign(get(), w.key, time.Now())
				r.URL.RawQuery = "since=5"
				return r
			}},
			{"body changed after signing", func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/device/v1/terminal", bytes.NewReader([]byte(`{}`)))
				sign(r, w.key, time.Now())
				r.Body, r.ContentLength = http.NoBody, 0
				return r
			}},
			{"stale timestamp", func() *http.Request { return sign(get(), w.key, time.Now().Add(-device.Skew-time.Minute)) }},
			{"timestamp in the future", func() *http.Request { return sign(get(), w.key, time.Now().Add(device.Skew+time.Minute)) }},
			{"another terminal's name", func() *http.Request {
				r := sign(get(), w.key, time.Now())
				r.Header.Set(device.HeaderTerminal, "pos-2")
				return r
			}},
			{"bad signature encoding", func() *http.Request {
				r := sign(get(), w.key, time.Now())
				r.Header.Set(device.HeaderSignature, "zz")
				return r
			}},
		} {
			resp, err := http.DefaultClient.Do(c.req())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", c.name, resp.StatusCode)
			}
		}

		// The same signed request twice: the second is a replay.
		r := sign(get(), w.key, time.Now())
		replay := r.Clone(ctx)
		for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
			req := r
			if i == 1 {
				req = replay
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("request %d of the same signed request: status %d, want %d", i+1, resp.StatusCode, want)
			}
		}

		if _, err := db.SetTerminalDisabled(ctx, w.pos.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.client.Whoami(ctx); onecard.ErrorCode(err) != onecard.EUNAUTHORIZED {
			t.Errorf("disabled terminal: %v, want unauthorized", err)
		}
	})
}

func TestTerminalPullsTheBlacklistByDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var cards []*onecard.Card
		for i := 0; i < 3; i++ {
			h, err := db.CreateCardholder(ctx, &onecard.NewCardholder{SchoolID: w.school.ID, Number: "202500" + strconv.Itoa(i),
				Name: "学生", Kind: onecard.Student, IDType: onecard.IDCard, IDNumber: "11010519900307123" + strconv.Itoa(i)})
			if err != nil {
				t.Fatal(err)
			}
			c, err := db.IssueCard(ctx, h.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			cards = append(cards, c)
		}
		first, err := w.client.Blacklist(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ReportLost(ctx, cards[1].ID); err != nil {
			t.Fatal(err)
		}
		delta, err := w.client.Blacklist(ctx, first.Version)
		if err != nil {
			t.Fatal(err)
		}
		if len(delta.Entries) != 1 || delta.Entries[0].UID != cards[1].UID || !delta.Entries[0].Blocked || delta.Version <= first.Version {
			t.Fatalf("delta after a loss report: %+v, want only card %s blocked", delta, cards[1].UID)
		}
		if _, err := db.Unlock(ctx, cards[1].ID); err != nil {
			t.Fatal(err)
		}
		again, err := w.client.Blacklist(ctx, delta.Version)
		if err != nil || len(again.Entries) != 1 || again.Entries[0].Blocked {
			t.Fatalf("delta after unlock: %+v %v, want the card unblocked", again, err)
		}
		if _, err := w.client.Blacklist(ctx, -1); onecard.ErrorCode(err) != onecard.EINVALID {
			t.Errorf("negative version: %v, want invalid", err)
		}
	})
}
