package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Config holds the API's settings; zero fields take the defaults below.
type Config struct {
	// DefaultOrg is used when a request names no org.
	DefaultOrg string
	// BodyLimit bounds a JSON request body (default 1 MiB): 413 beyond.
	BodyLimit int64
	// StreamLimit bounds a streamed body: scrub lists and bulk imports
	// (default 1 GiB).
	StreamLimit int64
	// RateLimit is the requests per second one token may make on this
	// instance (default 5000; negative: no limit), RateBurst how many at
	// once (default the rate).
	RateLimit float64
	RateBurst int
	// TokenCacheTTL is how long a token read from the store is trusted
	// before it is read again (default 5 s; negative: read every time).
	TokenCacheTTL time.Duration
	// ScrubBatch is how many numbers of a scrub go to the store at once
	// (default 1000); ScrubWorkers how many batches run at once (default 4).
	ScrubBatch   int
	ScrubWorkers int
	// ExportPage is how many records an export reads from the store at
	// once (default, and at most, 1000: the stores' largest page).
	ExportPage int
	// CheckFlights is how many batches of dial-time checks are read from
	// the store at once (default 4), CheckBatch how many checks one batch
	// holds at most (default 64): see coalescer. Only for stores that
	// answer many questions at once (FactsMany).
	CheckFlights int
	CheckBatch   int
	// CheckTimeout bounds one read of a check batch (default 5 s).
	CheckTimeout time.Duration
	// DecisionRetention is how long a logged blocked check is kept
	// (default five years, docs/compliance.md §3.4; negative: for ever).
	DecisionRetention time.Duration
	// EventMetricsInterval is how often Run reads new events of the log
	// for the objection and offer counters (default 5 s).
	EventMetricsInterval time.Duration
	// Webhooks configures the outbound events.
	Webhooks WebhookConfig
}

func (c *Config) defaults() {
	if c.BodyLimit <= 0 {
		c.BodyLimit = 1 << 20
	}
	if c.StreamLimit <= 0 {
		c.StreamLimit = 1 << 30
	}
	if c.RateLimit == 0 {
		c.RateLimit = 5000
	}
	if c.TokenCacheTTL == 0 {
		c.TokenCacheTTL = 5 * time.Second
	}
	if c.ScrubBatch <= 0 {
		c.ScrubBatch = 1000
	}
	if c.ScrubWorkers <= 0 {
		c.ScrubWorkers = 4
	}
	if c.ExportPage <= 0 || c.ExportPage > 1000 {
		c.ExportPage = 1000
	}
	if c.CheckFlights <= 0 {
		c.CheckFlights = 4
	}
	if c.CheckBatch <= 0 {
		c.CheckBatch = 64
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 5 * time.Second
	}
	if c.DecisionRetention == 0 {
		c.DecisionRetention = 1827 * 24 * time.Hour // five years, leap days included
	}
	if c.EventMetricsInterval <= 0 {
		c.EventMetricsInterval = 5 * time.Second
	}
	c.Webhooks.defaults()
}

// FactsBatch reads the facts of many numbers at once (both of verzet's
// stores): facts[i] is what objections.Store.Facts(org, numbers[i], "")
// returns. The scrub uses it.
type FactsBatch interface {
	FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error)
}

// Stores are the stores the API uses besides the register's
// objections.Store, each a capability of objections/sqlite and
// objections/postgres; cmd wires them. Tokens is required; a nil other
// field turns off what it serves.
type Stores struct {
	// Tokens authenticates callers and keeps what /v1/tokens manages.
	Tokens access.TokenStore
	// Audit records the reads of personal data; nil records none.
	Audit Auditor
	// Outbox hands out the webhook deliveries; nil sends no webhooks.
	Outbox Outbox
	// Decisions is the log of dial-time checks; nil logs none, and
	// /v1/decisions answers 404.
	Decisions DecisionLog
	// FactsBatch reads a scrub's numbers at once; nil asks Facts number
	// by number.
	FactsBatch FactsBatch
	// FactsMany answers concurrent dial-time checks together; nil reads
	// each alone with Facts.
	FactsMany FactsMany
}

// PromptTexts returns the words an offer's prompt said, for the evidence
// of an objection: as kept by the prompt's hash when the offer was made
// (the organisation's name filled in), else as the catalogue has that
// version; ok is false when neither knows them. cmd passes the prompt
// library.
type PromptTexts interface {
	PromptText(ctx context.Context, o objections.Offer) (text string, ok bool)
}

// Option changes an optional part of the Server.
type Option func(*Server)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRegistry makes the server register its metrics on reg and serve reg
// at /metrics, so that the caller can add its own collectors. Without it
// the server makes a registry with the Go and process collectors.
func WithRegistry(reg *prometheus.Registry) Option { return func(s *Server) { s.promReg = reg } }

// WithPromptTexts lets evidence include the prompt's words.
func WithPromptTexts(p PromptTexts) Option { return func(s *Server) { s.prompts = p } }

// Server is the /v1 API. Build it with New, serve Handler, and run Run for
// its background work (webhooks, counters) for as long as it serves.
type Server struct {
	cfg     Config
	reg     *objections.Register
	store   objections.Store
	batch   FactsBatch // nil: the scrub reads number by number
	facts   func(ctx context.Context, org, number, person string) (objections.Facts, error)
	tokens  access.TokenStore
	outbox  Outbox
	prompts PromptTexts
	// recordings serves /v1/prompts; nil answers 404.
	recordings Prompts
	log        *zap.Logger
	now        func() time.Time

	promReg *prometheus.Registry
	metrics *metrics
	auth    *authenticator
	limiter *limiter
	relay   *relay
	// decisions logs dial-time checks; nil without Stores.Decisions.
	decisions *decisionLog
	// auditor records reads of personal data; nil without Stores.Audit.
	auditor Auditor
	handler http.Handler
}

// New returns the API over reg's store and st.
func New(cfg Config, reg *objections.Register, st Stores, log *zap.Logger, opts ...Option) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, reg: reg, store: reg.Store(), batch: st.FactsBatch, tokens: st.Tokens, outbox: st.Outbox,
		auditor: st.Audit, log: log, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.facts = s.store.Facts
	if s.promReg == nil {
		s.promReg = prometheus.NewRegistry()
		s.promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.metrics = newMetrics(s.promReg)
	if st.FactsMany != nil {
		c := newCoalescer(st.FactsMany.FactsMany, cfg.CheckFlights, cfg.CheckBatch, cfg.CheckTimeout,
			func(n int) { s.metrics.checkBatch.Observe(float64(n)) })
		s.facts = func(ctx context.Context, org, number, person string) (objections.Facts, error) {
			return c.facts(ctx, objections.FactsQuery{Org: org, Number: number, Person: person})
		}
	}
	ttl := cfg.TokenCacheTTL
	if ttl < 0 {
		ttl = 0
	}
	s.auth = newAuthenticator(st.Tokens, ttl, s.now)
	s.limiter = newLimiter(cfg.RateLimit, cfg.RateBurst)
	if s.outbox != nil && len(cfg.Webhooks.URLs) > 0 {
		s.relay = newRelay(cfg.Webhooks, s.outbox, s.store, s.log.Named("webhook"), s.metrics, s.now)
	}
	if st.Decisions != nil {
		s.decisions = newDecisionLog(st.Decisions, s.log.Named("decisions"), s.promReg)
		s.decisions.retention, s.decisions.now = cfg.DecisionRetention, s.now
	}
	s.handler = s.routes()
	return s
}

// Handler serves /v1/… and GET /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Run does the API's background work until ctx ends: webhook delivery
// (when webhook URLs and an outbox are configured), the event counters of
// /metrics and cache upkeep. It returns when all of it has stopped.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if s.relay != nil {
		wg.Go(func() { s.relay.run(ctx) })
	}
	if s.decisions != nil {
		wg.Go(func() { s.decisions.run(ctx) })
		wg.Go(func() { s.decisions.purgeLoop(ctx) })
	}
	wg.Go(func() { s.tailEvents(ctx) })
	wg.Go(func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				now := s.now()
				s.auth.sweep(now)
				s.limiter.sweep(now)
			}
		}
	})
	wg.Wait()
}

// handlerFunc is a route's handler; tok is the caller (zero on public
// routes).
type handlerFunc func(w http.ResponseWriter, r *http.Request, tok access.Token)

// route is one operation of the API.
type route struct {
	pattern string            // ServeMux pattern: "GET /v1/objections/{id}"
	perm    access.Permission // "" for a public route
	stream  bool              // body bounded by StreamLimit, not BodyLimit
	h       handlerFunc
}

// apiRoutes lists every operation; openapi.json documents exactly these.
func (s *Server) apiRoutes() []route {
	return []route{
		{"GET /v1/callability/{number}", access.PermCheck, false, s.callability},
		{"POST /v1/scrub", access.PermCheck, true, s.scrub},
		{"POST /v1/objections", access.PermWrite, false, s.recordObjection},
		{"GET /v1/objections", access.PermRead, false, s.listObjections},
		{"GET /v1/objections/export", access.PermRead, false, s.exportObjections},
		{"GET /v1/objections/{id}", access.PermRead, false, s.getObjection},
		{"POST /v1/objections/{id}/void", access.PermManage, false, s.voidObjection},
		{"PUT /v1/relations", access.PermWrite, true, s.putRelations},
		{"PUT /v1/consents", access.PermWrite, true, s.putConsents},
		{"GET /v1/offers", access.PermRead, false, s.listOffers},
		{"GET /v1/offers/export", access.PermRead, false, s.exportOffers},
		{"GET /v1/decisions", access.PermRead, false, s.listDecisions},
		{"GET /v1/decisions/counts", access.PermRead, false, s.decisionCounts},
		{"GET /v1/decisions/export", access.PermRead, false, s.exportDecisions},
		{"GET /v1/people/{number}/evidence", access.PermRead, false, s.evidence},
		{"GET /v1/orgs", access.PermRead, false, s.listOrgs},
		{"GET /v1/orgs/{id}", access.PermRead, false, s.getOrg},
		{"PUT /v1/orgs/{id}", access.PermManage, false, s.putOrg},
		{"GET /v1/prompts", access.PermRead, false, s.listPrompts},
		{"PUT /v1/prompts/{id}/{lang}", access.PermManage, true, s.putPrompt},
		{"GET /v1/tokens", access.PermManage, false, s.listTokens},
		{"POST /v1/tokens", access.PermManage, false, s.createToken},
		{"POST /v1/tokens/{id}/revoke", access.PermManage, false, s.revokeToken},
		{"GET /v1/openapi.json", "", false, s.openAPI},
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.apiRoutes() {
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	mux.Handle("GET /metrics", s.metricsHandler())
	// Everything else under /v1 answers with a problem document: 405 when
	// the path exists with another method, 404 otherwise.
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeProblem(w, problem{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
				Detail: r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")}.fill())
			return
		}
		writeProblem(w, problem{Status: http.StatusNotFound, Code: objections.ENOTFOUND,
			Detail: "no such API route; see /v1/openapi.json"}.fill())
	})
	return mux
}

// allowed returns the methods for which mux has a route matching r's path
// other than the /v1/ fallback.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/v1/" {
			out = append(out, m)
		}
	}
	return out
}

// wrap adds authentication, the rate limit, the permission check, the
// body limit and the request metrics to a route.
func (s *Server) wrap(rt route) http.Handler {
	limit := s.cfg.BodyLimit
	if rt.stream {
		limit = s.cfg.StreamLimit
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() { s.metrics.observeRequest(rt.pattern, sw.code(), time.Since(start)) }()
		var tok access.Token
		if rt.perm != "" {
			var err error
			if tok, err = s.auth.authenticate(r.Context(), r); err != nil {
				s.writeError(sw, r, err)
				return
			}
			if err := s.limiter.allow(tok.ID, s.now()); err != nil {
				s.writeError(sw, r, err)
				return
			}
			if !tok.Role.Can(rt.perm) {
				s.writeError(sw, r, &apiError{status: http.StatusForbidden, code: codeForbidden,
					detail: "a " + string(tok.Role) + " token may not do this: it needs the " + string(rt.perm) + " permission"})
				return
			}
		}
		if err := checkQuery(r); err != nil {
			s.writeError(sw, r, err)
			return
		}
		if r.ContentLength > limit {
			s.writeError(sw, r, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, limit)
		rt.h(sw, r, tok)
	})
}

// statusWriter records the status for the metrics. Unwrap lets
// http.ResponseController reach the connection (flush, full duplex).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem{Status: http.StatusInternalServerError, Code: objections.EINTERNAL, Detail: "internal error"}.fill())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads one JSON object of r's body into v. Unknown fields are
// refused (a typo must not silently drop data); errors name the field.
func decodeJSON(r *http.Request, v any) error {
	if err := requireMedia(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errInvalid("body", "", "must hold one JSON object and nothing after it")
	}
	return nil
}

// jsonError names the field of a JSON decoding error.
func jsonError(err error) error {
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.As(err, &ute):
		return errInvalid(ute.Field, ute.Value, "must be a JSON "+ute.Type.Kind().String())
	case errors.As(err, &se):
		return errInvalid("body", "", "is not valid JSON: "+se.Error()+" at byte "+strconv.FormatInt(se.Offset, 10))
	case errors.Is(err, io.EOF):
		return errInvalid("body", "", "is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errInvalid("body", "", "is not valid JSON: it ends too early")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return errInvalid(f, "", "is not a known field")
	}
	return errInvalid("body", "", "is not valid JSON: "+err.Error())
}

// requireMedia checks the request's Content-Type (empty is taken as the
// first of want) and returns the media type found.
func requireMedia(r *http.Request, want ...string) error {
	_, err := mediaOf(r, want...)
	return err
}

func mediaOf(r *http.Request, want ...string) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return want[0], nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w {
				return mt, nil
			}
		}
	}
	return "", &apiError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia, field: "Content-Type", value: ct,
		detail: "must be one of " + strings.Join(want, ", ")}
}

// accepts reports whether r's Accept header asks for mt before (or
// instead of) the default. A missing Accept takes the default.
func accepts(r *http.Request, mt string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		m, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(m), mt) {
			return true
		}
	}
	return false
}

// actor names the caller in the audit fields of what it writes.
func actor(tok access.Token) string { return "token:" + tok.ID + " (" + tok.Name + ")" }

// parseTime reads a since/until filter: RFC 3339, or a date taken as
// midnight Europe/Amsterdam.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, objections.Amsterdam()); err == nil {
		return t, nil
	}
	return time.Time{}, errInvalid(field, v, "must be an RFC 3339 time (2026-03-01T09:00:00Z) or a date (2026-03-01)")
}

// limitParam reads ?limit= (default 100, 1–1000).
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, errInvalid("limit", v, "must be a whole number from 1 to 1000")
	}
	return n, nil
}

// knownParams refuses query parameters the route does not take, so that a
// misspelt filter does not silently widen a listing.
func knownParams(r *http.Request, names ...string) error {
	for k := range r.URL.Query() {
		ok := false
		for _, n := range names {
			if k == n {
				ok = true
				break
			}
		}
		if !ok {
			return errInvalid(k, r.URL.Query().Get(k), "is not a parameter of this route; it takes "+strings.Join(names, ", "))
		}
	}
	return nil
}

// checkQuery refuses a query string that does not parse. r.URL.Query drops
// what it cannot read ("?org=x;" reads as no org at all), which would
// silently widen a filter to every org.
func checkQuery(r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errInvalid("query", clipValue(r.URL.RawQuery), "is not a valid query string ("+err.Error()+"): separate parameters with & and escape ; as %3B")
	}
	return checkText(r.URL.Path, q)
}

// checkText refuses a path or a query parameter that is not UTF-8 text
// (objections.ValidText): PostgreSQL would refuse it in a filter, where
// SQLite would match nothing.
func checkText(path string, q url.Values) error {
	if err := objections.ValidText("path", path); err != nil {
		return err
	}
	for k, vs := range q {
		if err := objections.ValidText("query", k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := objections.ValidText(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// clipValue cuts v to 64 bytes for an error message.
func clipValue(v string) string {
	if len(v) <= 64 {
		return v
	}
	return strings.ToValidUTF8(v[:64], "") + "…"
}
