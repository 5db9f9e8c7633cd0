package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// Events returns up to limit events with Seq > after, in order; a limit
// of 0 or less means 100, and more than 1000 means 1000.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]objections.Event, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	rows, _ := s.pool.Query(ctx, `SELECT seq, kind, org, subject_id, at, payload, prev_hash, hash
		FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (objections.Event, error) {
		var (
			e       objections.Event
			kind    string
			payload []byte
		)
		err := row.Scan(&e.Seq, &kind, &e.Org, &e.SubjectID, &e.At, &payload, &e.PrevHash, &e.Hash)
		e.Kind, e.Payload = objections.EventKind(kind), json.RawMessage(payload)
		return e, err
	})
	if err != nil {
		return nil, translate("read events", err)
	}
	return list, nil
}
