package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections/access"
)

// The audit log (access.AuditStore).

const auditColumns = `id, at, actor, action, subject, detail, remote, orgs`

// scanAudit is the pgx.RowToFunc for auditColumns.
func scanAudit(row pgx.CollectableRow) (access.AuditEntry, error) {
	var (
		e      access.AuditEntry
		action string
	)
	var orgs string
	err := row.Scan(&e.ID, &e.At, &e.Actor, &action, &e.Subject, &e.Detail, &e.Remote, &orgs)
	e.Orgs = access.ParseScope(orgs)
	e.Action = access.AuditAction(action)
	return e, err
}

// AppendAudit adds an entry made by access.NewAuditEntry to the audit
// log (see access.AuditStore).
func (s *Store) AppendAudit(ctx context.Context, e access.AuditEntry) error {
	if err := e.CheckStorable(); err != nil {
		return err
	}
	return s.exec(ctx, "append audit entry", `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ID, e.At, e.Actor, string(e.Action), e.Subject, e.Detail, e.Remote, e.Orgs.Stored())
}

// AuditLog returns one page of the audit log, newest first (in the order
// written). f.Before is the id of the last entry of the previous page.
func (s *Store) AuditLog(ctx context.Context, f access.AuditFilter) ([]access.AuditEntry, error) {
	w := auditWhere(f)
	return queryAll(ctx, s.pool, "read audit log", scanAudit, `SELECT `+auditColumns+` FROM audit_log`+w.sql()+
		` ORDER BY seq DESC LIMIT `+strconv.Itoa(f.PageLimit()), w.args...)
}
