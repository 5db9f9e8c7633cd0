package review

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// DefaultBcryptCost is the cost of new password hashes: about a quarter
// of a second per sign-in on a current server core.
const DefaultBcryptCost = 12

// Password rules. bcrypt reads at most 72 bytes; a longer password would
// be silently cut, so it is refused.
const (
	MinPasswordRunes = 12
	MaxPasswordBytes = 72
)

// Cookie and form field names.
const (
	sessionCookie = "verzet_session"
	signInCookie  = "verzet_signin" // pre-session: protects the sign-in form
	langCookie    = "verzet_lang"
	tokenField    = "csrf"
)

// touchEvery limits session writes: last-seen is updated at most this often.
const touchEvery = 5 * time.Minute

// ValidatePassword checks a new password for user name. EINVALID with
// field "password" says what is wrong, never the password.
func ValidatePassword(password, name string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordRunes:
		return objections.Invalid("password", "", "must have at least %d characters", MinPasswordRunes)
	case len(password) > MaxPasswordBytes:
		return objections.Invalid("password", "", "must be at most %d bytes", MaxPasswordBytes)
	case strings.TrimSpace(password) == "":
		return objections.Invalid("password", "", "must not be blank")
	case strings.EqualFold(strings.TrimSpace(password), name):
		return objections.Invalid("password", "", "must not be the user name")
	}
	return nil
}

// HashPassword validates password for user name and returns its bcrypt
// hash at cost (DefaultBcryptCost when 0). EINVALID names the rule broken.
func HashPassword(password, name string, cost int) (string, error) {
	if err := ValidatePassword(password, name); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	return hashPassword(password, cost)
}

func hashPassword(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", objections.Internal("hash password", err)
	}
	return string(h), nil
}

// GeneratePassword returns a random password of four groups of five
// characters from an alphabet without look-alikes (about 99 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		// 256 % 31 = 8: a bias of under 4 % on a few letters, which costs
		// a fraction of a bit of the 99.
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// BootstrapName is the user name of the first admin.
const BootstrapName = "admin"

// Bootstrap makes sure someone can sign in to a fresh store. With no users
// it creates the admin BootstrapName with a random password, which must be
// changed at the first sign-in, and returns name and password for serve to
// print once. While that admin has never signed in, every start gives it a
// new password (the old one was only ever printed), so a restart does not
// lock the operator out. Otherwise it returns empty strings. There is no
// fixed default password.
func Bootstrap(ctx context.Context, store Access, cost int, now time.Time) (name, password string, err error) {
	users, err := store.Users(ctx)
	if err != nil {
		return "", "", err
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	password = GeneratePassword()
	hash, err := hashPassword(password, cost)
	if err != nil {
		return "", "", err
	}
	detail := "first admin created"
	switch {
	case len(users) == 0:
		u, err := access.NewUser(BootstrapName, access.RoleAdmin, nil, hash, "serve", now)
		if err != nil {
			return "", "", err
		}
		u.MustChangePassword, u.Bootstrap = true, true
		if _, err := store.CreateUser(ctx, u); err != nil {
			if objections.ErrorCode(err) == objections.ECONFLICT {
				return "", "", nil // another process made it, and printed its password
			}
			return "", "", err
		}
	case len(users) == 1 && users[0].Bootstrap && users[0].MustChangePassword && users[0].LastSignInAt.IsZero():
		if _, err := store.SetPassword(ctx, users[0].ID, hash, true); err != nil {
			return "", "", err
		}
		detail = "unused first admin given a new password"
	default:
		return "", "", nil
	}
	e, err := access.NewAuditEntry(now, "serve", access.AuditBootstrap, BootstrapName, detail, "")
	if err != nil {
		return "", "", err
	}
	if err := store.AppendAudit(ctx, e); err != nil {
		return "", "", err
	}
	return BootstrapName, password, nil
}

// formToken derives the form token from a cookie's secret: a page can
// only carry it when it was rendered for the holder of the cookie.
func formToken(secret string) string {
	h := sha256.Sum256([]byte("verzet-form\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func validToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// secure reports whether the cookie should be Secure: the request came
// over TLS, directly or through a proxy that says so. The server in front
// (cmd/verzet) keeps X-Forwarded-Proto only on requests from a trusted
// proxy; besides, believing a forged header only makes the forger's own
// cookie Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// session returns the request's signed-in user, or nil. Expired and idle
// sessions end here.
func (s *Server) session(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 43 {
		return nil, nil
	}
	ctx := r.Context()
	ss, err := s.access.Session(ctx, access.HashSessionSecret(c.Value))
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !now.Before(ss.ExpiresAt) || now.Sub(ss.SeenAt) > s.cfg.IdleTimeout {
		if err := s.access.DeleteSession(ctx, ss.ID); err != nil {
			s.log.Warn("delete expired session", zap.Error(err))
		}
		return nil, nil
	}
	u, err := s.access.User(ctx, ss.UserID)
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled() {
		// Disabling ends the user's sessions; one made by a sign-in that
		// raced with it ends here.
		if err := s.access.DeleteSession(ctx, ss.ID); err != nil {
			s.log.Warn("delete a disabled user's session", zap.Error(err))
		}
		return nil, nil
	}
	if now.Sub(ss.SeenAt) > touchEvery {
		if err := s.access.TouchSession(ctx, ss.ID, now); err != nil {
			s.log.Warn("touch session", zap.Error(err))
		}
	}
	return &viewer{User: u, Session: ss, secret: c.Value}, nil
}

type signInData struct {
	Next      string
	Name      string
	Error     string
	SignedOut bool
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if v, err := s.session(r); err == nil && v != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, r, http.StatusOK, signInData{Next: r.URL.Query().Get("next"), SignedOut: r.URL.Query().Has("out")})
}

// renderSignIn shows the sign-in form with a fresh pre-session token.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	pre := base64.RawURLEncoding.EncodeToString(b[:])
	s.setCookie(w, r, signInCookie, pre, 0)
	d.Next = safeNext(d.Next)
	p := s.newPage(r, "signin.title", "", d)
	p.Token = formToken(pre)
	s.render(w, r, status, "signin", p)
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	l := s.lexicon(r)
	c, err := r.Cookie(signInCookie)
	if err != nil || !validToken(r.PostFormValue(tokenField), formToken(c.Value)) {
		s.errorPage(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	ctx := r.Context()
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("name")))
	password := r.PostFormValue("password")
	d := signInData{Next: r.PostFormValue("next"), Name: name}
	now := s.now()

	u, err := s.access.UserByName(ctx, name)
	switch {
	case objections.ErrorCode(err) == objections.ENOTFOUND || name == "":
		// As slow as a real check, so that timing does not tell which
		// names exist. The name typed is not logged: it may be a password.
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		if err := s.audit(r, "unknown", access.AuditSignInFailed, "", "unknown user name", nil); err != nil {
			s.fail(w, r, "audit sign-in", err)
			return
		}
		d.Error = l.T("signin.failed")
		s.renderSignIn(w, r, http.StatusUnauthorized, d)
		return
	case err != nil:
		s.fail(w, r, "read user", err)
		return
	}
	ok, locked, err := s.checkPassword(ctx, r, u, password, now)
	if err != nil {
		s.fail(w, r, "count sign-in attempt", err)
		return
	}
	// A disabled user goes through the same check, so that its answer
	// and its time are those of a wrong password, right or not.
	disabled := u.Disabled()
	if !ok || disabled {
		// A locked name answers as a wrong password does (and as an
		// unknown name): the lock must not tell which names exist.
		action, detail := access.AuditSignInFailed, ""
		switch {
		case locked:
			action = access.AuditSignInLocked
		case disabled:
			detail = "user disabled"
		}
		if err := s.audit(r, u.Name, action, u.Name, detail, u.Orgs); err != nil {
			s.fail(w, r, "audit sign-in", err)
			return
		}
		d.Error = l.T("signin.failed")
		s.renderSignIn(w, r, http.StatusUnauthorized, d)
		return
	}
	if err := s.audit(r, u.Name, access.AuditSignIn, u.Name, "", u.Orgs); err != nil {
		s.fail(w, r, "audit sign-in", err)
		return
	}
	if _, err := s.access.SignedIn(ctx, u.ID, now); err != nil {
		s.fail(w, r, "record sign-in", err)
		return
	}
	if err := s.startSession(w, r, u.ID, now); err != nil {
		s.fail(w, r, "create session", err)
		return
	}
	s.setCookie(w, r, signInCookie, "", -1)
	s.setDeviceCookie(w, r, u)
	next := safeNext(d.Next)
	if u.MustChangePassword {
		next = "/ui/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession creates a new session (never reusing one the browser
// brought: no fixation) and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID string, now time.Time) error {
	ss, secret := access.NewSession(userID, now, s.cfg.SessionTTL)
	if err := s.access.CreateSession(r.Context(), ss); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, secret, 0) // a browser-session cookie; the server ends it
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	if err := s.access.DeleteSession(r.Context(), v.Session.ID); err != nil {
		s.fail(w, r, "delete session", err)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditSignOut, v.User.Name, "", v.User.Orgs); err != nil {
		s.log.Warn("audit sign-out", zap.Error(err)) // the session is gone either way
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/ui/signin?out=1", http.StatusSeeOther)
}

type passwordData struct {
	Forced bool
	Error  string
	Done   bool
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	d := passwordData{Forced: v.User.MustChangePassword, Done: r.URL.Query().Has("done")}
	s.render(w, r, http.StatusOK, "password", s.newPage(r, "password.title", "password", d))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	l := s.lexicon(r)
	d := passwordData{Forced: v.User.MustChangePassword}
	current, next, again := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	var msg string
	switch {
	case bcrypt.CompareHashAndPassword([]byte(v.User.PasswordHash), []byte(current)) != nil:
		msg = l.T("password.wrongCurrent")
	case next != again:
		msg = l.T("password.mismatch")
	case next == current:
		msg = l.T("password.same")
	default:
		if err := ValidatePassword(next, v.User.Name); err != nil {
			msg = l.T("password.rules", MinPasswordRunes, MaxPasswordBytes)
		}
	}
	if msg != "" {
		d.Error = msg
		s.render(w, r, http.StatusUnprocessableEntity, "password", s.newPage(r, "password.title", "password", d))
		return
	}
	hash, err := hashPassword(next, s.cfg.BcryptCost)
	if err != nil {
		s.fail(w, r, "hash password", err)
		return
	}
	ctx := r.Context()
	if _, err := s.access.SetPassword(ctx, v.User.ID, hash, false); err != nil {
		s.fail(w, r, "set password", err)
		return
	}
	// Every other browser signed in as this user is signed out.
	if _, err := s.access.DeleteUserSessions(ctx, v.User.ID); err != nil {
		s.fail(w, r, "end sessions", err)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditPasswordChanged, v.User.Name, "", v.User.Orgs); err != nil {
		s.log.Warn("audit password change", zap.Error(err))
	}
	if err := s.startSession(w, r, v.User.ID, s.now()); err != nil {
		s.fail(w, r, "create session", err)
		return
	}
	u := v.User
	u.PasswordHash = hash
	s.setDeviceCookie(w, r, u) // the old password's cookie no longer counts
	if d.Forced {
		http.Redirect(w, r, "/ui/objections", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/password?done=1", http.StatusSeeOther)
}

// PruneSessions deletes expired sessions; serve runs it now and then.
func (s *Server) PruneSessions(ctx context.Context) (int64, error) {
	n, err := s.access.PruneSessions(ctx, s.now())
	if err != nil && !errors.Is(err, context.Canceled) {
		return n, err
	}
	return n, nil
}
