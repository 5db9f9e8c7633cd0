package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

const eventColumns = `seq, kind, org, subject_id, at, payload, prev_hash, hash`

// appendEvent chains the event for record to the head of the log. tx must be
// a write (IMMEDIATE) transaction: it holds the database's write lock from
// the read of the head to the commit, so no other writer, in this process or
// another, can append in between and the chain follows commit order.
func appendEvent(ctx context.Context, tx dbtx, kind objections.EventKind, org, subject string, at time.Time, record any) error {
	var prev *objections.Event
	head, err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events ORDER BY seq DESC LIMIT 1`))
	switch {
	case err == nil:
		prev = &head
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read event log head: %w", err)
	}
	e, err := objections.NewEvent(prev, kind, org, subject, at, record)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, string(e.Kind), e.Org, e.SubjectID, formatTime(e.At), string(e.Payload), e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	return nil
}

// Events returns up to limit events with Seq > after, in sequence order;
// objections.PageLimit bounds limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]objections.Event, error) {
	return queryAll(ctx, s.q(), "list events", scanEvent, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, objections.PageLimit(limit))
}

// EventsFor returns the events of the log about one objection or offer, in
// sequence order.
func (s *Store) EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error) {
	return queryAll(ctx, s.q(), "read events", scanEvent, `SELECT `+eventColumns+` FROM events WHERE subject_id = ? ORDER BY seq LIMIT 100`, subjectID)
}

func scanEvent(r rowScanner) (objections.Event, error) {
	var (
		e       objections.Event
		kind    string
		payload []byte
	)
	if err := r.Scan(&e.Seq, &kind, &e.Org, &e.SubjectID, at(&e.At), &payload, &e.PrevHash, &e.Hash); err != nil {
		return objections.Event{}, err
	}
	e.Kind, e.Payload = objections.EventKind(kind), payload
	return e, nil
}
