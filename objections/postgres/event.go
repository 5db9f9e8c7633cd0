package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const eventColumns = `seq, kind, org, subject_id, at, payload, prev_hash, hash`

// scanEvent is the pgx.RowToFunc for eventColumns.
func scanEvent(row pgx.CollectableRow) (objections.Event, error) {
	var (
		e       objections.Event
		kind    string
		payload []byte
	)
	err := row.Scan(&e.Seq, &kind, &e.Org, &e.SubjectID, &e.At, &payload, &e.PrevHash, &e.Hash)
	e.Kind, e.Payload = objections.EventKind(kind), json.RawMessage(payload)
	return e, err
}

// Events returns up to limit events with Seq > after, in sequence order;
// objections.PageLimit bounds limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]objections.Event, error) {
	return queryAll(ctx, s.pool, "read events", scanEvent, `SELECT `+eventColumns+` FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
		after, objections.PageLimit(limit))
}

// EventsFor returns the events of the log about one objection or offer, in
// sequence order.
func (s *Store) EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error) {
	return queryAll(ctx, s.pool, "read events", scanEvent, `SELECT `+eventColumns+` FROM events WHERE subject_id = $1 ORDER BY seq LIMIT 100`, subjectID)
}
