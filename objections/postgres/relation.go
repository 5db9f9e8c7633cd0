package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const relationCols = `id, org, number, person_id, kind, peildatum, source, created_at`

// scanRelation is the pgx.RowToFunc for relationCols.
func scanRelation(row pgx.CollectableRow) (objections.Relation, error) {
	var (
		r    objections.Relation
		kind string
	)
	err := row.Scan(&r.ID, &r.Org, &r.Number, &r.PersonID, &kind, &r.Peildatum, &r.Source, &r.CreatedAt)
	r.Kind = objections.RelationKind(kind)
	return r, err
}

// PutRelation stores a customer relation and returns it as stored. The same
// (org, number, person, kind) is one relation: a later peildatum replaces
// the stored one, an earlier one changes nothing. EINVALID for a relation
// without id or number, or for an org that has not been set up (relations
// are imported for known orgs; an unknown org here is a mistake to report,
// not one to create).
func (s *Store) PutRelation(ctx context.Context, r objections.Relation) (objections.Relation, error) {
	if err := objections.CheckStorableRecord(r.ID, r.Org, r.Number); err != nil {
		return objections.Relation{}, err
	}
	if r.Peildatum.IsZero() {
		return objections.Relation{}, objections.Invalid("peildatum", "", "is required")
	}
	// The calendar date only, as the domain keeps it (midnight UTC).
	r.Peildatum = objections.DateOf(r.Peildatum)
	r.CreatedAt = utc(r.CreatedAt)
	rows, _ := s.pool.Query(ctx, `INSERT INTO relations (`+relationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org, number, person_id, kind)
			DO UPDATE SET peildatum = GREATEST(relations.peildatum, EXCLUDED.peildatum)
		RETURNING `+relationCols,
		r.ID, r.Org, r.Number, r.PersonID, string(r.Kind), r.Peildatum, r.Source, r.CreatedAt)
	stored, err := pgx.CollectExactlyOneRow(rows, scanRelation)
	if err != nil {
		return objections.Relation{}, orgError(r.Org, translate("store relation", err))
	}
	return stored, nil
}

const consentCols = `id, org, number, person_id, channel, given_at, withdrawn_at, source, evidence_ref, created_at`

// scanConsent is the pgx.RowToFunc for consentCols.
func scanConsent(row pgx.CollectableRow) (objections.Consent, error) {
	var (
		c       objections.Consent
		channel string
	)
	err := row.Scan(&c.ID, &c.Org, &c.Number, &c.PersonID, &channel, &c.GivenAt, &c.WithdrawnAt,
		&c.Source, &c.EvidenceRef, &c.CreatedAt)
	c.Channel = objections.ConsentChannel(channel)
	return c, err
}

// PutConsent stores a consent and returns it as stored. The same (org,
// number, person, channel, given_at) is one consent: a repeat may add its
// withdrawal (the earliest withdrawal stands) and changes nothing else.
// EINVALID for a consent without id, number or given_at, a withdrawal before
// given_at, or an org that has not been set up.
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
	c.GivenAt, c.CreatedAt = utc(c.GivenAt), utc(c.CreatedAt)
	if c.WithdrawnAt != nil {
		w := utc(*c.WithdrawnAt)
		if w.Before(c.GivenAt) {
			return objections.Consent{}, objections.Invalid("withdrawn_at", w.Format(time.RFC3339), "is before given_at")
		}
		c.WithdrawnAt = &w
	}
	rows, _ := s.pool.Query(ctx, `INSERT INTO consents (`+consentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (org, number, person_id, channel, given_at)
			DO UPDATE SET withdrawn_at = LEAST(consents.withdrawn_at, EXCLUDED.withdrawn_at)
		RETURNING `+consentCols,
		c.ID, c.Org, c.Number, c.PersonID, string(c.Channel), c.GivenAt, c.WithdrawnAt, c.Source, c.EvidenceRef, c.CreatedAt)
	stored, err := pgx.CollectExactlyOneRow(rows, scanConsent)
	if err != nil {
		return objections.Consent{}, orgError(c.Org, translate("store consent", err))
	}
	return stored, nil
}

// orgError names the org when err is the foreign key to orgs failing.
func orgError(org string, err error) error {
	if objections.ErrorCode(err) == objections.EINVALID && strings.Contains(err.Error(), "_org_fkey") {
		return &objections.Error{Code: objections.EINVALID, Field: "org", Value: org, Message: "is not set up: create the org first"}
	}
	return err
}
