package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

const orgColumns = `id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr, kind, agencies`

// SetOrg creates or replaces an org and returns it as stored. A replaced org
// keeps its created_at. EINVALID for a bad org.
func (s *Store) SetOrg(ctx context.Context, o objections.Org) (objections.Org, error) {
	if err := o.Normalize(); err != nil {
		return objections.Org{}, err
	}
	return writeOne(ctx, s, "set org", func(tx dbtx) (objections.Org, error) {
		return scanOrg(tx.QueryRowContext(ctx, `INSERT INTO orgs (`+orgColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				name = excluded.name, sector = excluded.sector,
				kind = excluded.kind, agencies = excluded.agencies,
				relation_term_months = excluded.relation_term_months,
				term_justification = excluded.term_justification,
				language = excluded.language, auto_created = excluded.auto_created,
				updated_at = excluded.updated_at, ivr = excluded.ivr
			RETURNING `+orgColumns,
			o.ID, o.Name, string(o.Sector), o.RelationTermMonths, o.TermJustification, o.Language,
			boolInt(o.AutoCreated), formatTime(o.CreatedAt), formatTime(o.UpdatedAt), ivrJSON(o.IVR),
			string(o.Kind), objections.JoinIDs(o.Agencies)))
	})
}

// Org returns one org; ENOTFOUND when it does not exist.
func (s *Store) Org(ctx context.Context, id string) (objections.Org, error) {
	return queryOne(ctx, s.q(), "read org", "org", id, scanOrg, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id)
}

// Orgs lists all orgs by id.
func (s *Store) Orgs(ctx context.Context) ([]objections.Org, error) {
	return queryAll(ctx, s.q(), "list orgs", scanOrg, `SELECT `+orgColumns+` FROM orgs ORDER BY id`)
}

// ensureOrg creates the DefaultOrg for id when no org has it, so that no key
// press is refused for an org nobody set up.
func ensureOrg(ctx context.Context, tx dbtx, id string, now time.Time) error {
	return insertDefault(ctx, tx, objections.DefaultOrg(id, now))
}

// ensureAgency creates the DefaultAgency for id when id is set and no org
// has it: an agency met during a call before anyone set it up.
func ensureAgency(ctx context.Context, tx dbtx, id string, now time.Time) error {
	if id == "" {
		return nil
	}
	return insertDefault(ctx, tx, objections.DefaultAgency(id, now))
}

func insertDefault(ctx context.Context, tx dbtx, o objections.Org) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO orgs (`+orgColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		o.ID, o.Name, string(o.Sector), o.RelationTermMonths, o.TermJustification, o.Language,
		boolInt(o.AutoCreated), formatTime(o.CreatedAt), formatTime(o.UpdatedAt), ivrJSON(o.IVR),
		string(o.Kind), objections.JoinIDs(o.Agencies))
	if err != nil {
		return fmt.Errorf("create default org: %w", err)
	}
	return nil
}

// agencyUnlisted reports whether agency (when set) is missing from the
// agencies org lists, read in tx.
func agencyUnlisted(ctx context.Context, tx dbtx, org, agency string) (bool, error) {
	if agency == "" {
		return false, nil
	}
	var agencies string
	err := tx.QueryRowContext(ctx, `SELECT agencies FROM orgs WHERE id = ?`, org).Scan(&agencies)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read agencies: %w", err)
	}
	return !objections.Org{Agencies: objections.SplitIDs(agencies)}.Allows(agency), nil
}

func scanOrg(r rowScanner) (objections.Org, error) {
	var (
		o              objections.Org
		sector, ivr    string
		kind, agencies string
	)
	if err := r.Scan(&o.ID, &o.Name, &sector, &o.RelationTermMonths, &o.TermJustification, &o.Language,
		&o.AutoCreated, at(&o.CreatedAt), at(&o.UpdatedAt), &ivr, &kind, &agencies); err != nil {
		return objections.Org{}, err
	}
	o.Sector, o.Kind, o.Agencies = objections.Sector(sector), objections.OrgKind(kind), objections.SplitIDs(agencies)
	if ivr != "" {
		if err := json.Unmarshal([]byte(ivr), &o.IVR); err != nil {
			return objections.Org{}, err
		}
	}
	return o, nil
}

// ivrJSON encodes an org's IVR settings; the struct has no field that can
// fail to encode.
func ivrJSON(s objections.IVRSettings) string {
	b, _ := json.Marshal(s)
	return string(b)
}
