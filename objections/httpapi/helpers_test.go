package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/objections/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport and
		// httptest servers outlive single tests.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// testStore is everything the API uses of a store, and the audit log the
// tests read.
type testStore interface {
	objections.Store
	access.TokenStore
	Outbox
	FactsBatch
	DecisionLog
	access.AuditStore
}

// storesOf wires every capability of st, as cmd does: FactsMany only on a
// store that has it (objections/postgres).
func storesOf(st testStore) Stores {
	out := Stores{Tokens: st, Audit: st, Outbox: st, Decisions: st, FactsBatch: st}
	if m, ok := st.(FactsMany); ok {
		out.FactsMany = m
	}
	return out
}

var (
	_ testStore = (*postgres.Store)(nil)
	_ testStore = (*sqlite.Store)(nil)
)

// backend opens stores of one kind: open gives a store on a fresh,
// migrated database and a function that opens another store on the same
// database, as another process would.
type backend struct {
	name string
	open func(t *testing.T) (testStore, func(t *testing.T) testStore)
}

func backends() []backend {
	ctx := context.Background()
	return []backend{
		{"sqlite", func(t *testing.T) (testStore, func(t *testing.T) testStore) {
			path := filepath.Join(t.TempDir(), "verzet.db")
			open := func(t *testing.T) testStore {
				s, err := sqlite.Open(ctx, path)
				return storetest.Migrated(t, s, err)
			}
			return open(t), open
		}},
		{"postgres", func(t *testing.T) (testStore, func(t *testing.T) testStore) {
			dsn := pgtest.DSN(t)
			open := func(t *testing.T) testStore {
				s, err := postgres.Open(ctx, dsn, postgres.WithConnectTimeout(30*time.Second))
				return storetest.Migrated(t, s, err)
			}
			return open(t), open
		}},
	}
}

// forEachBackend runs fn as a subtest per store.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// apiEnv is a Server on a real store behind an httptest server, with a
// token of every role.
type apiEnv struct {
	t      *testing.T
	store  testStore
	reopen func(t *testing.T) testStore
	reg    *objections.Register
	srv    *Server
	ts     *httptest.Server
	tokens map[access.Role]string
	// validate checks every answer against openapi.json.
	validate bool
}

func newEnv(t *testing.T, b backend, cfg Config, opts ...Option) *apiEnv {
	t.Helper()
	st, reopen := b.open(t)
	return envOn(t, st, reopen, cfg, opts...)
}

func envOn(t *testing.T, st testStore, reopen func(t *testing.T) testStore, cfg Config, opts ...Option) *apiEnv {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, nil)
	// The orgs the tests name, set up as a call would have created them:
	// the API refuses an org that does not exist.
	for _, id := range []string{"acme", "beta"} {
		if _, err := st.Org(context.Background(), id); objections.ErrorCode(err) == objections.ENOTFOUND {
			setOrg(t, reg, id, objections.SectorOther)
		}
	}
	srv := New(cfg, reg, storesOf(st), zaptest.NewLogger(t), opts...)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &apiEnv{t: t, store: st, reopen: reopen, reg: reg, srv: srv, ts: ts, tokens: map[access.Role]string{}, validate: true}
	suffix := objections.NewID(time.Now())[20:] // several envs may share a store
	for _, role := range access.Roles() {
		e.tokens[role] = e.newToken(role, "test-"+string(role)+"-"+suffix)
	}
	return e
}

func (e *apiEnv) newToken(role access.Role, name string) string {
	e.t.Helper()
	tok, bearer, err := access.NewToken(name, role, nil, "test", time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.CreateToken(context.Background(), tok); err != nil {
		e.t.Fatal(err)
	}
	return bearer
}

// runBackground runs the server's background work until the test ends.
func (e *apiEnv) runBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.srv.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// answer is a response with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

func (a answer) problem(t *testing.T) problem {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d: %s)", ct, a.status, a.body)
	}
	var p problem
	a.json(t, &p)
	if p.Status != a.status || p.Type != problemType+p.Code || p.Title != http.StatusText(a.status) || p.Code == "" {
		t.Fatalf("problem %+v does not match status %d", p, a.status)
	}
	return p
}

// want fails t unless the answer has status.
func (a answer) want(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// req is one request to the API.
type req struct {
	method, path string
	role         access.Role // "" sends no token
	bearer       string      // overrides role
	body         any         // JSON-encoded unless string or []byte
	contentType  string
	header       map[string]string
}

func (e *apiEnv) do(r req) answer {
	e.t.Helper()
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	hr, err := http.NewRequest(r.method, e.ts.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	bearer := r.bearer
	if bearer == "" && r.role != "" {
		bearer = e.tokens[r.role]
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := e.ts.Client().Do(hr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read answer: %v", r.method, r.path, err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if e.validate {
		validateAnswer(e.t, hr, a)
	}
	return a
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// spec loads and validates openapi.json once.
func spec(t *testing.T) routers.Router {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openAPIDocument)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = err
			return
		}
		specRouter, specErr = gorillamux.NewRouter(doc)
		plain := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		}
		openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			// Each line must be a ScrubLine; the test decodes the first.
			b, err := io.ReadAll(body)
			if err != nil {
				return nil, err
			}
			first, _, _ := bytes.Cut(b, []byte("\n"))
			var v any
			err = json.Unmarshal(first, &v)
			return v, err
		})
		openapi3filter.RegisterBodyDecoder("text/csv", plain)
		openapi3filter.RegisterBodyDecoder("text/html", plain)
	})
	if specErr != nil {
		t.Fatalf("openapi.json: %v", specErr)
	}
	return specRouter
}

// validateAnswer checks a documented route's answer against openapi.json:
// its status is documented and its body has the documented shape.
func validateAnswer(t *testing.T, hr *http.Request, a answer) {
	t.Helper()
	router := spec(t)
	probe := hr.Clone(context.Background())
	probe.URL.Host, probe.URL.Scheme, probe.Host = "", "", ""
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return // not a documented route (404/405 tests)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 a.status,
		Header:                 a.header,
		Body:                   io.NopCloser(bytes.NewReader(a.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s: answer %d does not match openapi.json: %v\n%s", hr.Method, route.Path, a.status, err, a.body)
	}
}

// recordVia records an objection through reg (another process, for the
// API's store).
func recordVia(t *testing.T, reg *objections.Register, org, number string) objections.Objection {
	t.Helper()
	o, _, err := reg.Record(context.Background(), objections.Objection{Org: org, RawNumber: number, Source: objections.SourceAgent})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func setOrg(t *testing.T, reg *objections.Register, id string, sector objections.Sector) {
	t.Helper()
	if _, err := reg.SetOrg(context.Background(), objections.Org{ID: id, Name: "Org " + id, Sector: sector}); err != nil {
		t.Fatal(err)
	}
}

func testLogger(t *testing.T) *zap.Logger { return zaptest.NewLogger(t) }

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}
