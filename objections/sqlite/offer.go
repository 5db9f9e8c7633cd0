package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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

// RecordOffer stores an offer and appends its event, or returns the stored
// one with created=false when one with the same (provider, call ref) exists
// (see objections.Store). EINVALID for an offer o.CheckStorable refuses;
// ECONFLICT when the id is in use.
func (s *Store) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckStorable(); err != nil {
		return objections.Offer{}, false, err
	}
	keysJSON, err := json.Marshal(o.Keys)
	if err != nil {
		return objections.Offer{}, false, objections.Internal("encode offer keys", err)
	}

	var (
		rec     objections.Offer
		created bool
	)
	err = s.write(ctx, "record offer", func(tx dbtx) error {
		existing, err := scanOffer(tx.QueryRowContext(ctx,
			`SELECT `+offerColumns+` FROM offers WHERE provider = ? AND call_ref = ?`, o.Provider, o.CallRef))
		switch {
		case err == nil:
			rec = existing
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up repeated offer: %w", err)
		}
		if o.AgencyUnlisted, err = agencyUnlisted(ctx, tx, o.Org, o.Agency); err != nil {
			return err
		}
		if err := ensureOrg(ctx, tx, o.Org, o.EndedAt); err != nil {
			return err
		}
		if err := ensureAgency(ctx, tx, o.Agency, o.EndedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO offers (`+offerInsertColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.Org, o.Number, o.PresentedNumber, o.Provider, o.CallRef, o.DialerCallRef,
			o.CampaignRef, o.LeadRef, o.AgentRef, boolInt(o.Announced), o.PromptID, o.PromptVersion,
			o.Language, o.PromptHash, o.PlayedMS, boolInt(o.BargeIn), string(keysJSON), string(o.Outcome),
			o.EndedBy, formatTime(o.StartedAt), formatTime(o.EndedAt), o.ObjectionID,
			nullable(o.Agency), boolInt(o.AgencyUnlisted)); err != nil {
			return fmt.Errorf("insert offer: %w", err)
		}
		if err := appendEvent(ctx, tx, objections.EventOfferRecorded, o.Org, o.ID, o.EndedAt, o); err != nil {
			return err
		}
		rec, created = o, true
		return nil
	})
	if err != nil {
		return objections.Offer{}, false, err
	}
	return rec, created, nil
}

// Offer returns one offer; ENOTFOUND.
func (s *Store) Offer(ctx context.Context, id string) (objections.Offer, error) {
	return queryOne(ctx, s.q(), "read offer", "id", id, scanOffer, `SELECT `+offerColumns+` FROM offers WHERE id = ?`, id)
}

// Offers returns one page of the offers f selects, ordered by id. Since and
// Until bound started_at.
func (s *Store) Offers(ctx context.Context, f objections.OfferFilter) ([]objections.Offer, error) {
	w := offerWhere(f)
	return queryAll(ctx, s.q(), "list offers", scanOffer, `SELECT `+offerColumns+` FROM offers`+w.sql()+` ORDER BY id LIMIT ?`,
		append(w.args, f.PageLimit())...)
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
	err := s.read(ctx, "search offers", func(tx dbtx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM offers`+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+offerColumns+` FROM offers`+w.sql()+` ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`,
			append(append([]any{}, w.args...), f.PageLimit(), offset)...)
		if err != nil {
			return err
		}
		page.Offers, err = collect(rows, scanOffer)
		return err
	})
	if err != nil {
		return objections.OfferPage{}, err
	}
	return page, nil
}

// OfferByCallRef returns the offer of one call; ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	return queryOne(ctx, s.q(), "read offer", "call_ref", callRef, scanOffer, `SELECT `+offerColumns+` FROM offers WHERE provider = ? AND call_ref = ?`,
		provider, callRef)
}

func scanOffer(r rowScanner) (objections.Offer, error) {
	var (
		o             objections.Offer
		keys, outcome string
	)
	if err := r.Scan(&o.ID, &o.Org, &o.Number, &o.PresentedNumber, &o.Provider, &o.CallRef, &o.DialerCallRef,
		&o.CampaignRef, &o.LeadRef, &o.AgentRef, &o.Announced, &o.PromptID, &o.PromptVersion, &o.Language, &o.PromptHash,
		&o.PlayedMS, &o.BargeIn, &keys, &outcome, &o.EndedBy, at(&o.StartedAt), at(&o.EndedAt), &o.ObjectionID,
		&o.Agency, &o.AgencyUnlisted); err != nil {
		return objections.Offer{}, err
	}
	o.Outcome = objections.Outcome(outcome)
	if err := json.Unmarshal([]byte(keys), &o.Keys); err != nil {
		return objections.Offer{}, fmt.Errorf("stored offer keys: %w", err)
	}
	if o.Keys == nil {
		o.Keys = []objections.Key{}
	}
	for i := range o.Keys {
		o.Keys[i].At = o.Keys[i].At.UTC()
	}
	return o, nil
}
