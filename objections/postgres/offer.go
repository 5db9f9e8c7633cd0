package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const offerColumns = `id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id,
	reason, instance, previous_offer_id, agency, agency_unlisted`

// offerSelect reads offerColumns; an offer without an agency reads "".
var offerSelect = strings.Replace(offerColumns, "agency, agency_unlisted", "coalesce(agency, ''), agency_unlisted", 1)

// offerValues are the placeholders of offerColumns.
const offerValues = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28`

// scanOffer is the pgx.RowToFunc for offerColumns.
func scanOffer(row pgx.CollectableRow) (objections.Offer, error) {
	var (
		o       objections.Offer
		outcome string
	)
	err := row.Scan(&o.ID, &o.Org, &o.Number, &o.PresentedNumber, &o.Provider, &o.CallRef, &o.DialerCallRef,
		&o.CampaignRef, &o.LeadRef, &o.AgentRef, &o.Announced, &o.PromptID, &o.PromptVersion, &o.Language,
		&o.PromptHash, &o.PlayedMS, &o.BargeIn, &o.Keys, &outcome, &o.EndedBy, &o.StartedAt, &o.EndedAt, &o.ObjectionID,
		&o.Reason, &o.Instance, &o.PreviousOfferID, &o.Agency, &o.AgencyUnlisted)
	if err != nil {
		return o, err
	}
	o.Outcome = objections.Outcome(outcome)
	if o.Keys == nil {
		o.Keys = []objections.Key{}
	}
	return o, nil
}

// offerArgs are o's values in the order of offerColumns.
func offerArgs(o objections.Offer) []any {
	return []any{o.ID, o.Org, o.Number, o.PresentedNumber, o.Provider, o.CallRef, o.DialerCallRef,
		o.CampaignRef, o.LeadRef, o.AgentRef, o.Announced, o.PromptID, o.PromptVersion, o.Language,
		o.PromptHash, o.PlayedMS, o.BargeIn, o.Keys, string(o.Outcome), o.EndedBy, o.StartedAt, o.EndedAt, o.ObjectionID,
		o.Reason, o.Instance, o.PreviousOfferID, nullable(o.Agency), o.AgencyUnlisted}
}

// StartOffer stores the in_progress record of an offer that begins (see
// objections.Store). EINVALID for an offer o.CheckStart refuses;
// EUNAVAILABLE when the database cannot be reached.
func (s *Store) StartOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckStart(); err != nil {
		return objections.Offer{}, false, err
	}
	var out recorded[objections.Offer]
	if err := s.chain.do(ctx, writeOffer(o, objections.PlanStart, objections.EventOfferStarted, o.StartedAt, &out)); err != nil {
		return objections.Offer{}, false, translate("start offer", err)
	}
	return out.rec, out.created, nil
}

// RecordOffer stores the final record of an offer, completing its
// in_progress record if it has one, or returns the stored one with
// created=false for a repeat (see objections.Store). EINVALID for an offer
// o.CheckFinal refuses; EUNAVAILABLE when the database cannot be reached.
func (s *Store) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckFinal(); err != nil {
		return objections.Offer{}, false, err
	}
	var out recorded[objections.Offer]
	// The event's time is when the session ended: when its evidence was
	// complete.
	if err := s.chain.do(ctx, writeOffer(o, objections.PlanRecord, objections.EventOfferRecorded, o.EndedAt, &out)); err != nil {
		return objections.Offer{}, false, translate("record offer", err)
	}
	return out.rec, out.created, nil
}

// writeOffer is the chained write of StartOffer and RecordOffer: it reads
// the call's offers, lets plan decide, and writes what it decided, each
// record with its event; it sets *out.
func writeOffer(o objections.Offer, plan func(objections.Offer, []objections.Offer) objections.OfferWrite,
	kind objections.EventKind, at time.Time, out *recorded[objections.Offer]) chainFunc {
	return func(ctx context.Context, tx pgx.Tx, h head) (head, error) {
		rows, _ := tx.Query(ctx, `SELECT `+offerSelect+` FROM offers WHERE (provider = $1 AND call_ref = $2) OR id = $3 ORDER BY id`,
			o.Provider, o.CallRef, o.ID)
		call, err := pgx.CollectRows(rows, scanOffer)
		if err != nil {
			return h, err
		}
		w := plan(o, call)
		if w.Repeat != nil {
			*out = recorded[objections.Offer]{rec: *w.Repeat}
			return h, nil
		}
		if w.Rec.AgencyUnlisted, err = agencyUnlisted(ctx, tx, w.Rec.Org, w.Rec.Agency); err != nil {
			return h, err
		}
		b := &pgx.Batch{}
		if w.Complete {
			if h, err = queueOfferUpdate(b, h, w.Rec, kind, at); err != nil {
				return h, err
			}
		} else {
			e, err := objections.NewEvent(h.prev(), kind, w.Rec.Org, w.Rec.ID, at, w.Rec)
			if err != nil {
				return h, err
			}
			queueEnsureOrg(b, w.Rec.Org, at)
			queueEnsureAgency(b, w.Rec.Agency, at)
			b.Queue(`INSERT INTO offers (`+offerColumns+`) VALUES (`+offerValues+`)`, offerArgs(w.Rec)...)
			queueAppend(b, e)
			h = head{seq: e.Seq, hash: e.Hash}
		}
		if err := execBatch(ctx, tx, b); err != nil {
			return h, err
		}
		*out = recorded[objections.Offer]{rec: w.Rec, created: true}
		return h, nil
	}
}

// queueOfferUpdate adds the update of an in_progress offer to its next
// record, and that record's event, to b; it returns the head after it.
// Only a row in_progress changes: the schema refuses any other update.
func queueOfferUpdate(b *pgx.Batch, h head, o objections.Offer, kind objections.EventKind, at time.Time) (head, error) {
	e, err := objections.NewEvent(h.prev(), kind, o.Org, o.ID, at, o)
	if err != nil {
		return h, err
	}
	b.Queue(`UPDATE offers SET (`+offerColumns+`) = (`+offerValues+`) WHERE id = $1 AND outcome = 'in_progress'`, offerArgs(o)...)
	queueAppend(b, e)
	return head{seq: e.Seq, hash: e.Hash}, nil
}

// InterruptOffers closes the offers in_progress of instances as
// interrupted (see objections.Store). EUNAVAILABLE when the database
// cannot be reached.
func (s *Store) InterruptOffers(ctx context.Context, instances []string, reason string, at time.Time) ([]objections.Offer, error) {
	if len(instances) == 0 {
		return nil, nil
	}
	var closed []objections.Offer
	err := s.chain.do(ctx, func(ctx context.Context, tx pgx.Tx, h head) (head, error) {
		rows, _ := tx.Query(ctx, `SELECT `+offerSelect+` FROM offers WHERE outcome = 'in_progress' AND instance = ANY($1) ORDER BY id`, instances)
		open, err := pgx.CollectRows(rows, scanOffer)
		if err != nil {
			return h, err
		}
		closed = closed[:0]
		b := &pgx.Batch{}
		for _, o := range open {
			c := o.Interrupted(reason, at)
			if h, err = queueOfferUpdate(b, h, c, objections.EventOfferRecorded, c.EndedAt); err != nil {
				return h, err
			}
			closed = append(closed, c)
		}
		if len(open) == 0 {
			return h, nil
		}
		return h, execBatch(ctx, tx, b)
	})
	if err != nil {
		return nil, translate("interrupt offers", err)
	}
	return closed, nil
}

// Offer returns one offer; ENOTFOUND.
func (s *Store) Offer(ctx context.Context, id string) (objections.Offer, error) {
	return queryOne(ctx, s.pool, "read offer", "id", id, scanOffer, `SELECT `+offerSelect+` FROM offers WHERE id = $1`, id)
}

// Offers returns one page of offers matching f, ordered by id. Since and
// Until bound the start of the session.
func (s *Store) Offers(ctx context.Context, f objections.OfferFilter) ([]objections.Offer, error) {
	w := offerWhere(f)
	return queryAll(ctx, s.pool, "list offers", scanOffer,
		`SELECT `+offerSelect+` FROM offers`+w.sql()+" ORDER BY id LIMIT "+strconv.Itoa(f.PageLimit()), w.args...)
}

// SearchOffers returns the offers f selects, the latest call first (by
// started_at, then id): f.Limit of them
// after skipping offset, and how many match in all, read in one snapshot.
// f.After is ignored. EINVALID for a search f.CheckSearch refuses.
func (s *Store) SearchOffers(ctx context.Context, f objections.OfferFilter, offset int) (objections.OfferPage, error) {
	if err := f.CheckSearch(offset); err != nil {
		return objections.OfferPage{}, err
	}
	f.After = ""
	w := offerWhere(f)
	var page objections.OfferPage
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM offers`+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT `+offerSelect+` FROM offers`+w.sql()+` ORDER BY started_at DESC, id DESC LIMIT `+strconv.Itoa(f.PageLimit())+
			` OFFSET `+strconv.Itoa(offset), w.args...)
		var err error
		page.Offers, err = pgx.CollectRows(rows, scanOffer)
		return err
	})
	if err != nil {
		return objections.OfferPage{}, translate("search offers", err)
	}
	if page.Offers == nil {
		page.Offers = []objections.Offer{}
	}
	return page, nil
}

// OfferByCallRef returns the latest offer of one call (a call offered
// again after a takeover has several); ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	return queryOne(ctx, s.pool, "read offer", "call_ref", callRef, scanOffer,
		`SELECT `+offerSelect+` FROM offers WHERE provider = $1 AND call_ref = $2 ORDER BY id DESC LIMIT 1`, provider, callRef)
}
