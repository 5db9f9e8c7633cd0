package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

const relationColumns = `id, org, number, person_id, kind, peildatum, source, created_at`

// PutRelation stores a customer relation and returns it as stored. The same
// (org, number, person, kind) is one relation: a later peildatum replaces the
// stored one, an earlier one changes nothing. No event is appended. EINVALID
// for a relation without id, number or peildatum, or for an org that has not
// been set up (relations are imported for known orgs; an unknown org here is
// a mistake to report, not one to create).
func (s *Store) PutRelation(ctx context.Context, r objections.Relation) (objections.Relation, error) {
	if err := objections.CheckStorableRecord(r.ID, r.Org, r.Number); err != nil {
		return objections.Relation{}, err
	}
	if r.Peildatum.IsZero() {
		return objections.Relation{}, objections.Invalid("peildatum", "", "is required")
	}
	r.CreatedAt = micro(r.CreatedAt)
	peil := objections.DateOf(r.Peildatum).Format(dateLayout)
	var out objections.Relation
	err := s.write(ctx, "put relation", func(tx dbtx) error {
		if err := orgSetUp(ctx, tx, r.Org); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO relations (`+relationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org, number, person_id, kind) DO UPDATE SET
				peildatum = max(relations.peildatum, excluded.peildatum)`,
			r.ID, r.Org, r.Number, r.PersonID, string(r.Kind), peil, r.Source, formatTime(r.CreatedAt)); err != nil {
			return fmt.Errorf("upsert relation: %w", err)
		}
		var err error
		out, err = scanRelation(tx.QueryRowContext(ctx, `SELECT `+relationColumns+` FROM relations
			WHERE org = ? AND number = ? AND person_id = ? AND kind = ?`, r.Org, r.Number, r.PersonID, string(r.Kind)))
		if err != nil {
			return fmt.Errorf("read relation: %w", err)
		}
		return nil
	})
	if err != nil {
		return objections.Relation{}, err
	}
	return out, nil
}

func scanRelation(r rowScanner) (objections.Relation, error) {
	var (
		rel                   objections.Relation
		kind, peil, createdAt string
	)
	if err := r.Scan(&rel.ID, &rel.Org, &rel.Number, &rel.PersonID, &kind, &peil, &rel.Source, &createdAt); err != nil {
		return objections.Relation{}, err
	}
	rel.Kind = objections.RelationKind(kind)
	var err error
	if rel.Peildatum, err = time.Parse(dateLayout, peil); err != nil {
		return objections.Relation{}, fmt.Errorf("stored peildatum %q: %w", peil, err)
	}
	if rel.CreatedAt, err = parseTime(createdAt); err != nil {
		return objections.Relation{}, err
	}
	return rel, nil
}

const consentColumns = `id, org, number, person_id, channel, given_at, withdrawn_at, source,
	evidence_ref, created_at`

// PutConsent stores a consent and returns it as stored. The same (org,
// number, person, channel, given_at) is one consent: a repeat may add its
// withdrawal (the earliest withdrawal stands) and changes nothing else. No
// event is appended. EINVALID for a consent without id, number or given_at, a
// withdrawal before given_at, or an org that has not been set up.
func (s *Store) PutConsent(ctx context.Context, c objections.Consent) (objections.Consent, error) {
	if err := objections.CheckStorableRecord(c.ID, c.Org, c.Number); err != nil {
		return objections.Consent{}, err
	}
	if c.GivenAt.IsZero() {
		return objections.Consent{}, objections.Invalid("given_at", "", "is required")
	}
	if c.Channel == "" {
		c.Channel = objections.ChannelPhone
	}
	c.GivenAt, c.CreatedAt = micro(c.GivenAt), micro(c.CreatedAt)
	var withdrawn any
	if c.WithdrawnAt != nil {
		w := micro(*c.WithdrawnAt)
		if w.Before(c.GivenAt) {
			return objections.Consent{}, objections.Invalid("withdrawn_at", w.Format(time.RFC3339), "is before given_at")
		}
		withdrawn = formatTime(w)
	}
	var out objections.Consent
	err := s.write(ctx, "put consent", func(tx dbtx) error {
		if err := orgSetUp(ctx, tx, c.Org); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org, number, person_id, channel, given_at) DO UPDATE SET
				withdrawn_at = coalesce(min(consents.withdrawn_at, excluded.withdrawn_at),
					consents.withdrawn_at, excluded.withdrawn_at)`,
			c.ID, c.Org, c.Number, c.PersonID, string(c.Channel), formatTime(c.GivenAt), withdrawn,
			c.Source, c.EvidenceRef, formatTime(c.CreatedAt)); err != nil {
			return fmt.Errorf("upsert consent: %w", err)
		}
		var err error
		out, err = scanConsent(tx.QueryRowContext(ctx, `SELECT `+consentColumns+` FROM consents
			WHERE org = ? AND number = ? AND person_id = ? AND channel = ? AND given_at = ?`,
			c.Org, c.Number, c.PersonID, string(c.Channel), formatTime(c.GivenAt)))
		if err != nil {
			return fmt.Errorf("read consent: %w", err)
		}
		return nil
	})
	if err != nil {
		return objections.Consent{}, err
	}
	return out, nil
}

func scanConsent(r rowScanner) (objections.Consent, error) {
	var (
		c                         objections.Consent
		channel, given, createdAt string
		withdrawn                 sql.NullString
	)
	if err := r.Scan(&c.ID, &c.Org, &c.Number, &c.PersonID, &channel, &given, &withdrawn, &c.Source,
		&c.EvidenceRef, &createdAt); err != nil {
		return objections.Consent{}, err
	}
	c.Channel = objections.ConsentChannel(channel)
	var err error
	if c.GivenAt, err = parseTime(given); err != nil {
		return objections.Consent{}, err
	}
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return objections.Consent{}, err
	}
	if withdrawn.Valid {
		w, err := parseTime(withdrawn.String)
		if err != nil {
			return objections.Consent{}, err
		}
		c.WithdrawnAt = &w
	}
	return c, nil
}

// orgSetUp returns EINVALID naming the org when it is not stored.
func orgSetUp(ctx context.Context, tx dbtx, org string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM orgs WHERE id = ?`, org).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &objections.Error{Code: objections.EINVALID, Field: "org", Value: org, Message: "is not set up: create the org first"}
	case err != nil:
		return fmt.Errorf("look up org: %w", err)
	}
	return nil
}
