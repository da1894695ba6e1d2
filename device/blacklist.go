package device

import (
	"context"
	"net/http"
	"strconv"

	"github.com/onecard-campus/onecard"
)

// BlacklistDelta is what changed on a school's blacklist after the version
// a terminal already has. Terminals apply the entries in order and keep
// Version for their next pull.
type BlacklistDelta struct {
	Since   int64                    `json:"since"`
	Version int64                    `json:"version"`
	Entries []onecard.BlacklistEntry `json:"entries"`
}

func (s *Server) blacklist(ctx context.Context, t *onecard.Terminal, r *http.Request, _ []byte) (any, error) {
	since := int64(0)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, onecard.Errorf(onecard.EINVALID, "since must be a blacklist version (a whole number from 0).")
		}
		since = n
	}
	entries, version, err := s.cfg.Cards.Blacklist(ctx, t.SchoolID, since)
	if err != nil {
		return nil, err
	}
	if entries == nil {
		entries = []onecard.BlacklistEntry{}
	}
	return &BlacklistDelta{Since: since, Version: version, Entries: entries}, nil
}
