package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const offerColumns = `id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id,
	coalesce(agency, ''), agency_unlisted`

// offerInsertColumns are the columns RecordOffer writes, in the order of
// offerColumns.
const offerInsertColumns = `id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id,
	agency, agency_unlisted`

// scanOffer is the pgx.RowToFunc for offerColumns.
func scanOffer(row pgx.CollectableRow) (objections.Offer, error) {
	var (
		o       objections.Offer
		outcome string
	)
	err := row.Scan(&o.ID, &o.Org, &o.Number, &o.PresentedNumber, &o.Provider, &o.CallRef, &o.DialerCallRef,
		&o.CampaignRef, &o.LeadRef, &o.AgentRef, &o.Announced, &o.PromptID, &o.PromptVersion, &o.Language,
		&o.PromptHash, &o.PlayedMS, &o.BargeIn, &o.Keys, &outcome, &o.EndedBy, &o.StartedAt, &o.EndedAt, &o.ObjectionID,
		&o.Agency, &o.AgencyUnlisted)
	if err != nil {
		return o, err
	}
	o.Outcome = objections.Outcome(outcome)
	if o.Keys == nil {
		o.Keys = []objections.Key{}
	}
	return o, nil
}

// RecordOffer stores the evidence of one IVR session, or returns the offer
// already stored for the same (provider, call ref) with created=false (see
// objections.Store). EINVALID for an offer o.CheckStorable refuses;
// EUNAVAILABLE when the database cannot be reached.
func (s *Store) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckStorable(); err != nil {
		return objections.Offer{}, false, err
	}
	var out recorded[objections.Offer]
	if err := s.chain.do(ctx, recordOffer(o, &out)); err != nil {
		return objections.Offer{}, false, translate("record offer", err)
	}
	return out.rec, out.created, nil
}

// recordOffer is the chained write of RecordOffer; it sets *out.
func recordOffer(o objections.Offer, out *recorded[objections.Offer]) chainFunc {
	return func(ctx context.Context, tx pgx.Tx, h head) (head, error) {
		rows, _ := tx.Query(ctx, `SELECT `+offerColumns+` FROM offers WHERE provider = $1 AND call_ref = $2`, o.Provider, o.CallRef)
		found, err := pgx.CollectRows(rows, scanOffer)
		if err != nil {
			return h, err
		}
		if len(found) > 0 {
			*out = recorded[objections.Offer]{rec: found[0]}
			return h, nil
		}

		if o.AgencyUnlisted, err = agencyUnlisted(ctx, tx, o.Org, o.Agency); err != nil {
			return h, err
		}
		// The event's time is when the session ended: when its evidence
		// was complete.
		e, err := objections.NewEvent(h.prev(), objections.EventOfferRecorded, o.Org, o.ID, o.EndedAt, o)
		if err != nil {
			return h, err
		}
		b := &pgx.Batch{}
		queueEnsureOrg(b, o.Org, o.EndedAt)
		queueEnsureAgency(b, o.Agency, o.EndedAt)
		b.Queue(`INSERT INTO offers (`+offerInsertColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
			o.ID, o.Org, o.Number, o.PresentedNumber, o.Provider, o.CallRef, o.DialerCallRef,
			o.CampaignRef, o.LeadRef, o.AgentRef, o.Announced, o.PromptID, o.PromptVersion, o.Language,
			o.PromptHash, o.PlayedMS, o.BargeIn, o.Keys, string(o.Outcome), o.EndedBy, o.StartedAt, o.EndedAt, o.ObjectionID,
			nullable(o.Agency), o.AgencyUnlisted)
		queueAppend(b, e)
		if err := execBatch(ctx, tx, b); err != nil {
			return h, err
		}
		*out = recorded[objections.Offer]{rec: o, created: true}
		return head{seq: e.Seq, hash: e.Hash}, nil
	}
}

// Offer returns one offer; ENOTFOUND.
func (s *Store) Offer(ctx context.Context, id string) (objections.Offer, error) {
	return queryOne(ctx, s.pool, "read offer", "id", id, scanOffer, `SELECT `+offerColumns+` FROM offers WHERE id = $1`, id)
}

// Offers returns one page of offers matching f, ordered by id. Since and
// Until bound the start of the session.
func (s *Store) Offers(ctx context.Context, f objections.OfferFilter) ([]objections.Offer, error) {
	w := offerWhere(f)
	return queryAll(ctx, s.pool, "list offers", scanOffer,
		`SELECT `+offerColumns+` FROM offers`+w.sql()+" ORDER BY id LIMIT "+strconv.Itoa(f.PageLimit()), w.args...)
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
		rows, _ := tx.Query(ctx, `SELECT `+offerColumns+` FROM offers`+w.sql()+` ORDER BY started_at DESC, id DESC LIMIT `+strconv.Itoa(f.PageLimit())+
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

// OfferByCallRef returns the offer of one call; ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	return queryOne(ctx, s.pool, "read offer", "call_ref", callRef, scanOffer,
		`SELECT `+offerColumns+` FROM offers WHERE provider = $1 AND call_ref = $2`, provider, callRef)
}
