package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type blacklistInput struct {
	ID    int64 `path:"id" minimum:"1" doc:"School ID."`
	Since int64 `query:"since" minimum:"0" doc:"The version the caller already has; 0: from the start."`
}

type blacklistOutput struct {
	Body struct {
		Entries []onecard.BlacklistEntry `json:"entries" doc:"Changes after since, oldest first."`
		Version int64                    `json:"version" doc:"The current version: pass it as since next time."`
	}
}

// blacklist returns the changes to a school's blocked cards after a version.
func (s *Server) blacklist(ctx context.Context, in *blacklistInput) (*blacklistOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	es, v, err := s.cfg.Cards.Blacklist(ctx, in.ID, in.Since)
	if err != nil {
		return nil, err
	}
	out := &blacklistOutput{}
	out.Body.Entries, out.Body.Version = nonNil(es), v
	return out, nil
}
