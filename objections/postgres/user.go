package postgres

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// This file is the storage of the supervisors' UI (objections/review):
// users, sessions, the audit log, the newest-first objection search and
// the dashboard's aggregates.

const userCols = `id, name, role, password_hash, must_change_password, bootstrap, created_at,
	created_by, failed_sign_ins, locked_until, last_sign_in_at`

// scanUser is the pgx.RowToFunc for userCols.
func scanUser(row pgx.CollectableRow) (objections.User, error) {
	var (
		u            objections.User
		role         string
		locked, last *time.Time
	)
	err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.MustChangePassword, &u.Bootstrap, &u.CreatedAt,
		&u.CreatedBy, &u.FailedSignIns, &locked, &last)
	u.Role = objections.Role(role)
	if locked != nil {
		u.LockedUntil = *locked
	}
	if last != nil {
		u.LastSignInAt = *last
	}
	return u, err
}

// optTime maps the zero time to SQL NULL.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// checkUser validates what the schema relies on and normalises times.
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
	u.CreatedAt = utc(u.CreatedAt)
	return objections.ValidateUserName(u.Name)
}

// CreateUser stores a user made by objections.NewUser. ECONFLICT when the
// name is taken; EINVALID for a user without id, valid name, role or hash.
func (s *Store) CreateUser(ctx context.Context, u objections.User) (objections.User, error) {
	if err := checkUser(&u); err != nil {
		return objections.User{}, err
	}
	rows, _ := s.pool.Query(ctx, `INSERT INTO users (`+userCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+userCols,
		u.ID, u.Name, string(u.Role), u.PasswordHash, u.MustChangePassword, u.Bootstrap, u.CreatedAt,
		u.CreatedBy, u.FailedSignIns, optTime(u.LockedUntil), optTime(u.LastSignInAt))
	stored, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		err = translate("create user", err)
		if objections.ErrorCode(err) == objections.ECONFLICT {
			return objections.User{}, &objections.Error{Code: objections.ECONFLICT, Field: "name", Value: u.Name, Message: "is taken"}
		}
		return objections.User{}, err
	}
	return stored, nil
}

// oneUser runs a query returning at most one user; ENOTFOUND naming field
// and value when it returns none.
func (s *Store) oneUser(ctx context.Context, doing, field, value, sql string, args ...any) (objections.User, error) {
	rows, _ := s.pool.Query(ctx, sql, args...)
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.User{}, objections.NotFound(field, value)
	}
	if err != nil {
		return objections.User{}, translate(doing, err)
	}
	return u, nil
}

// User returns one user by id; ENOTFOUND.
func (s *Store) User(ctx context.Context, id string) (objections.User, error) {
	return s.oneUser(ctx, "read user", "user", id, `SELECT `+userCols+` FROM users WHERE id = $1`, id)
}

// UserByName returns one user by (lower-case) name; ENOTFOUND.
func (s *Store) UserByName(ctx context.Context, name string) (objections.User, error) {
	return s.oneUser(ctx, "read user", "name", name, `SELECT `+userCols+` FROM users WHERE name = $1`, name)
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]objections.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	list, err := pgx.CollectRows(rows, scanUser)
	if err != nil {
		return nil, translate("list users", err)
	}
	return list, nil
}

// SetPassword replaces a user's password hash, sets whether the next
// sign-in must change it, and lifts any lock. ENOTFOUND, EINVALID for an
// empty hash.
func (s *Store) SetPassword(ctx context.Context, id, hash string, mustChange bool) (objections.User, error) {
	if hash == "" {
		return objections.User{}, objections.Invalid("password", "", "is empty")
	}
	return s.oneUser(ctx, "set password", "user", id, `UPDATE users
		SET password_hash = $2, must_change_password = $3, failed_sign_ins = 0, locked_until = NULL
		WHERE id = $1 RETURNING `+userCols, id, hash, mustChange)
}

// SignInFailed counts a failed sign-in of the user at time at and locks it
// as objections.LockUntil says. It returns the user as updated; ENOTFOUND.
// The row lock makes concurrent failures count one by one.
func (s *Store) SignInFailed(ctx context.Context, id string, at time.Time) (objections.User, error) {
	var out objections.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT failed_sign_ins FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&n); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return objections.NotFound("user", id)
			}
			return err
		}
		n++
		rows, _ := tx.Query(ctx, `UPDATE users SET failed_sign_ins = $2, locked_until = $3 WHERE id = $1 RETURNING `+userCols,
			id, n, optTime(objections.LockUntil(n, at)))
		var err error
		out, err = pgx.CollectExactlyOneRow(rows, scanUser)
		return err
	})
	if err != nil {
		return objections.User{}, translate("count failed sign-in", err)
	}
	return out, nil
}

// SignedIn records a good sign-in at time at: the failure count and any
// lock are cleared. ENOTFOUND.
func (s *Store) SignedIn(ctx context.Context, id string, at time.Time) (objections.User, error) {
	return s.oneUser(ctx, "record sign-in", "user", id, `UPDATE users
		SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $2
		WHERE id = $1 RETURNING `+userCols, id, utc(at))
}

// CreateSession stores a session made by objections.NewSession. EINVALID
// without id or user (or for an unknown user); ECONFLICT for an id in use.
func (s *Store) CreateSession(ctx context.Context, ss objections.Session) error {
	if ss.ID == "" || ss.UserID == "" {
		return objections.Invalid("session", "", "needs an id and a user")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO ui_sessions (id, user_id, created_at, seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, ss.ID, ss.UserID, utc(ss.CreatedAt), utc(ss.SeenAt), utc(ss.ExpiresAt))
	return translate("create session", err)
}

// Session returns one session by id, expired or not; ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (objections.Session, error) {
	var ss objections.Session
	err := s.pool.QueryRow(ctx, `SELECT id, user_id, created_at, seen_at, expires_at FROM ui_sessions WHERE id = $1`, id).
		Scan(&ss.ID, &ss.UserID, &ss.CreatedAt, &ss.SeenAt, &ss.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.Session{}, objections.NotFound("session", "")
	}
	if err != nil {
		return objections.Session{}, translate("read session", err)
	}
	return ss, nil
}

// TouchSession sets the session's last-seen time.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE ui_sessions SET seen_at = $2 WHERE id = $1`, id, utc(at))
	return translate("touch session", err)
}

// DeleteSession ends one session; ending one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE id = $1`, id)
	return translate("delete session", err)
}

// DeleteUserSessions ends every session of a user (after a password
// change) and returns how many there were.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, translate("delete sessions", err)
	}
	return tag.RowsAffected(), nil
}

// PruneSessions deletes the sessions that expired before before.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE expires_at < $1`, utc(before))
	if err != nil {
		return 0, translate("prune sessions", err)
	}
	return tag.RowsAffected(), nil
}

// AppendAudit adds an entry made by objections.NewAuditEntry to the audit
// log. EINVALID without id, actor or a known action.
func (s *Store) AppendAudit(ctx context.Context, e objections.AuditEntry) error {
	if e.ID == "" || e.Actor == "" || !e.Action.Valid() || e.At.IsZero() {
		return objections.Invalid("audit entry", string(e.Action), "needs an id, a time, an actor and a known action")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit_log (id, at, actor, action, subject, detail, remote)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, utc(e.At), e.Actor, string(e.Action), e.Subject, e.Detail, e.Remote)
	return translate("append audit entry", err)
}

// AuditLog returns one page of the audit log, newest first (in the order
// written). f.Before is the id of the last entry of the previous page.
func (s *Store) AuditLog(ctx context.Context, f objections.AuditFilter) ([]objections.AuditEntry, error) {
	var w where
	w.eq("actor", f.Actor)
	w.eq("action", string(f.Action))
	if f.Before != "" {
		w.add("seq < (SELECT seq FROM audit_log WHERE id = " + w.arg(f.Before) + ")")
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, at, actor, action, subject, detail, remote FROM audit_log`+w.sql()+
		` ORDER BY seq DESC LIMIT `+strconv.Itoa(f.PageLimit()), w.args...)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (objections.AuditEntry, error) {
		var (
			e      objections.AuditEntry
			action string
		)
		err := row.Scan(&e.ID, &e.At, &e.Actor, &action, &e.Subject, &e.Detail, &e.Remote)
		e.Action = objections.AuditAction(action)
		return e, err
	})
	if err != nil {
		return nil, translate("read audit log", err)
	}
	return list, nil
}

// objectionWhere is the WHERE of Objections without its cursor.
func objectionWhere(f objections.ObjectionFilter) (where, error) {
	var w where
	w.eq("o.org", f.Org)
	w.eq("o.number", f.Number)
	w.eq("o.campaign_ref", f.Campaign)
	w.eq("o.source", string(f.Source))
	switch f.Status {
	case "":
	case objections.StatusActive, objections.StatusPendingNumber:
		w.add("v.objection_id IS NULL")
		w.eq("o.status", string(f.Status))
	case objections.StatusVoided:
		w.add("v.objection_id IS NOT NULL")
	default:
		return w, objections.Invalid("status", string(f.Status), "must be one of active, voided, pending_number")
	}
	w.cmp("o.received_at >=", f.Since)
	w.cmp("o.received_at <", f.Until)
	return w, nil
}

// SearchObjections returns the objections f selects newest first: f.Limit
// of them after skipping offset, and how many match in all. f.After is
// ignored. EINVALID for an unknown status or an offset beyond
// objections.MaxSearchOffset. Both reads see one snapshot.
func (s *Store) SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error) {
	if offset < 0 || offset > objections.MaxSearchOffset {
		return objections.ObjectionPage{}, objections.Invalid("offset", strconv.Itoa(offset), "must be between 0 and %d", objections.MaxSearchOffset)
	}
	w, err := objectionWhere(f)
	if err != nil {
		return objections.ObjectionPage{}, err
	}
	var page objections.ObjectionPage
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM objections o
			LEFT JOIN objection_voids v ON v.objection_id = o.id`+w.sql(), w.args...).Scan(&page.Total); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, objectionSelect+w.sql()+` ORDER BY o.id DESC LIMIT `+strconv.Itoa(f.PageLimit())+
			` OFFSET `+strconv.Itoa(offset), w.args...)
		var err error
		page.Objections, err = pgx.CollectRows(rows, scanObjection)
		return err
	})
	if err != nil {
		return objections.ObjectionPage{}, translate("search objections", err)
	}
	if page.Objections == nil {
		page.Objections = []objections.Objection{}
	}
	return page, nil
}

// OfferByCallRef returns the offer of one call; ENOTFOUND.
func (s *Store) OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error) {
	rows, _ := s.pool.Query(ctx, offerSelect+` WHERE provider = $1 AND call_ref = $2`, provider, callRef)
	o, err := pgx.CollectExactlyOneRow(rows, scanOffer)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.Offer{}, objections.NotFound("call_ref", callRef)
	}
	if err != nil {
		return objections.Offer{}, translate("read offer", err)
	}
	return o, nil
}

// EventsFor returns the events of the log about one objection or offer, in
// sequence order.
func (s *Store) EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error) {
	rows, _ := s.pool.Query(ctx, `SELECT seq, kind, org, subject_id, at, payload, prev_hash, hash
		FROM events WHERE subject_id = $1 ORDER BY seq LIMIT 100`, subjectID)
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (objections.Event, error) {
		var (
			e       objections.Event
			kind    string
			payload []byte
		)
		err := row.Scan(&e.Seq, &kind, &e.Org, &e.SubjectID, &e.At, &payload, &e.PrevHash, &e.Hash)
		e.Kind, e.Payload = objections.EventKind(kind), payload
		return e, err
	})
	if err != nil {
		return nil, translate("read events", err)
	}
	return list, nil
}

// maxStatsDays bounds a dashboard range.
const maxStatsDays = 3660

// Stats counts objections and offers per calendar day (in f's location,
// by its IANA name) and campaign over f's range, grouped in SQL. Rows are
// ordered by day, then campaign. EINVALID for a missing, reversed or
// over-long range.
func (s *Store) Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error) {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return nil, objections.Invalid("range", "", "needs a start before its end")
	}
	if f.Until.Sub(f.Since) > maxStatsDays*24*time.Hour {
		return nil, objections.Invalid("range", "", "is longer than %d days", maxStatsDays)
	}
	var wo, wf where
	tz := wo.arg(f.Loc().String())
	wf.arg(f.Loc().String())
	wo.cmp("o.received_at >=", f.Since)
	wo.cmp("o.received_at <", f.Until)
	wo.eq("o.org", f.Org)
	wo.eq("o.campaign_ref", f.Campaign)
	wf.cmp("started_at >=", f.Since)
	wf.cmp("started_at <", f.Until)
	wf.eq("org", f.Org)
	wf.eq("campaign_ref", f.Campaign)

	type key struct{ day, campaign string }
	acc := map[key]*objections.DayStat{}
	get := func(day, campaign string) *objections.DayStat {
		k := key{day, campaign}
		if acc[k] == nil {
			acc[k] = &objections.DayStat{Day: day, Campaign: campaign}
		}
		return acc[k]
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT to_char(o.received_at AT TIME ZONE `+tz+`, 'YYYY-MM-DD') AS day, o.campaign_ref,
				count(*), count(v.objection_id)
			FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`+wo.sql()+`
			GROUP BY 1, 2`, wo.args...)
		var day, campaign string
		var n, m int
		if _, err := pgx.ForEachRow(rows, []any{&day, &campaign, &n, &m}, func() error {
			d := get(day, campaign)
			d.Objections, d.Voided = n, m
			return nil
		}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT to_char(started_at AT TIME ZONE `+tz+`, 'YYYY-MM-DD') AS day, campaign_ref,
				count(*), count(*) FILTER (WHERE outcome = 'objected')
			FROM offers`+wf.sql()+` GROUP BY 1, 2`, wf.args...)
		_, err := pgx.ForEachRow(rows, []any{&day, &campaign, &n, &m}, func() error {
			d := get(day, campaign)
			d.Offers, d.Objected = n, m
			return nil
		})
		return err
	})
	if err != nil {
		return nil, translate("count per day", err)
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
