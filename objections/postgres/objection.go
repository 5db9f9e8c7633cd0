package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// objectionSelect reads objections with their void; the status "voided" is
// derived from the void row.
const objectionSelect = `SELECT o.id, o.org, o.number, o.raw_number, o.person_id, o.received_at,
	o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref,
	o.lead_ref, o.agent_ref, o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''),
	o.status, v.actor, v.reason, v.at, coalesce(o.agency, ''), o.agency_unlisted
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
		&status, &voidActor, &voidReason, &voidAt, &o.Agency, &o.AgencyUnlisted)
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
// created=false (see objections.Store). EINVALID for an objection
// o.CheckStorable refuses; EUNAVAILABLE when the database cannot be
// reached.
func (s *Store) RecordObjection(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	if err := o.CheckStorable(); err != nil {
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
		rows, _ := tx.Query(ctx, findRepeatSQL, o.Org, nullable(o.IdempotencyKey), o.Provider, nullable(o.CallRef), nullable(o.Number))
		found, err := pgx.CollectRows(rows, scanObjection)
		if err != nil {
			return h, err
		}
		if len(found) > 0 {
			*out = recorded[objections.Objection]{rec: found[0]}
			return h, nil
		}

		if o.AgencyUnlisted, err = agencyUnlisted(ctx, tx, o.Org, o.Agency); err != nil {
			return h, err
		}
		e, err := objections.NewEvent(h.prev(), objections.EventObjectionRecorded, o.Org, o.ID, o.ReceivedAt, o)
		if err != nil {
			return h, err
		}
		b := &pgx.Batch{}
		queueEnsureOrg(b, o.Org, o.ReceivedAt)
		queueEnsureAgency(b, o.Agency, o.ReceivedAt)
		b.Queue(`INSERT INTO objections (id, org, number, raw_number, person_id, received_at,
				source, provider, call_ref, dialer_call_ref, campaign_ref, lead_ref, agent_ref,
				offer_id, note, actor, idempotency_key, status, agency, agency_unlisted)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			o.ID, o.Org, o.Number, o.RawNumber, o.PersonID, o.ReceivedAt,
			string(o.Source), o.Provider, nullable(o.CallRef), o.DialerCallRef, o.CampaignRef, o.LeadRef, o.AgentRef,
			o.OfferID, o.Note, o.Actor, nullable(o.IdempotencyKey), string(o.Status), nullable(o.Agency), o.AgencyUnlisted)
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

// VoidObjection records the void of one objection and ends its active row
// (see objections.Store).
func (s *Store) VoidObjection(ctx context.Context, v objections.Void) (objections.Objection, error) {
	if err := v.CheckStorable(); err != nil {
		return objections.Objection{}, err
	}
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
		if err != nil {
			return h, notFound(err, "id", v.ObjectionID)
		}
		if o.Void != nil {
			return h, objections.VoidedAlready(o)
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
	return queryOne(ctx, s.pool, "read objection", "id", id, scanObjection, objectionSelect+` WHERE o.id = $1`, id)
}

// Objections returns one page of objections matching f, ordered by id.
// EINVALID for an unknown status in f.
func (s *Store) Objections(ctx context.Context, f objections.ObjectionFilter) ([]objections.Objection, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	w := objectionWhere(f)
	w.after("o.id", f.After)
	return queryAll(ctx, s.pool, "list objections", scanObjection,
		objectionSelect+w.sql()+" ORDER BY o.id LIMIT "+strconv.Itoa(f.PageLimit()), w.args...)
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
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM objections o
			LEFT JOIN objection_voids v ON v.objection_id = o.id`+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, objectionSelect+w.sql()+` ORDER BY o.id DESC LIMIT `+strconv.Itoa(f.PageLimit())+
			` OFFSET `+strconv.Itoa(offset), w.args...)
		var err error
		page.Objections, err = pgx.CollectRows(rows, scanObjection)
		return err
	})
	if err != nil {
		return objections.ObjectionPage{}, translate("search objections", err)
	}
	if page.Objections == nil {
		page.Objections = []objections.Objection{}
	}
	return page, nil
}
