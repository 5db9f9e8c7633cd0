package objections

import (
	"context"
	"errors"
)

type sliceReader []Event

func (s sliceReader) Events(_ context.Context, after int64, limit int) ([]Event, error) {
	var out []Event
	for _, e := range s {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func asError(err error, e **Error) bool      { return errors.As(err, e) }
func asChain(err error, e **ChainError) bool { return errors.As(err, e) }
