package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

const offerColumns = `id, org, number, presented_number, provider, call_ref, dialer_call_ref,
	campaign_ref, lead_ref, agent_ref, announced, prompt_id, prompt_version, language, prompt_hash,
	played_ms, barge_in, keys, outcome, ended_by, started_at, ended_at, objection_id,
	reason, instance, previous_offer_id, agency, agency_unlisted`

// offerSelect reads offerColumns; an offer without an agency reads "".
var offerSelect = strings.Replace(offerColumns, "agency, agency_unlisted", "coalesce(agency, ''), agency_unlisted", 1)

// offerValues are the placeholders of offerColumns.
const offerValues = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`

// offerArgs are o's values in the order of offerColumns.
func offerArgs(o objections.Offer) ([]any, error) {
	keysJSON, err := json.Marshal(o.Keys)
	if err != nil {
		return nil, objections.Internal("encode offer keys", err)
	}
	return []any{o.ID, o.Org, o.Number, o.PresentedNumber, o.Provider, o.CallRef, o.DialerCallRef,
		o.CampaignRef, o.LeadRef, o.AgentRef, boolInt(o.Announced), o.PromptID, o.PromptVersion,
		o.Language, o.PromptHash, o.PlayedMS, boolInt(o.BargeIn), string(keysJSON), string(o.Outcome),
		o.EndedBy, formatTime(o.StartedAt), formatTime(o.EndedAt), o.ObjectionID,
		o.Reason, o.Instance, o.PreviousOfferID, nullable(o.Agency), boolInt(o.AgencyUnlisted)}, nil
}

// StartOffer stores the in_progress record of an offer that begins (see
// objections.Store). EINVALID for an offer o.CheckStart refuses.
func (s *Store) StartOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckStart(); err != nil {
		return objections.Offer{}, false, err
	}
	return s.writeOffer(ctx, "start offer", o, objections.PlanStart, objections.EventOfferStarted, o.StartedAt)
}

// RecordOffer stores the final record of an offer, completing its
// in_progress record if it has one, or returns the stored one with
// created=false for a repeat (see objections.Store). EINVALID for an offer
// o.CheckFinal refuses; ECONFLICT when the id is in use.
func (s *Store) RecordOffer(ctx context.Context, o objections.Offer) (objections.Offer, bool, error) {
	if err := o.CheckFinal(); err != nil {
		return objections.Offer{}, false, err
	}
	// The event's time is when the session ended: when its evidence was
	// complete.
	return s.writeOffer(ctx, "record offer", o, objections.PlanRecord, objections.EventOfferRecorded, o.EndedAt)
}

// writeOffer reads the call's offers, lets plan decide, and writes what it
// decided, each record with its event, in one write transaction.
func (s *Store) writeOffer(ctx context.Context, doing string, o objections.Offer,
	plan func(objections.Offer, []objections.Offer) objections.OfferWrite, kind objections.EventKind, at time.Time) (objections.Offer, bool, error) {
	var (
		rec     objections.Offer
		created bool
	)
	err := s.write(ctx, doing, func(tx dbtx) error {
		call, err := queryAll(ctx, tx, "read the call's offers", scanOffer,
			`SELECT `+offerSelect+` FROM offers WHERE (provider = ? AND call_ref = ?) OR id = ? ORDER BY id`, o.Provider, o.CallRef, o.ID)
		if err != nil {
			return err
		}
		w := plan(o, call)
		if w.Repeat != nil {
			rec = *w.Repeat
			return nil
		}
		if w.Rec.AgencyUnlisted, err = agencyUnlisted(ctx, tx, w.Rec.Org, w.Rec.Agency); err != nil {
			return err
		}
		if w.Complete {
			if err := updateOffer(ctx, tx, w.Rec, kind, at); err != nil {
				return err
			}
		} else {
			if err := ensureOrg(ctx, tx, w.Rec.Org, at); err != nil {
				return err
			}
			if err := ensureAgency(ctx, tx, w.Rec.Agency, at); err != nil {
				return err
			}
			args, err := offerArgs(w.Rec)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO offers (`+offerColumns+`) VALUES (`+offerValues+`)`, args...); err != nil {
				return fmt.Errorf("insert offer: %w", err)
			}
			if err := appendEvent(ctx, tx, kind, w.Rec.Org, w.Rec.ID, at, w.Rec); err != nil {
				return err
			}
		}
		rec, created = w.Rec, true
		return nil
	})
	if err != nil {
		return objections.Offer{}, false, err
	}
	return rec, created, nil
}

// updateOffer moves an in_progress offer to its next record and appends
// that record's event. Only a row in_progress changes: the schema refuses
// any other update.
func updateOffer(ctx context.Context, tx dbtx, o objections.Offer, kind objections.EventKind, at time.Time) error {
	args, err := offerArgs(o)
	if err != nil {
		return err
	}
	cols := strings.Split(strings.Join(strings.Fields(offerColumns), ""), ",")
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	res, err := tx.ExecContext(ctx, `UPDATE offers SET `+strings.Join(set, ", ")+` WHERE id = ? AND outcome = 'in_progress'`,
		append(args, o.ID)...)
	if err != nil {
		return fmt.Errorf("update offer: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update offer %s: %d rows in_progress changed (%v)", o.ID, n, err)
	}
	return appendEvent(ctx, tx, kind, o.Org, o.ID, at, o)
}

// InterruptOffers closes the offers in_progress of instances as
// interrupted (see objections.Store).
func (s *Store) InterruptOffers(ctx context.Context, instances []string, reason string, at time.Time) ([]objections.Offer, error) {
	if len(instances) == 0 {
		return nil, nil
	}
	args := make([]any, len(instances))
	for i, id := range instances {
		args[i] = id
	}
	return writeOne(ctx, s, "interrupt offers", func(tx dbtx) ([]objections.Offer, error) {
		open, err := queryAll(ctx, tx, "read offers in progress", scanOffer, `SELECT `+offerSelect+
			` FROM offers WHERE outcome = 'in_progress' AND instance IN (?`+strings.Repeat(", ?", len(instances)-1)+`) ORDER BY id`, args...)
		if err != nil {
			return nil, err
		}
		var closed []objections.Offer
		for _, o := range open {
			c := o.Interrupted(reason, at)
			if err := updateOffer(ctx, tx, c, objections.EventOfferRecorded, c.EndedAt); err != nil {
				return nil, err
			}
			closed = append(closed, c)
		}
		return closed, nil
	})
}

// Offer returns one offer; ENOTFOUND.
func (s *Store) Offer(ctx context.Context, id string) (objections.Offer, error) {
	return queryOne(ctx, s.q(), "read offer", "id", id, scanOffer, `SELECT `+offerSelect+` FROM offers WHERE id = ?`, id)
}

// Offers returns one page of the offers f selects, ordered by id. Since and
// Until bound started_at.
func (s *Store) Offers(ctx context.Context, f objections.OfferFilter) ([]objections.Offer, error) {
	w := offerWhere(f)
	return queryAll(ctx, s.q(), "list offers", scanOffer, `SELECT `+offerSelect+` FROM offers`+w.sql()+` ORDER BY id LIMIT ?`,
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
		rows, err := tx.QueryContext(ctx, `SELECT `+offerSelect+` FROM offers`+w.sql()+` ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`,
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

// OfferByCallRef returns the latest offer of one call (a call offered
// again after a takeover has several); ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	return queryOne(ctx, s.q(), "read offer", "call_ref", callRef, scanOffer,
		`SELECT `+offerSelect+` FROM offers WHERE provider = ? AND call_ref = ? ORDER BY id DESC LIMIT 1`, provider, callRef)
}

func scanOffer(r rowScanner) (objections.Offer, error) {
	var (
		o             objections.Offer
		keys, outcome string
	)
	if err := r.Scan(&o.ID, &o.Org, &o.Number, &o.PresentedNumber, &o.Provider, &o.CallRef, &o.DialerCallRef,
		&o.CampaignRef, &o.LeadRef, &o.AgentRef, &o.Announced, &o.PromptID, &o.PromptVersion, &o.Language, &o.PromptHash,
		&o.PlayedMS, &o.BargeIn, &keys, &outcome, &o.EndedBy, at(&o.StartedAt), at(&o.EndedAt), &o.ObjectionID,
		&o.Reason, &o.Instance, &o.PreviousOfferID, &o.Agency, &o.AgencyUnlisted); err != nil {
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
