package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const orgColumns = `id, name, sector, relation_term_months, term_justification, language,
	auto_created, created_at, updated_at, ivr, kind, agencies`

// scanOrg is the pgx.RowToFunc for orgColumns.
func scanOrg(row pgx.CollectableRow) (objections.Org, error) {
	var (
		o      objections.Org
		sector string
		ivr    []byte
		kind   string
		agys   string
	)
	err := row.Scan(&o.ID, &o.Name, &sector, &o.RelationTermMonths, &o.TermJustification, &o.Language,
		&o.AutoCreated, &o.CreatedAt, &o.UpdatedAt, &ivr, &kind, &agys)
	o.Sector, o.Kind, o.Agencies = objections.Sector(sector), objections.OrgKind(kind), objections.SplitIDs(agys)
	if err == nil && len(ivr) > 0 {
		err = json.Unmarshal(ivr, &o.IVR)
	}
	return o, err
}

// SetOrg creates or replaces an org and returns it as stored. EINVALID
// for a bad org (see objections.Org.Normalize).
func (s *Store) SetOrg(ctx context.Context, o objections.Org) (objections.Org, error) {
	if err := o.Normalize(); err != nil {
		return objections.Org{}, err
	}
	o.CreatedAt, o.UpdatedAt = utc(o.CreatedAt), utc(o.UpdatedAt)
	return queryOne(ctx, s.pool, "store org", "org", o.ID, scanOrg, `INSERT INTO orgs (`+orgColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sector = EXCLUDED.sector,
			kind = EXCLUDED.kind, agencies = EXCLUDED.agencies,
			relation_term_months = EXCLUDED.relation_term_months,
			term_justification = EXCLUDED.term_justification, language = EXCLUDED.language,
			auto_created = EXCLUDED.auto_created, created_at = EXCLUDED.created_at,
			updated_at = EXCLUDED.updated_at, ivr = EXCLUDED.ivr
		RETURNING `+orgColumns,
		o.ID, o.Name, string(o.Sector), o.RelationTermMonths, o.TermJustification, o.Language,
		o.AutoCreated, o.CreatedAt, o.UpdatedAt, ivrJSON(o.IVR), string(o.Kind), objections.JoinIDs(o.Agencies))
}

// Org returns one org; ENOTFOUND when it does not exist.
func (s *Store) Org(ctx context.Context, id string) (objections.Org, error) {
	return queryOne(ctx, s.pool, "read org", "org", id, scanOrg, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id)
}

// Orgs lists all orgs by id.
func (s *Store) Orgs(ctx context.Context) ([]objections.Org, error) {
	return queryAll(ctx, s.pool, "list orgs", scanOrg, `SELECT `+orgColumns+` FROM orgs ORDER BY id`)
}

// ivrJSON encodes an org's IVR settings; the struct has no field that can
// fail to encode.
func ivrJSON(s objections.IVRSettings) string {
	b, _ := json.Marshal(s)
	return string(b)
}
