package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// objectionSelect reads objections with their void; the status "voided" is
// derived from the void row.
const objectionSelect = `SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at
FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`

// scanObjection is the pgx.RowToFunc for objectionSelect.
func scanObjection(row pgx.CollectableRow) (objections.Objection, error) {
	var (
		o                     objections.Objection
		source, status        string
		voidActor, voidReason *string
		voidAt                *time.Time
	)
	err := row.Scan(&o.ID, &o.Org, &o.Number, &o.RawNumber, &o.PersonID, &o.ReceivedAt,
		&source, &o.Provider, &o.CallRef, &o.DialerCallRef, &o.CampaignRef,
		&o.LeadRef, &o.AgentRef, &o.OfferID, &o.Note, &o.Actor, &o.IdempotencyKey,
		&status, &voidActor, &voidReason, &voidAt)
	if err != nil {
		return o, err
	}
	o.Source, o.Status = objections.Source(source), objections.Status(status)
	if voidAt != nil {
		o.Status = objections.StatusVoided
		o.Void = &objections.Void{ObjectionID: o.ID, Actor: deref(voidActor), Reason: deref(voidReason), At: *voidAt}
	}
	return o, nil
}

// findRepeatSQL finds the objection that o repeats, in the order of
// Store.RecordObjection: the same (org, idempotency key), the same
// (provider, call ref), or the active objection on the org and number.
// COALESCE stops at the first match. NULL parameters (no key, no call ref,
// no number) match nothing.
const findRepeatSQL = objectionSelect + `
WHERE o.id = COALESCE(
	(SELECT id FROM objections WHERE org = $1 AND idempotency_key = $2),
	(SELECT id FROM objections WHERE provider = $3 AND call_ref = $4),
	(SELECT objection_id FROM active_objections WHERE org = $1 AND number = $5))`

// RecordObjection stores o, or returns the objection it repeats with
// created=false (see objections.Store). EINVALID for an objection without
// id or with a status other than active (with a number) or pending_number
// (without); EUNAVAILABLE when the database cannot be reached.
func (s *Store) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	if err := checkObjection(&o); err != nil {
		return objections.Objection{}, false, err
	}
	var out recorded[objections.Objection]
	if err := s.chain.do(ctx, recordObjection(o, &out)); err != nil {
		return objections.Objection{}, false, translate("record objection", err)
	}
	return out.rec, out.created, nil
}

// recordObjection is the chained write of RecordObjection; it sets *out.
func recordObjection(o objections.Objection, out *recorded[objections.Objection]) chainFunc {
	return func(ctx context.Context, tx pgx.Tx, h head) (head, error) {
		rows, _ := tx.Query(ctx, findRepeatSQL, o.Org, null(o.IdempotencyKey), o.Provider, null(o.CallRef), null(o.Number))
		found, err := pgx.CollectRows(rows, scanObjection)
		if err != nil {
			return h, err
		}
		if len(found) > 0 {
			*out = recorded[objections.Objection]{rec: found[0]}
			return h, nil
		}

		e, err := objections.NewEvent(h.prev(), objections.EventObjectionRecorded, o.Org, o.ID, o.ReceivedAt, o)
		if err != nil {
			return h, err
		}
		b := &pgx.Batch{}
		queueEnsureOrg(b, o.Org, o.ReceivedAt)
		b.Queue(`INSERT INTO objections (id, org, number, raw_number, person_id, received_at,
				source, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref, agent_ref,
				offer_id, note, actor, idempotency_key, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			o.ID, o.Org, o.Number, o.RawNumber, o.PersonID, o.ReceivedAt,
			string(o.Source), o.Provider, null(o.CallRef), o.DialerCallRef, o.CampaignRef, o.LeadRef, o.AgentRef,
			o.OfferID, o.Note, o.Actor, null(o.IdempotencyKey), string(o.Status))
		if o.Status == objections.StatusActive {
			b.Queue(`INSERT INTO active_objections (org, number, objection_id) VALUES ($1, $2, $3)`, o.Org, o.Number, o.ID)
		}
		queueAppend(b, e)
		if err := execBatch(ctx, tx, b); err != nil {
			return h, err
		}
		*out = recorded[objections.Objection]{rec: o, created: true}
		return head{seq: e.Seq, hash: e.Hash}, nil
	}
}

// checkObjection applies objections' shared checks and normalises times.
func checkObjection(o *objections.Objection) error {
	if err := o.CheckStorable(); err != nil {
		return err
	}
	o.ReceivedAt = utc(o.ReceivedAt)
	return nil
}

// VoidObjection records the void of one objection and ends its active row.
// ENOTFOUND for an unknown id, ECONFLICT when it was voided already,
// EINVALID for a void without objection id or time.
func (s *Store) VoidObjection(ctx context.Context, v objections.Void) (objections.Objection, error) {
	if strings.TrimSpace(v.ObjectionID) == "" {
		return objections.Objection{}, objections.Invalid("id", v.ObjectionID, "is empty")
	}
	if v.At.IsZero() {
		return objections.Objection{}, objections.Invalid("at", "", "is required")
	}
	v.At = utc(v.At)
	var out objections.Objection
	if err := s.chain.do(ctx, voidObjection(v, &out)); err != nil {
		return objections.Objection{}, translate("void objection", err)
	}
	return out, nil
}

// voidObjection is the chained write of VoidObjection; it sets *out.
func voidObjection(v objections.Void, out *objections.Objection) chainFunc {
	return func(ctx context.Context, tx pgx.Tx, h head) (head, error) {
		rows, _ := tx.Query(ctx, objectionSelect+` WHERE o.id = $1`, v.ObjectionID)
		o, err := pgx.CollectExactlyOneRow(rows, scanObjection)
		if errors.Is(err, pgx.ErrNoRows) {
			return h, objections.NotFound("id", v.ObjectionID)
		}
		if err != nil {
			return h, err
		}
		if o.Void != nil {
			return h, &objections.Error{Code: objections.ECONFLICT, Field: "id", Value: o.ID,
				Message: "was voided already at " + o.Void.At.Format(time.RFC3339)}
		}

		e, err := objections.NewEvent(h.prev(), objections.EventObjectionVoided, o.Org, o.ID, v.At, v)
		if err != nil {
			return h, err
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO objection_voids (objection_id, actor, reason, at) VALUES ($1, $2, $3, $4)`,
			v.ObjectionID, v.Actor, v.Reason, v.At)
		b.Queue(`DELETE FROM active_objections WHERE objection_id = $1`, v.ObjectionID)
		queueAppend(b, e)
		if err := execBatch(ctx, tx, b); err != nil {
			return h, err
		}
		vv := v
		o.Void, o.Status = &vv, objections.StatusVoided
		*out = o
		return head{seq: e.Seq, hash: e.Hash}, nil
	}
}

// Objection returns one objection with its void; ENOTFOUND.
func (s *Store) Objection(ctx context.Context, id string) (objections.Objection, error) {
	rows, _ := s.pool.Query(ctx, objectionSelect+` WHERE o.id = $1`, id)
	o, err := pgx.CollectExactlyOneRow(rows, scanObjection)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.Objection{}, objections.NotFound("id", id)
	}
	if err != nil {
		return objections.Objection{}, translate("read objection", err)
	}
	return o, nil
}

// Objections returns one page of objections matching f, ordered by id.
// EINVALID for an unknown status in f.
func (s *Store) Objections(ctx context.Context, f objections.ObjectionFilter) ([]objections.Objection, error) {
	w, err := objectionWhere(f)
	if err != nil {
		return nil, err
	}
	if f.After != "" {
		w.add("o.id > " + w.arg(f.After))
	}
	sql := objectionSelect + w.sql() + " ORDER BY o.id LIMIT " + strconv.Itoa(f.PageLimit())
	rows, _ := s.pool.Query(ctx, sql, w.args...)
	list, err := pgx.CollectRows(rows, scanObjection)
	if err != nil {
		return nil, translate("list objections", err)
	}
	return list, nil
}

// where builds a WHERE clause from optional filters.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// eq adds col = v when v is set.
func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col + " = " + w.arg(v))
	}
}

// cmp adds "col op" t when t is set.
func (w *where) cmp(colOp string, t time.Time) {
	if !t.IsZero() {
		w.add(colOp + " " + w.arg(t.UTC()))
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// null maps "" to SQL NULL, for the optional columns that are unique when set.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
