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

// Events returns up to limit events with Seq > after, in sequence order. A
// limit of 0 or less means 100; more than 1000 means 1000.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]objections.Event, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	rows, err := s.q().QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, storeError("list events", err)
	}
	defer rows.Close()
	out := []objections.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, storeError("list events", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError("list events", err)
	}
	return out, nil
}

func scanEvent(r rowScanner) (objections.Event, error) {
	var (
		e        objections.Event
		kind, at string
		payload  []byte
	)
	if err := r.Scan(&e.Seq, &kind, &e.Org, &e.SubjectID, &at, &payload, &e.PrevHash, &e.Hash); err != nil {
		return objections.Event{}, err
	}
	var err error
	if e.At, err = parseTime(at); err != nil {
		return objections.Event{}, err
	}
	e.Kind, e.Payload = objections.EventKind(kind), payload
	return e, nil
}
