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

// PutRelation stores a customer relation and returns it as stored (see
// objections.Store). No event is appended. EINVALID for a relation
// r.CheckStorable refuses, or for an org that has not been set up
// (objections.OrgNotSetUp).
func (s *Store) PutRelation(ctx context.Context, r objections.Relation) (objections.Relation, error) {
	if err := r.CheckStorable(); err != nil {
		return objections.Relation{}, err
	}
	return writeOne(ctx, s, "put relation", func(tx dbtx) (objections.Relation, error) {
		if err := orgSetUp(ctx, tx, r.Org); err != nil {
			return objections.Relation{}, err
		}
		return scanRelation(tx.QueryRowContext(ctx, `INSERT INTO relations (`+relationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org, number, person_id, kind) DO UPDATE SET
				peildatum = max(relations.peildatum, excluded.peildatum)
			RETURNING `+relationColumns,
			r.ID, r.Org, r.Number, r.PersonID, string(r.Kind), r.Peildatum.Format(dateLayout), r.Source, formatTime(r.CreatedAt)))
	})
}

func scanRelation(r rowScanner) (objections.Relation, error) {
	var (
		rel        objections.Relation
		kind, peil string
	)
	if err := r.Scan(&rel.ID, &rel.Org, &rel.Number, &rel.PersonID, &kind, &peil, &rel.Source, at(&rel.CreatedAt)); err != nil {
		return objections.Relation{}, err
	}
	rel.Kind = objections.RelationKind(kind)
	var err error
	if rel.Peildatum, err = time.Parse(dateLayout, peil); err != nil {
		return objections.Relation{}, fmt.Errorf("stored peildatum %q: %w", peil, err)
	}
	return rel, nil
}

const consentColumns = `id, org, number, person_id, channel, given_at, withdrawn_at, source,
	evidence_ref, created_at`

// PutConsent stores a consent and returns it as stored: a repeat may add
// its withdrawal, the earliest standing (see objections.Store). No event is
// appended. EINVALID for a consent c.CheckStorable refuses, or for an org
// that has not been set up (objections.OrgNotSetUp).
func (s *Store) PutConsent(ctx context.Context, c objections.Consent) (objections.Consent, error) {
	if err := c.CheckStorable(); err != nil {
		return objections.Consent{}, err
	}
	return writeOne(ctx, s, "put consent", func(tx dbtx) (objections.Consent, error) {
		if err := orgSetUp(ctx, tx, c.Org); err != nil {
			return objections.Consent{}, err
		}
		return scanConsent(tx.QueryRowContext(ctx, `INSERT INTO consents (`+consentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org, number, person_id, channel, given_at) DO UPDATE SET
				withdrawn_at = coalesce(min(consents.withdrawn_at, excluded.withdrawn_at),
					consents.withdrawn_at, excluded.withdrawn_at)
			RETURNING `+consentColumns,
			c.ID, c.Org, c.Number, c.PersonID, string(c.Channel), formatTime(c.GivenAt), formatNullTime(c.WithdrawnAt),
			c.Source, c.EvidenceRef, formatTime(c.CreatedAt)))
	})
}

func scanConsent(r rowScanner) (objections.Consent, error) {
	var (
		c       objections.Consent
		channel string
	)
	err := r.Scan(&c.ID, &c.Org, &c.Number, &c.PersonID, &channel, at(&c.GivenAt), nullAt(&c.WithdrawnAt), &c.Source,
		&c.EvidenceRef, at(&c.CreatedAt))
	c.Channel = objections.ConsentChannel(channel)
	return c, err
}

// orgSetUp returns EINVALID naming the org when it is not stored.
func orgSetUp(ctx context.Context, tx dbtx, org string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM orgs WHERE id = ?`, org).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return objections.OrgNotSetUp(org)
	case err != nil:
		return fmt.Errorf("look up org: %w", err)
	}
	return nil
}
