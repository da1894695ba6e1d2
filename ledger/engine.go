package ledger

import (
	"context"
	"errors"
)

func applyRequests(ctx context.Context, tx Tx, reqs [][]Transfer) ([][]Outcome, error) {
	return nil, errors.New("ledger: engine not written yet")
}
