package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
)

const (
	bearerScheme = "bearer"
	// maxBodyBytes bounds every request body except a transfer batch's.
	maxBodyBytes = 1 << 20
)

// route registers one operation with who may call it. Service errors leave
// through errorFor, so handlers just return what the services return.
func route[I, O any](s *Server, a access, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.Middlewares = append(op.Middlewares, s.authorize(op.OperationID, a))
	op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusInternalServerError)
	if !a.public {
		op.Security = []map[string][]string{{bearerScheme: {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden)
	}
	slices.Sort(op.Errors)
	op.Errors = slices.Compact(op.Errors)
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = maxBodyBytes
	}
	name := op.OperationID
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			e := errorFor(ctx, name, err)
			if e.Status == http.StatusUnauthorized {
				return nil, huma.ErrorWithHeaders(e, http.Header{"WWW-Authenticate": {`Bearer realm="onecard"`}})
			}
			return nil, e
		}
		return out, nil
	})
}
