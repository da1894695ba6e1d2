package clientaddr_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onecard-campus/onecard/clientaddr"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name, trusted, peer, forwarded, want string
	}{
		{"no proxy trusted: the peer", "", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"a trusted proxy: the address it forwarded", "10.0.0.0/8", "10.0.0.2:443", "198.51.100.1", "198.51.100.1"},
		{"two trusted proxies", "10.0.0.0/8", "10.0.0.2:443", "198.51.100.1, 10.0.0.5", "198.51.100.1"},
		{"what the client wrote left of its own address", "10.0.0.0/8", "10.0.0.2:443", "192.0.2.66, 198.51.100.1", "198.51.100.1"},
		{"a peer that is no trusted proxy", "10.0.0.0/8", "198.51.100.9:5000", "192.0.2.66", "198.51.100.9"},
		{"a trusted proxy forwarding nothing", "10.0.0.0/8", "10.0.0.2:443", "", "10.0.0.2"},
		{"only trusted addresses forwarded", "10.0.0.0/8", "10.0.0.2:443", "10.0.0.9", "10.0.0.2"},
		{"garbage forwarded", "10.0.0.0/8", "10.0.0.2:443", "not an address", "10.0.0.2"},
		{"IPv6 proxy, IPv4 client", "::1, 127.0.0.1", "[::1]:443", "198.51.100.1", "198.51.100.1"},
		{"IPv4 in IPv6 peer", "", "[::ffff:203.0.113.7]:5000", "", "203.0.113.7"},
		{"a single trusted address", "192.0.2.1", "192.0.2.1:443", "198.51.100.1", "198.51.100.1"},
		{"a forwarded IPv4 address written as IPv6", "10.0.0.0/8", "10.0.0.2:443", "::ffff:198.51.100.1", "198.51.100.1"},
		{"a forwarded IPv6 address with a zone", "10.0.0.0/8", "10.0.0.2:443", "fe80::1%eth0", "fe80::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := clientaddr.New(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.peer
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			if got := r.Resolve(req); got != tt.want {
				t.Errorf("Resolve = %q, want %q", got, tt.want)
			}
			var seen string
			r.Handler(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
				seen = clientaddr.Of(req.Context(), "192.0.2.200:1")
			})).ServeHTTP(httptest.NewRecorder(), req)
			if seen != tt.want {
				t.Errorf("Of after Handler = %q, want %q", seen, tt.want)
			}
		})
	}
}

func TestNewRefusesWhatIsNoAddress(t *testing.T) {
	for _, list := range []string{"10.0.0.0/33", "proxy.example.edu", "10.0.0.1, nonsense"} {
		if _, err := clientaddr.New(list); err == nil {
			t.Errorf("New(%q) accepted it", list)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := clientaddr.Key(tt.addr); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestOfWithoutHandler(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := clientaddr.Of(req.Context(), "[2001:db8::5]:443"); got != "2001:db8::5" {
		t.Errorf("Of = %q, want the peer", got)
	}
}
