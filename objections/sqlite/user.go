package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// This file is the storage of the supervisors' UI (objections/review):
// users, sessions, the audit log, the newest-first objection search and
// the dashboard's aggregates.

const userColumns = `id, name, role, password_hash, must_change_password, bootstrap, created_at,
	created_by, failed_sign_ins, locked_until, last_sign_in_at`

func scanUser(r rowScanner) (objections.User, error) {
	var (
		u                           objections.User
		role, created, locked, last string
		must, boot                  int
	)
	if err := r.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &must, &boot, &created,
		&u.CreatedBy, &u.FailedSignIns, &locked, &last); err != nil {
		return objections.User{}, err
	}
	u.Role, u.MustChangePassword, u.Bootstrap = objections.Role(role), must != 0, boot != 0
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return objections.User{}, err
	}
	if u.LockedUntil, err = parseOptTime(locked); err != nil {
		return objections.User{}, err
	}
	if u.LastSignInAt, err = parseOptTime(last); err != nil {
		return objections.User{}, err
	}
	return u, nil
}

// parseOptTime reads a time column where the empty string means none.
func parseOptTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// checkUser validates what the schema relies on.
func checkUser(u *objections.User) error {
	switch {
	case u.ID == "":
		return objections.Invalid("id", u.ID, "is empty")
	case !objections.ValidUserRole(u.Role):
		return objections.Invalid("role", string(u.Role), "must be supervisor or admin")
	case u.PasswordHash == "":
		return objections.Invalid("password", "", "is empty")
	case u.CreatedAt.IsZero():
		return objections.Invalid("created_at", "", "is required")
	}
	return objections.ValidateUserName(u.Name)
}

// CreateUser stores a user made by objections.NewUser. ECONFLICT when the
// name is taken; EINVALID for a user without id, valid name, role or hash.
func (s *Store) CreateUser(ctx context.Context, u objections.User) (objections.User, error) {
	if err := checkUser(&u); err != nil {
		return objections.User{}, err
	}
	var out objections.User
	err := s.write(ctx, "create user", func(tx dbtx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, u.Name).Scan(&one)
		switch {
		case err == nil:
			return &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: u.Name, Message: "is taken"}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("look up user name: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Name, string(u.Role), u.PasswordHash, boolInt(u.MustChangePassword), boolInt(u.Bootstrap),
			formatTime(u.CreatedAt), u.CreatedBy, u.FailedSignIns, formatOptTime(u.LockedUntil),
			formatOptTime(u.LastSignInAt)); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, u.ID))
		return err
	})
	if err != nil {
		return objections.User{}, err
	}
	return out, nil
}

// User returns one user by id; ENOTFOUND.
func (s *Store) User(ctx context.Context, id string) (objections.User, error) {
	u, err := scanUser(s.q().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return objections.User{}, storeError("read user", notFound(err, "user", id))
	}
	return u, nil
}

// UserByName returns one user by (lower-case) name; ENOTFOUND.
func (s *Store) UserByName(ctx context.Context, name string) (objections.User, error) {
	u, err := scanUser(s.q().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return objections.User{}, storeError("read user", notFound(err, "name", name))
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]objections.User, error) {
	rows, err := s.q().QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, storeError("list users", err)
	}
	list, err := collect(rows, scanUser)
	if err != nil {
		return nil, storeError("list users", err)
	}
	return list, nil
}

// updateUser runs one UPDATE of the user with id and returns the user as
// it is afterwards; ENOTFOUND when there is none.
func (s *Store) updateUser(ctx context.Context, doing, id string, fn func(u objections.User) (string, []any)) (objections.User, error) {
	var out objections.User
	err := s.write(ctx, doing, func(tx dbtx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "user", id)
		}
		set, args := fn(u)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET `+set+` WHERE id = ?`, append(args, id)...); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return objections.User{}, err
	}
	return out, nil
}

// SetPassword replaces a user's password hash, sets whether the next
// sign-in must change it, and lifts any lock. ENOTFOUND, EINVALID for an
// empty hash.
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool) (objections.User, error) {
	if hash == "" {
		return objections.User{}, objections.Invalid("password", "", "is empty")
	}
	return s.updateUser(ctx, "set password", id, func(objections.User) (string, []any) {
		return `password_hash = ?, must_change_password = ?, failed_sign_ins = 0, locked_until = ''`,
			[]any{hash, boolInt(mustChange)}
	})
}

// SignInFailed counts a failed sign-in of the user at time at and locks it
// as objections.LockUntil says. It returns the user as updated; ENOTFOUND.
func (s *Store) SignInFailed(ctx context.Context, id string, at time.Time) (objections.User, error) {
	return s.updateUser(ctx, "count failed sign-in", id, func(u objections.User) (string, []any) {
		n := u.FailedSignIns + 1
		return `failed_sign_ins = ?, locked_until = ?`, []any{n, formatOptTime(objections.LockUntil(n, at))}
	})
}

// SignedIn records a good sign-in at time at: the failure count and any
// lock are cleared. ENOTFOUND.
func (s *Store) SignedIn(ctx context.Context, id string, at time.Time) (objections.User, error) {
	return s.updateUser(ctx, "record sign-in", id, func(objections.User) (string, []any) {
		return `failed_sign_ins = 0, locked_until = '', last_sign_in_at = ?`, []any{formatTime(at)}
	})
}

const sessionColumns = `id, user_id, created_at, seen_at, expires_at`

func scanSession(r rowScanner) (objections.Session, error) {
	var (
		ss                    objections.Session
		created, seen, expire string
	)
	if err := r.Scan(&ss.ID, &ss.UserID, &created, &seen, &expire); err != nil {
		return objections.Session{}, err
	}
	var err error
	if ss.CreatedAt, err = parseTime(created); err != nil {
		return objections.Session{}, err
	}
	if ss.SeenAt, err = parseTime(seen); err != nil {
		return objections.Session{}, err
	}
	if ss.ExpiresAt, err = parseTime(expire); err != nil {
		return objections.Session{}, err
	}
	return ss, nil
}

// CreateSession stores a session made by objections.NewSession. EINVALID
// without id or user; ECONFLICT for an unknown user or an id in use.
func (s *Store) CreateSession(ctx context.Context, ss objections.Session) error {
	if ss.ID == "" || ss.UserID == "" {
		return objections.Invalid("session", "", "needs an id and a user")
	}
	return s.write(ctx, "create session", func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ui_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?)`,
			ss.ID, ss.UserID, formatTime(ss.CreatedAt), formatTime(ss.SeenAt), formatTime(ss.ExpiresAt))
		return err
	})
}

// Session returns one session by id, expired or not; ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (objections.Session, error) {
	ss, err := scanSession(s.q().QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM ui_sessions WHERE id = ?`, id))
	if err != nil {
		return objections.Session{}, storeError("read session", notFound(err, "session", ""))
	}
	return ss, nil
}

// TouchSession sets the session's last-seen time.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, "touch session", func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ui_sessions SET seen_at = ? WHERE id = ?`, formatTime(at), id)
		return err
	})
}

// DeleteSession ends one session; ending one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, "delete session", func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE id = ?`, id)
		return err
	})
}

// DeleteUserSessions ends every session of a user (after a password
// change) and returns how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.write(ctx, "delete sessions", func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PruneSessions deletes the sessions that expired before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "prune sessions", func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE expires_at < ?`, formatTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

const auditColumns = `id, at, actor, action, subject, detail, remote`

func scanAudit(r rowScanner) (objections.AuditEntry, error) {
	var (
		e          objections.AuditEntry
		at, action string
	)
	if err := r.Scan(&e.ID, &at, &e.Actor, &action, &e.Subject, &e.Detail, &e.Remote); err != nil {
		return objections.AuditEntry{}, err
	}
	e.Action = objections.AuditAction(action)
	var err error
	e.At, err = parseTime(at)
	return e, err
}

// AppendAudit adds an entry made by objections.NewAuditEntry to the audit
// log. EINVALID without id, actor or a known action.
func (s *Store) AppendAudit(ctx context.Context, e objections.AuditEntry) error {
	if e.ID == "" || e.Actor == "" || !e.Action.Valid() || e.At.IsZero() {
		return objections.Invalid("audit entry", string(e.Action), "needs an id, a time, an actor and a known action")
	}
	return s.write(ctx, "append audit entry", func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.ID, formatTime(e.At), e.Actor, string(e.Action), e.Subject, e.Detail, e.Remote)
		return err
	})
}

// AuditLog returns one page of the audit log, newest first (in the order
// written). f.Before is the id of the last entry of the previous page.
func (s *Store) AuditLog(ctx context.Context, f objections.AuditFilter) ([]objections.AuditEntry, error) {
	var w where
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		w.add("action = ?", string(f.Action))
	}
	if f.Before != "" {
		w.add("seq < (SELECT seq FROM audit_log WHERE id = ?)", f.Before)
	}
	rows, err := s.q().QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log`+w.String()+` ORDER BY seq DESC LIMIT ?`,
		append(w.args, f.PageLimit())...)
	if err != nil {
		return nil, storeError("read audit log", err)
	}
	list, err := collect(rows, scanAudit)
	if err != nil {
		return nil, storeError("read audit log", err)
	}
	return list, nil
}

// objectionWhere is the WHERE of Objections without its cursor.
func objectionWhere(f objections.ObjectionFilter) (where, error) {
	var w where
	if f.Org != "" {
		w.add("o.org = ?", f.Org)
	}
	if f.Number != "" {
		w.add("o.number = ?", f.Number)
	}
	if f.Campaign != "" {
		w.add("o.campaign_ref = ?", f.Campaign)
	}
	if f.Source != "" {
		w.add("o.source = ?", string(f.Source))
	}
	switch f.Status {
	case "":
	case objections.StatusActive, objections.StatusPendingNumber:
		w.add("v.objection_id IS NULL AND o.status = ?", string(f.Status))
	case objections.StatusVoided:
		w.add("v.objection_id IS NOT NULL")
	default:
		return w, objections.Invalid("status", string(f.Status), "must be one of active, voided, pending_number")
	}
	if !f.Since.IsZero() {
		w.add("o.received_at >= ?", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("o.received_at < ?", formatTime(f.Until))
	}
	return w, nil
}

// SearchObjections returns the objections f selects newest first: f.Limit
// of them after skipping offset, and how many match in all. f.After is
// ignored. EINVALID for an unknown status or an offset beyond
// objections.MaxSearchOffset.
func (s *Store) SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error) {
	if offset < 0 || offset > objections.MaxSearchOffset {
		return objections.ObjectionPage{}, objections.Invalid("offset", strconv.Itoa(offset), "must be between 0 and %d", objections.MaxSearchOffset)
	}
	w, err := objectionWhere(f)
	if err != nil {
		return objections.ObjectionPage{}, err
	}
	page := objections.ObjectionPage{Objections: []objections.Objection{}}
	err = s.read(ctx, "search objections", func(tx dbtx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM objections o
			LEFT JOIN objection_voids v ON v.objection_id = o.id`+w.String(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, objectionSelect+w.String()+` ORDER BY o.id DESC LIMIT ? OFFSET ?`,
			append(append([]any{}, w.args...), f.PageLimit(), offset)...)
		if err != nil {
			return err
		}
		page.Objections, err = collectObjections(rows)
		return err
	})
	if err != nil {
		return objections.ObjectionPage{}, err
	}
	return page, nil
}

// OfferByCallRef returns the offer of one call; ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	o, err := scanOffer(s.q().QueryRowContext(ctx, `SELECT `+offerColumns+` FROM offers WHERE provider = ? AND call_ref = ?`,
		provider, callRef))
	if err != nil {
		return objections.Offer{}, storeError("read offer", notFound(err, "call_ref", callRef))
	}
	return o, nil
}

// EventsFor returns the events of the log about one objection or offer, in
// sequence order.
func (s *Store) EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error) {
	rows, err := s.q().QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE subject_id = ? ORDER BY seq LIMIT 100`, subjectID)
	if err != nil {
		return nil, storeError("read events", err)
	}
	list, err := collect(rows, scanEvent)
	if err != nil {
		return nil, storeError("read events", err)
	}
	return list, nil
}

// maxStatsDays bounds a dashboard range.
const maxStatsDays = 3660

// checkStats validates a stats range.
func checkStats(f objections.StatsFilter) error {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return objections.Invalid("range", "", "needs a start before its end")
	}
	if f.Until.Sub(f.Since) > maxStatsDays*24*time.Hour {
		return objections.Invalid("range", "", "is longer than %d days", maxStatsDays)
	}
	return nil
}

// Stats counts objections and offers per calendar day (in f's location)
// and campaign over f's range, grouped in SQL. Rows are ordered by day,
// then campaign. EINVALID for a missing, reversed or over-long range.
//
// SQLite knows no time zones, so the local day is computed with the UTC
// offsets in force over the range: a CASE over the zone's transitions,
// which Go's time package knows.
func (s *Store) Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error) {
	if err := checkStats(f); err != nil {
		return nil, err
	}
	dayObj, dayArgsObj := localDay("o.received_at", f)
	dayOff, dayArgsOff := localDay("started_at", f)

	var wo, wf where
	wo.add("o.received_at >= ? AND o.received_at < ?", formatTime(f.Since), formatTime(f.Until))
	wf.add("started_at >= ? AND started_at < ?", formatTime(f.Since), formatTime(f.Until))
	if f.Org != "" {
		wo.add("o.org = ?", f.Org)
		wf.add("org = ?", f.Org)
	}
	if f.Campaign != "" {
		wo.add("o.campaign_ref = ?", f.Campaign)
		wf.add("campaign_ref = ?", f.Campaign)
	}
	type key struct{ day, campaign string }
	acc := map[key]*objections.DayStat{}
	get := func(day, campaign string) *objections.DayStat {
		k := key{day, campaign}
		if acc[k] == nil {
			acc[k] = &objections.DayStat{Day: day, Campaign: campaign}
		}
		return acc[k]
	}
	err := s.read(ctx, "count per day", func(tx dbtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+dayObj+` AS day, o.campaign_ref, count(*), count(v.objection_id)
			FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`+wo.String()+`
			GROUP BY day, o.campaign_ref`, append(dayArgsObj, wo.args...)...)
		if err != nil {
			return err
		}
		if err := eachRow(rows, func(r rowScanner) error {
			var day, campaign string
			var n, voided int
			if err := r.Scan(&day, &campaign, &n, &voided); err != nil {
				return err
			}
			d := get(day, campaign)
			d.Objections, d.Voided = n, voided
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+dayOff+` AS day, campaign_ref, count(*),
				coalesce(sum(outcome = 'objected'), 0)
			FROM offers`+wf.String()+` GROUP BY day, campaign_ref`, append(dayArgsOff, wf.args...)...)
		if err != nil {
			return err
		}
		return eachRow(rows, func(r rowScanner) error {
			var day, campaign string
			var n, objected int
			if err := r.Scan(&day, &campaign, &n, &objected); err != nil {
				return err
			}
			d := get(day, campaign)
			d.Offers, d.Objected = n, objected
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := make([]objections.DayStat, 0, len(acc))
	for _, d := range acc {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Campaign < out[j].Campaign
	})
	return out, nil
}

// localDay returns the SQL of the local calendar day of the UTC time in
// col, and its arguments: date(col, '+N seconds') with N the zone's offset
// at that instant, chosen by a CASE over the zone's transitions in f's
// range.
func localDay(col string, f objections.StatsFilter) (string, []any) {
	loc := f.Loc()
	type span struct {
		end    time.Time // exclusive; zero for the last
		offset int
	}
	var spans []span
	t := f.Since
	for range 1000 { // a zone changes offset a few times a year
		_, off := t.In(loc).Zone()
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(f.Until) {
			spans = append(spans, span{offset: off})
			break
		}
		spans = append(spans, span{end: end, offset: off})
		t = end
	}
	mod := func(off int) string { return fmt.Sprintf("%+d seconds", off) }
	if len(spans) == 1 {
		return "date(" + col + ", ?)", []any{mod(spans[0].offset)}
	}
	var b strings.Builder
	var args []any
	b.WriteString("date(" + col + ", CASE")
	for _, sp := range spans[:len(spans)-1] {
		b.WriteString(" WHEN " + col + " < ? THEN ?")
		args = append(args, formatTime(sp.end), mod(sp.offset))
	}
	b.WriteString(" ELSE ? END)")
	args = append(args, mod(spans[len(spans)-1].offset))
	return b.String(), args
}

// eachRow calls fn for every row and closes rows.
func eachRow(rows *sql.Rows, fn func(r rowScanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
