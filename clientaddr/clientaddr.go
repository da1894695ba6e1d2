// Package clientaddr tells which address a request came from, for the rate
// limits of logins and public card lookups and for the payer's address a
// WeChat H5 payment checks.
//
// By default the address is the TCP peer's: X-Forwarded-For is a header the
// caller writes, and a limit keyed on it limits nothing. A school that runs
// OneCard behind reverse proxies names them (`serve --trusted-proxies`);
// a request whose peer is one of them is then attributed to the rightmost
// X-Forwarded-For address that is not a trusted proxy, the first hop no
// proxy of the school's vouches for. Reading that header right is what
// realclientip-go exists for; it is used here rather than parsed by hand.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/realclientip/realclientip-go"
)

// Resolver finds a request's client address. The zero Resolver and a nil
// one trust no proxy.
type Resolver struct {
	trusted []net.IPNet
	header  realclientip.Strategy
}

// New returns a Resolver trusting the proxies in list: addresses or CIDR
// ranges separated by commas or spaces. An empty list trusts none.
func New(list string) (*Resolver, error) {
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return &Resolver{}, nil
	}
	nets, err := realclientip.AddressesAndRangesToIPNets(fields...)
	if err != nil {
		return nil, fmt.Errorf("trusted proxies %q: %w", list, err)
	}
	s, err := realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", nets)
	if err != nil {
		return nil, fmt.Errorf("trusted proxies %q: %w", list, err)
	}
	return &Resolver{trusted: nets, header: s}, nil
}

// Resolve returns the address req came from: its peer's, or for a peer
// that is a trusted proxy the address the proxies forwarded (the peer's
// when they forwarded none).
func (r *Resolver) Resolve(req *http.Request) string {
	peer := Peer(req.RemoteAddr)
	if r == nil || r.header == nil || !r.isTrusted(peer) {
		return peer
	}
	if ip := r.header.ClientIP(req.Header, req.RemoteAddr); ip != "" {
		return canonical(ip)
	}
	return peer
}

func (r *Resolver) isTrusted(addr string) bool {
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	for _, n := range r.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

type key struct{}

// Handler resolves every request's address once and keeps it in the
// request's context for Of.
func (r *Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), key{}, r.Resolve(req))))
	})
}

// Of returns the address a Handler resolved for the request ctx belongs
// to, or the peer's in remoteAddr when no Handler ran.
func Of(ctx context.Context, remoteAddr string) string {
	if a, ok := ctx.Value(key{}).(string); ok {
		return a
	}
	return Peer(remoteAddr)
}

// Peer returns the IP address of a host:port peer address, IPv4 addresses
// unmapped from IPv6.
func Peer(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return canonical(host)
}

// canonical writes an IP address one way: IPv4 unmapped from IPv6, no
// zone. What is no address is returned as it is.
func canonical(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return host
}

// Key reduces an address to what a rate limit counts: the IPv4 address,
// or the /64 of an IPv6 one, since one host is handed a whole /64 and
// could otherwise take a fresh address per request.
func Key(addr string) string {
	a, err := netip.ParseAddr(canonical(addr))
	if err != nil {
		return addr
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
