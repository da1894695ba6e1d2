package device

import (
	"context"
	"net/http"
	"time"

	"github.com/onecard-campus/onecard"
)

// Whoami is what a terminal learns about itself, with the server's clock
// so that it can keep its own within Skew.
type Whoami struct {
	Terminal   *onecard.Terminal `json:"terminal"`
	ServerTime time.Time         `json:"server_time"`
}

func (s *Server) whoami(ctx context.Context, t *onecard.Terminal, _ *http.Request, _ []byte) (any, error) {
	return &Whoami{Terminal: t, ServerTime: s.cfg.Now().UTC()}, nil
}
