package api

import (
	"context"

	"github.com/onecard-campus/onecard"
)

type schoolsOutput struct {
	Body struct {
		Items []*onecard.School `json:"items" doc:"By name."`
	}
}

// listSchools lists the schools the operator may see.
func (s *Server) listSchools(ctx context.Context, _ *struct{}) (*schoolsOutput, error) {
	all, err := s.cfg.Schools.Schools(ctx)
	if err != nil {
		return nil, err
	}
	me := onecard.OperatorFromContext(ctx)
	out := &schoolsOutput{}
	out.Body.Items = []*onecard.School{}
	for _, sc := range all {
		if me.CanAccessSchool(sc.ID) {
			out.Body.Items = append(out.Body.Items, sc)
		}
	}
	return out, nil
}

type schoolOutput struct {
	Body *onecard.School
}

type campusBody struct {
	Name string `json:"name" minLength:"1" maxLength:"64" doc:"Campus name, e.g. 八里台."`
}

type createSchoolInput struct {
	Body struct {
		Code     string            `json:"code" minLength:"1" maxLength:"32" doc:"Short unique code cardholders type at login, e.g. nankai."`
		Name     string            `json:"name" minLength:"1" maxLength:"128" doc:"The school's name."`
		Settings *onecard.Settings `json:"settings,omitempty" doc:"The school's rules; absent: the defaults (Nankai's). Amounts in fen."`
		Campuses []campusBody      `json:"campuses,omitempty" maxItems:"100" doc:"Campuses to create with the school."`
	}
}

// createSchool adds a school with its campuses.
func (s *Server) createSchool(ctx context.Context, in *createSchoolInput) (*schoolOutput, error) {
	b := in.Body
	sc := &onecard.School{Code: b.Code, Name: b.Name}
	if b.Settings != nil {
		if err := b.Settings.Validate(); err != nil {
			return nil, err
		}
		sc.Settings = *b.Settings
	}
	for _, c := range b.Campuses {
		sc.Campuses = append(sc.Campuses, onecard.Campus{Name: c.Name})
	}
	if err := s.cfg.Schools.CreateSchool(ctx, sc); err != nil {
		return nil, err
	}
	return &schoolOutput{Body: sc}, nil
}

// getSchool returns a school with its campuses and settings.
func (s *Server) getSchool(ctx context.Context, in *schoolIDInput) (*schoolOutput, error) {
	sc, err := s.scopedSchool(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &schoolOutput{Body: sc}, nil
}

type updateSettingsInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"School ID."`
	Body onecard.Settings
}

// updateSettings replaces a school's rules as a whole.
func (s *Server) updateSettings(ctx context.Context, in *updateSettingsInput) (*schoolOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := in.Body.Validate(); err != nil {
		return nil, err
	}
	sc, err := s.cfg.Schools.UpdateSettings(ctx, in.ID, in.Body)
	if err != nil {
		return nil, err
	}
	return &schoolOutput{Body: sc}, nil
}

type createCampusInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"School ID."`
	Body campusBody
}

type campusOutput struct {
	Body *onecard.Campus
}

// createCampus adds a campus to a school.
func (s *Server) createCampus(ctx context.Context, in *createCampusInput) (*campusOutput, error) {
	if _, err := s.scopedSchool(ctx, in.ID); err != nil {
		return nil, err
	}
	c := &onecard.Campus{SchoolID: in.ID, Name: in.Body.Name}
	if err := s.cfg.Schools.CreateCampus(ctx, c); err != nil {
		return nil, err
	}
	return &campusOutput{Body: c}, nil
}
