package web

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/onecard-campus/onecard/clientaddr"
)

// limiter allows n requests per period per client address: login attempts
// here (the PIN lockout protects each card; this protects the server from
// someone trying many cards).
type limiter struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	by    map[string]*rate.Limiter
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{every: rate.Every(per / time.Duration(n)), burst: n, by: map[string]*rate.Limiter{}}
}

// allow reports whether the request's client may go on. The client is its
// address as clientaddr resolves it (a trusted proxy's forwarded address,
// else the connection's), an IPv6 address counted by its /64.
func (l *limiter) allow(r *http.Request) bool {
	host := clientaddr.Key(clientaddr.Of(r.Context(), r.RemoteAddr))
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.by[host]
	if !ok {
		if len(l.by) > 100_000 {
			l.by = map[string]*rate.Limiter{}
		}
		b = rate.NewLimiter(l.every, l.burst)
		l.by[host] = b
	}
	return b.Allow()
}
