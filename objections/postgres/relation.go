package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const relationColumns = `id, org, number, person_id, kind, peildatum, source, created_at`

// scanRelation is the pgx.RowToFunc for relationColumns.
func scanRelation(row pgx.CollectableRow) (objections.Relation, error) {
	var (
		r    objections.Relation
		kind string
	)
	err := row.Scan(&r.ID, &r.Org, &r.Number, &r.PersonID, &kind, &r.Peildatum, &r.Source, &r.CreatedAt)
	r.Kind = objections.RelationKind(kind)
	return r, err
}

// PutRelation stores a customer relation and returns it as stored (see
// objections.Store). No event is appended. EINVALID for a relation
// r.CheckStorable refuses, or for an org that has not been set up
// (objections.OrgNotSetUp).
func (s *Store) PutRelation(ctx context.Context, r objections.Relation) (objections.Relation, error) {
	if err := r.CheckStorable(); err != nil {
		return objections.Relation{}, err
	}
	stored, err := queryOne(ctx, s.pool, "store relation", "relation", r.ID, scanRelation, `INSERT INTO relations (`+relationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org, number, person_id, kind)
			DO UPDATE SET peildatum = GREATEST(relations.peildatum, EXCLUDED.peildatum)
		RETURNING `+relationColumns,
		r.ID, r.Org, r.Number, r.PersonID, string(r.Kind), r.Peildatum, r.Source, r.CreatedAt)
	return stored, orgError(r.Org, err)
}

const consentColumns = `id, org, number, person_id, channel, given_at, withdrawn_at, source, evidence_ref, created_at`

// scanConsent is the pgx.RowToFunc for consentColumns.
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

// PutConsent stores a consent and returns it as stored: a repeat may add
// its withdrawal, the earliest standing (see objections.Store). No event is
// appended. EINVALID for a consent c.CheckStorable refuses, or for an org
// that has not been set up (objections.OrgNotSetUp).
func (s *Store) PutConsent(ctx context.Context, c objections.Consent) (objections.Consent, error) {
	if err := c.CheckStorable(); err != nil {
		return objections.Consent{}, err
	}
	stored, err := queryOne(ctx, s.pool, "store consent", "consent", c.ID, scanConsent, `INSERT INTO consents (`+consentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (org, number, person_id, channel, given_at)
			DO UPDATE SET withdrawn_at = LEAST(consents.withdrawn_at, EXCLUDED.withdrawn_at)
		RETURNING `+consentColumns,
		c.ID, c.Org, c.Number, c.PersonID, string(c.Channel), c.GivenAt, c.WithdrawnAt, c.Source, c.EvidenceRef, c.CreatedAt)
	return stored, orgError(c.Org, err)
}

// orgError names the org when err is the foreign key to orgs failing.
func orgError(org string, err error) error {
	if objections.ErrorCode(err) == objections.EINVALID && strings.Contains(err.Error(), "_org_fkey") {
		return objections.OrgNotSetUp(org)
	}
	return err
}
