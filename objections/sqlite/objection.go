package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

// objectionSelect reads objections with their void, if any. status is the
// recorded one; scanObjection derives "voided".
const objectionSelect = `SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref,
	o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status,
	v.actor, v.reason, v.at, coalesce(o.agency, ''), o.agency_unlisted
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`

// scanObjection reads one row of objectionSelect. It returns sql.ErrNoRows
// unwrapped so that callers can compare it.
func scanObjection(r rowScanner) (objections.Objection, error) {
	var (
		o               objections.Objection
		source, status  string
		vActor, vReason sql.NullString
		vAt             *time.Time
	)
	if err := r.Scan(&o.ID, &o.Org, &o.Number, &o.RawNumber, &o.PersonID, at(&o.ReceivedAt),
		&source, &o.Provider, &o.CallRef, &o.DialerCallRef, &o.CampaignRef, &o.LeadRef,
		&o.AgentRef, &o.OfferID, &o.Note, &o.Actor, &o.IdempotencyKey, &status,
		&vActor, &vReason, nullAt(&vAt), &o.Agency, &o.AgencyUnlisted); err != nil {
		return objections.Objection{}, err
	}
	o.Source, o.Status = objections.Source(source), objections.Status(status)
	if vAt != nil {
		o.Void = &objections.Void{ObjectionID: o.ID, Actor: vActor.String, Reason: vReason.String, At: *vAt}
		o.Status = objections.StatusVoided
	}
	return o, nil
}

// RecordObjection stores o and appends its event in one IMMEDIATE
// transaction, or returns the objection o repeats with created=false (see
// objections.Store). EINVALID for an objection o.CheckStorable refuses;
// ECONFLICT when the write clashes otherwise (an id in use).
func (s *Store) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	if err := o.CheckStorable(); err != nil {
		return objections.Objection{}, false, err
	}
	var (
		rec     objections.Objection
		created bool
	)
	err := s.write(ctx, "record objection", func(tx dbtx) error {
		existing, found, err := repeatOf(ctx, tx, o)
		if err != nil || found {
			rec = existing
			return err
		}
		if o.AgencyUnlisted, err = agencyUnlisted(ctx, tx, o.Org, o.Agency); err != nil {
			return err
		}
		if err := ensureOrg(ctx, tx, o.Org, o.ReceivedAt); err != nil {
			return err
		}
		if err := ensureAgency(ctx, tx, o.Agency, o.ReceivedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO objections (id, org, number, raw_number, person_id,
				received_at, source, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref, agent_ref,
				offer_id, note, actor, idempotency_key, status, agency, agency_unlisted)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.Org, o.Number, o.RawNumber, o.PersonID, formatTime(o.ReceivedAt), string(o.Source),
			o.Provider, nullable(o.CallRef), o.DialerCallRef, o.CampaignRef, o.LeadRef, o.AgentRef,
			o.OfferID, o.Note, o.Actor, nullable(o.IdempotencyKey), string(o.Status),
			nullable(o.Agency), boolInt(o.AgencyUnlisted)); err != nil {
			return fmt.Errorf("insert objection: %w", err)
		}
		if o.Status == objections.StatusActive {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO active_objections (org, number, objection_id) VALUES (?, ?, ?)`,
				o.Org, o.Number, o.ID); err != nil {
				return fmt.Errorf("insert active objection: %w", err)
			}
		}
		if err := appendEvent(ctx, tx, objections.EventObjectionRecorded, o.Org, o.ID, o.ReceivedAt, o); err != nil {
			return err
		}
		rec, created = o, true
		return nil
	})
	if err != nil {
		return objections.Objection{}, false, err
	}
	return rec, created, nil
}

// repeatOf looks for the stored objection that o repeats, in the order the
// Store contract gives. It runs inside the write transaction, so nothing can
// slip in between the check and the insert.
func repeatOf(ctx context.Context, tx dbtx, o objections.Objection) (objections.Objection, bool, error) {
	lookups := []struct {
		use   bool
		query string
		args  []any
	}{
		{o.IdempotencyKey != "", objectionSelect + ` WHERE o.org = ? AND o.idempotency_key = ?`,
			[]any{o.Org, o.IdempotencyKey}},
		{o.CallRef != "", objectionSelect + ` WHERE o.provider = ? AND o.call_ref = ?`,
			[]any{o.Provider, o.CallRef}},
		{o.Number != "", objectionSelect + ` JOIN active_objections a ON a.objection_id = o.id
			WHERE a.org = ? AND a.number = ?`, []any{o.Org, o.Number}},
	}
	for _, l := range lookups {
		if !l.use {
			continue
		}
		rec, err := scanObjection(tx.QueryRowContext(ctx, l.query, l.args...))
		switch {
		case err == nil:
			return rec, true, nil
		case err != sql.ErrNoRows:
			return objections.Objection{}, false, fmt.Errorf("look up repeated objection: %w", err)
		}
	}
	return objections.Objection{}, false, nil
}

// VoidObjection records the void of an objection, frees its org and number
// for a new objection and appends the void event (see objections.Store).
func (s *Store) VoidObjection(ctx context.Context, v objections.Void) (objections.Objection, error) {
	if err := v.CheckStorable(); err != nil {
		return objections.Objection{}, err
	}
	return writeOne(ctx, s, "void objection", func(tx dbtx) (objections.Objection, error) {
		o, err := scanObjection(tx.QueryRowContext(ctx, objectionSelect+` WHERE o.id = ?`, v.ObjectionID))
		if err != nil {
			return o, notFound(err, "id", v.ObjectionID)
		}
		if o.Void != nil {
			return o, objections.VoidedAlready(o)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO objection_voids (objection_id, actor, reason, at) VALUES (?, ?, ?, ?)`,
			v.ObjectionID, v.Actor, v.Reason, formatTime(v.At)); err != nil {
			return o, fmt.Errorf("insert void: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM active_objections WHERE objection_id = ?`, v.ObjectionID); err != nil {
			return o, fmt.Errorf("delete active objection: %w", err)
		}
		if err := appendEvent(ctx, tx, objections.EventObjectionVoided, o.Org, o.ID, v.At, v); err != nil {
			return o, err
		}
		o.Status, o.Void = objections.StatusVoided, &v
		return o, nil
	})
}

// Objection returns one objection with its void; ENOTFOUND.
func (s *Store) Objection(ctx context.Context, id string) (objections.Objection, error) {
	return queryOne(ctx, s.q(), "read objection", "id", id, scanObjection, objectionSelect+` WHERE o.id = ?`, id)
}

// Objections returns one page of the objections f selects, ordered by id
// (the time of receipt). f.After is the last id of the previous page.
// EINVALID for an unknown status.
func (s *Store) Objections(ctx context.Context, f objections.ObjectionFilter) ([]objections.Objection, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	w := objectionWhere(f)
	w.after("o.id", f.After)
	rows, err := s.q().QueryContext(ctx, objectionSelect+w.sql()+" ORDER BY o.id LIMIT ?",
		append(w.args, f.PageLimit())...)
	if err != nil {
		return nil, translate("list objections", err)
	}
	out, err := collect(rows, scanObjection)
	if err != nil {
		return nil, translate("list objections", err)
	}
	return out, nil
}

// SearchObjections returns the objections f selects newest first: f.Limit
// of them after skipping offset, and how many match in all, read in one
// snapshot. f.After is ignored. EINVALID for a search f.CheckSearch
// refuses.
func (s *Store) SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error) {
	if err := f.CheckSearch(offset); err != nil {
		return objections.ObjectionPage{}, err
	}
	w := objectionWhere(f)
	var page objections.ObjectionPage
	err := s.read(ctx, "search objections", func(tx dbtx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM objections o
			LEFT JOIN objection_voids v ON v.objection_id = o.id`+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, objectionSelect+w.sql()+` ORDER BY o.id DESC LIMIT ? OFFSET ?`,
			append(append([]any{}, w.args...), f.PageLimit(), offset)...)
		if err != nil {
			return err
		}
		page.Objections, err = collect(rows, scanObjection)
		return err
	})
	if err != nil {
		return objections.ObjectionPage{}, err
	}
	return page, nil
}
