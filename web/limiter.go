package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// allow reports whether the request's client may go on. The address is the
// connection's: X-Forwarded-For is not trusted.
func (l *limiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
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
