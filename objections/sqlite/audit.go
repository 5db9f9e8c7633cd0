package sqlite

import (
	"context"

	"github.com/verzet/verzet/objections/access"
)

// The audit log (access.AuditStore).

const auditColumns = `id, at, actor, action, subject, detail, remote`

func scanAudit(r rowScanner) (access.AuditEntry, error) {
	var (
		e          access.AuditEntry
		at, action string
	)
	if err := r.Scan(&e.ID, &at, &e.Actor, &action, &e.Subject, &e.Detail, &e.Remote); err != nil {
		return access.AuditEntry{}, err
	}
	e.Action = access.AuditAction(action)
	var err error
	e.At, err = parseTime(at)
	return e, err
}

// AppendAudit adds an entry made by access.NewAuditEntry to the audit
// log (see access.AuditStore).
func (s *Store) AppendAudit(ctx context.Context, e access.AuditEntry) error {
	if err := e.CheckStorable(); err != nil {
		return err
	}
	return s.exec(ctx, "append audit entry", `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.ID, formatTime(e.At), e.Actor, string(e.Action), e.Subject, e.Detail, e.Remote)
}

// AuditLog returns one page of the audit log, newest first (in the order
// written). f.Before is the id of the last entry of the previous page.
func (s *Store) AuditLog(ctx context.Context, f access.AuditFilter) ([]access.AuditEntry, error) {
	var w where
	w.eq("actor", f.Actor)
	w.eq("action", string(f.Action))
	if f.Before != "" {
		w.add("seq < (SELECT seq FROM audit_log WHERE id = ?)", f.Before)
	}
	rows, err := s.q().QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log`+w.sql()+` ORDER BY seq DESC LIMIT ?`,
		append(w.args, f.PageLimit())...)
	if err != nil {
		return nil, translate("read audit log", err)
	}
	list, err := collect(rows, scanAudit)
	if err != nil {
		return nil, translate("read audit log", err)
	}
	return list, nil
}
