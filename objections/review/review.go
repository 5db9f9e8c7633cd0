package review

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Prefix is where the UI is mounted.
const Prefix = "/ui/"

// Access is what the UI keeps of the people who use it: users, their
// sessions and the audit log of what they did.
type Access interface {
	access.UserStore
	access.SessionStore
	access.AuditStore
}

// Records is what the UI reads of the register besides objections.Store:
// the newest-first searches of objections and calls with their totals, the
// numbers a part of a number finds, the offer of a call, the events of one
// record, and the dashboard's counts per day.
type Records interface {
	SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error)
	SearchOffers(ctx context.Context, f objections.OfferFilter, offset int) (objections.OfferPage, error)
	NumberCandidates(ctx context.Context, m objections.NumberMatch) ([]string, error)
	OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error)
	EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error)
	Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error)
}

// Stores are the stores the UI uses besides the register's
// objections.Store, each a capability of objections/sqlite and
// objections/postgres; cmd wires them.
type Stores struct {
	Access  Access
	Records Records
	// Decisions is the log of dial-time checks; nil shows neither "Dial
	// attempts stopped" on an objection nor "Dial-time checks" on the
	// dashboard.
	Decisions DecisionLog
}

// PromptText is the wording of a prompt as an offer played it.
type PromptText struct {
	Text string
	// Verified is true when the text, composed again from the catalogue,
	// hashes to the hash the offer recorded: these are the words heard.
	Verified bool
}

// Config holds the UI's settings; zero values mean the defaults.
type Config struct {
	// SessionTTL ends a session this long after sign-in (default 12 h).
	SessionTTL time.Duration
	// IdleTimeout ends a session not used for this long (default 1 h).
	IdleTimeout time.Duration
	// BcryptCost is the cost of new password hashes (default 12; tests
	// use bcrypt.MinCost). EINVALID outside bcrypt's 4–31.
	BcryptCost int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PromptText returns the words of the prompt an offer played, when the
	// catalogue knows them; nil shows the prompt's id, version and hash
	// only. cmd wires it to the prompts catalogue, which this package may
	// not import.
	PromptText func(ctx context.Context, o objections.Offer) (PromptText, bool)
	// PageSize is the number of objections per list page (default 50).
	PageSize int
}

func (c Config) withDefaults() Config {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PageSize <= 0 {
		c.PageSize = 50
	}
	return c
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves the UI.
type Server struct {
	reg     *objections.Register
	access  Access
	records Records
	log     *zap.Logger
	cfg     Config
	pages   map[string]*template.Template
	// dummyHash is compared against when a user name is unknown, so that
	// a failed sign-in takes as long whether or not the user exists. Made
	// on first use: hashing at start-up would delay serve.
	dummyHash func() []byte
	// decisions is the log of dial-time checks; nil when there is none.
	decisions DecisionLog
	// devices throttles sign-ins through device cookies (signin.go).
	devices deviceThrottle
}

// dummyHash12 is a bcrypt hash at DefaultBcryptCost of a random string
// nobody knows; with the default cost it saves hashing one at start.
const dummyHash12 = "$2a$12$dlyB4KQ2Q2cXYeL3tdT/guNn13KmlwSqGfew2AgsWTlluHzOMAnr."

// New returns the UI over reg and st. The templates are parsed here, so
// that a broken one fails at start-up.
func New(reg *objections.Register, st Stores, log *zap.Logger, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{reg: reg, access: st.Access, records: st.Records, decisions: st.Decisions, log: log, cfg: cfg}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return nil, objections.Invalid("bcrypt cost", strconv.Itoa(cfg.BcryptCost), "must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	s.dummyHash = sync.OnceValue(func() []byte {
		if cfg.BcryptCost == DefaultBcryptCost {
			return []byte(dummyHash12)
		}
		h, _ := bcrypt.GenerateFromPassword([]byte(GeneratePassword()), cfg.BcryptCost) // the cost was checked
		return h
	})
	return s, nil
}

// pageNames are the templates that render a whole page with layout.html.
var pageNames = []string{"signin", "password", "objections", "detail", "void", "dashboard", "audit", "error",
	"users", "usernew", "user", "secret", "record", "calls", "call", "evidence"}

func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// Handler returns the UI's routes below Prefix, behind the cross-origin
// check and the security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static") // the embedded folder exists
	mux.Handle("GET /ui/static/", s.filesOnly(static, http.StripPrefix("/ui/static/", cacheForever(http.FileServerFS(static)))))
	mux.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/objections", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /ui/lang/{lang}", s.setLang)
	mux.HandleFunc("GET /ui/signin", s.signInPage)
	mux.HandleFunc("POST /ui/signin", s.signIn)
	mux.Handle("POST /ui/signout", s.auth(access.PermRead, s.signOut))
	mux.Handle("GET /ui/password", s.auth(access.PermRead, s.passwordPage))
	mux.Handle("POST /ui/password", s.auth(access.PermRead, s.changePassword))
	mux.Handle("GET /ui/objections", s.auth(access.PermRead, s.listPage))
	mux.Handle("GET /ui/objections/new", s.auth(access.PermObject, s.recordPage))
	mux.Handle("POST /ui/objections/new", s.auth(access.PermObject, s.record))
	mux.Handle("GET /ui/objections/{id}", s.auth(access.PermRead, s.detailPage))
	mux.Handle("GET /ui/objections/{id}/void", s.auth(access.PermManage, s.voidPage))
	mux.Handle("POST /ui/objections/{id}/void", s.auth(access.PermManage, s.void))
	mux.Handle("GET /ui/export.csv", s.auth(access.PermRead, s.export))
	mux.Handle("GET /ui/dashboard", s.auth(access.PermRead, s.dashboardPage))
	mux.Handle("GET /ui/calls", s.auth(access.PermRead, s.callsPage))
	mux.Handle("GET /ui/calls/{id}", s.auth(access.PermRead, s.callPage))
	mux.Handle("GET /ui/calls.csv", s.auth(access.PermRead, s.exportCalls))
	mux.Handle("GET /ui/evidence", s.auth(access.PermRead, s.evidencePage))
	mux.Handle("GET /ui/audit", s.auth(access.PermManage, s.auditPage))
	mux.Handle("GET /ui/users", s.auth(access.PermManage, s.usersPage))
	mux.Handle("GET /ui/users/new", s.auth(access.PermManage, s.newUserPage))
	mux.Handle("POST /ui/users/new", s.auth(access.PermManage, s.createUser))
	mux.Handle("GET /ui/users/{id}", s.auth(access.PermManage, s.userPage))
	mux.Handle("POST /ui/users/{id}/access", s.auth(access.PermManage, s.setUserAccess))
	mux.Handle("POST /ui/users/{id}/disable", s.auth(access.PermManage, s.setUserDisabled(true)))
	mux.Handle("POST /ui/users/{id}/enable", s.auth(access.PermManage, s.setUserDisabled(false)))
	mux.Handle("POST /ui/users/{id}/password", s.auth(access.PermManage, s.resetPassword))
	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "error.notFound")
	})

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "error.crossOrigin")
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders forbids scripts, framing and foreign form targets: the
// UI needs none of them.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// viewer is the signed-in user of a request.
type viewer struct {
	User    access.User
	Session access.Session
	secret  string // the cookie's secret, from which the form token derives
}

type ctxKey struct{}

func viewerFrom(ctx context.Context) *viewer {
	v, _ := ctx.Value(ctxKey{}).(*viewer)
	return v
}

// auth lets through a signed-in user whose role has perm. Anonymous users
// are sent to the sign-in page (and back afterwards); a user who must
// change their password is sent to do so; a role without perm gets 403.
// Every POST must carry the session's form token.
func (s *Server) auth(perm access.Permission, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.session(r)
		if err != nil {
			s.fail(w, r, "read session", err)
			return
		}
		if v == nil {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				next = ""
			}
			http.Redirect(w, r, "/ui/signin"+query("next", next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !validToken(r.PostFormValue(tokenField), formToken(v.secret)) {
			s.errorPage(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		if v.User.MustChangePassword && r.URL.Path != "/ui/password" && r.URL.Path != "/ui/signout" {
			http.Redirect(w, r, "/ui/password", http.StatusSeeOther)
			return
		}
		ctx := context.WithValue(r.Context(), ctxKey{}, v)
		if !v.User.Role.Can(perm) {
			s.errorPage(w, r.WithContext(ctx), http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r.WithContext(ctx))
	})
}

// query returns "?k=v" when v is set.
func query(k, v string) string {
	if v == "" {
		return ""
	}
	return "?" + url.Values{k: {v}}.Encode()
}

// safeNext returns next when it is a path inside the UI, so that sign-in
// cannot be made to redirect elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/objections"
	}
	return next
}

// page is what every template gets.
type page struct {
	L       lexicon
	Title   string
	Viewer  *viewer
	Token   string // the form token
	Path    string // the request's path and query, for the language switch
	Nav     string // the active navigation item
	IsAdmin bool
	// Num writes numbers as the supervisor does (national format).
	Num objections.Numbers
	// CanObject shows the way to record an objection received by hand.
	CanObject bool
	Data      any
}

func (s *Server) newPage(r *http.Request, titleKey, nav string, data any) page {
	l := s.lexicon(r)
	p := page{L: l, Title: l.T(titleKey), Path: r.URL.RequestURI(), Nav: nav, Data: data}
	if s.reg != nil {
		p.Num = s.reg.Numbers()
	}
	if v := viewerFrom(r.Context()); v != nil {
		p.Viewer, p.Token = v, formToken(v.secret)
		p.IsAdmin = v.User.Role.Can(access.PermManage)
		p.CanObject = v.User.Role.Can(access.PermObject)
	}
	return p
}

// render writes a page; rendering into a buffer first means a template
// error is a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.Error("render page", zap.String("page", name), zap.Error(err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages hold personal data
	h.Set("Content-Language", p.L.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client went away; nothing to do
}

type errorData struct {
	Message string
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := s.newPage(r, "error.title", "", errorData{Message: s.lexicon(r).T(key)})
	s.render(w, r, status, "error", p)
}

// fail logs an unexpected error and shows a page saying what kind it was,
// without details: store unavailable (503) or internal (500).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, doing string, err error) {
	switch objections.ErrorCode(err) {
	case objections.EUNAVAILABLE:
		s.log.Warn("store unavailable", zap.String("doing", doing), zap.Error(err))
		s.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable")
	case objections.ENOTFOUND:
		s.errorPage(w, r, http.StatusNotFound, "error.notFound")
	default:
		if errors.Is(err, context.Canceled) {
			return
		}
		s.log.Error("review request failed", zap.String("doing", doing), zap.Error(err))
		s.errorPage(w, r, http.StatusInternalServerError, "error.internal")
	}
}

// audit appends an entry for the request's user; orgs are the orgs whose
// data it concerns (see access.AuditEntry), which decide which scoped
// admins see it. The UI fails closed: when the entry cannot be written,
// the action is not done.
func (s *Server) audit(r *http.Request, actor string, action access.AuditAction, subject, detail string, orgs access.Scope) error {
	e, err := access.NewAuditEntry(s.cfg.Now(), actor, action, subject, detail, remoteAddr(r))
	if err != nil {
		return err
	}
	e.Orgs = orgs
	return s.access.AppendAudit(r.Context(), e)
}

// remoteAddr is the client's address without the port. Behind a trusted
// proxy, the server in front (cmd/verzet) has put the address the proxy
// named in RemoteAddr.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// now returns the clock in UTC, at the stores' precision.
func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }
