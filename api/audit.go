package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type auditInput struct {
	SchoolID int64 `query:"school_id" minimum:"0" doc:"Only this school's entries; 0 or absent: all (a school-scoped caller gets their school)."`
	Limit    int   `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Most entries to return."`
}

type auditOutput struct {
	Body struct {
		Items []*onecard.AuditEntry `json:"items" doc:"Newest first."`
	}
}

// auditLog reads the audit log, within the caller's school scope.
func (s *Server) auditLog(ctx context.Context, in *auditInput) (*auditOutput, error) {
	school := in.SchoolID
	if me := onecard.OperatorFromContext(ctx); school == 0 {
		school = me.SchoolID
	}
	if school != 0 {
		if err := inSchool(ctx, school); err != nil {
			return nil, err
		}
	}
	items, err := s.cfg.Operators.AuditLog(ctx, school, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &auditOutput{}
	out.Body.Items = nonNil(items)
	return out, nil
}

// nonNil makes an empty list travel as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
