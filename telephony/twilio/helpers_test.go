package twilio

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of the HTTP clients end on their own.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

const (
	testToken   = "0123456789abcdef0123456789abcdef"
	testAccount = "AC0123456789abcdef0123456789abcdef"
	customer    = "+31612345678"
	callCentre  = "+31201234567"
)

// clock is the fake time of a rig: the handler and the dialogue read it,
// the simulator's Sleep advances it, so that prompts "play" without
// waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testStore is a store as the rigs use it.
type testStore interface {
	objections.Store
	Calls
}

type backend struct {
	name string
	open func(t testing.TB) testStore
}

func backends() []backend {
	return []backend{{"sqlite", openSQLite}, {"postgres", openPostgres}}
}

func openSQLite(t testing.TB) testStore {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "verzet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t testing.TB) testStore {
	t.Helper()
	return openPostgresDSN(t, pgtest.DSN(t), true)
}

func openPostgresDSN(t testing.TB, dsn string, migrate bool, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

var (
	catalogOnce sync.Once
	catalog     *prompts.Catalog
	catalogErr  error
)

func testCatalog(t testing.TB) *prompts.Catalog {
	t.Helper()
	catalogOnce.Do(func() { catalog, catalogErr = prompts.Load(nil) })
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	return catalog
}

// brokenRecorder is a register whose store fails every objection write.
type brokenRecorder struct{ *objections.Register }

func (brokenRecorder) Commit(context.Context, objections.Objection) (objections.Objection, bool, error) {
	return objections.Objection{}, false, objections.Unavailable("commit", context.DeadlineExceeded)
}

// rig is one verzet instance's Twilio handler on a store, served over HTTP.
type rig struct {
	t       testing.TB
	store   testStore
	reg     *objections.Register
	clock   *clock
	handler *Handler
	server  *httptest.Server
	public  string // the public base URL signatures use
	sim     *twiliotest.Simulator
}

type rigOption func(*rigConfig)

type rigConfig struct {
	cfg    Config
	flow   ivr.Flow
	proxy  string // public base URL in front of the server (a TLS-terminating proxy)
	calls  func(Calls) Calls
	clock  *clock
	broken bool // every objection commit fails (and there is no spool)
}

func withConfig(f func(*Config)) rigOption    { return func(c *rigConfig) { f(&c.cfg) } }
func behindProxy(public string) rigOption     { return func(c *rigConfig) { c.proxy = public } }
func withCalls(f func(Calls) Calls) rigOption { return func(c *rigConfig) { c.calls = f } }
func withClock(k *clock) rigOption            { return func(c *rigConfig) { c.clock = k } }
func withBrokenStore() rigOption              { return func(c *rigConfig) { c.broken = true } }

func newRig(t testing.TB, store testStore, opts ...rigOption) *rig {
	t.Helper()
	rc := rigConfig{flow: ivr.DefaultFlow(), cfg: Config{AuthTokens: []string{testToken}, Numbers: objections.Numbers{Region: "NL"}}}
	for _, o := range opts {
		o(&rc)
	}
	if rc.clock == nil {
		rc.clock = newClock()
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	reg := objections.NewRegister(store, objections.Numbers{Region: "NL"}, nil)
	var rec ivr.Recorder = reg
	if rc.broken {
		rec = brokenRecorder{reg}
	}
	keeper := ivr.NewKeeper(rec, nil, log, nil)
	cat := testCatalog(t)
	d := ivr.NewDialogue(keeper, cat, log, rc.clock.Now)
	flows := func(ctx context.Context, org, lang string) (ivr.Flow, string) {
		if lang == "" {
			lang = "nl"
		}
		return rc.flow, lang
	}
	var calls Calls = store
	if rc.calls != nil {
		calls = rc.calls(store)
	}
	r := &rig{t: t, store: store, reg: reg, clock: rc.clock}
	r.server = httptest.NewServer(nil)
	t.Cleanup(r.server.Close)
	r.public = r.server.URL
	cfg := rc.cfg
	cfg.Now = rc.clock.Now
	client := r.server.Client()
	if rc.proxy != "" {
		r.public = rc.proxy
		cfg.PublicURL = rc.proxy
		client = proxyClient(r.server.URL, rc.proxy)
	} else if cfg.PublicURL == "" {
		cfg.PublicURL = r.server.URL
	}
	h, err := New(cfg, d, cat, flows, calls, log)
	if err != nil {
		t.Fatal(err)
	}
	r.handler = h
	r.server.Config.Handler = h
	r.sim = &twiliotest.Simulator{AuthToken: testToken, Client: client, Sleep: rc.clock.Advance, Now: rc.clock.Now}
	return r
}

// proxyClient sends requests for the public base URL to the server, as a
// TLS-terminating reverse proxy would: https becomes http, the public
// host the server's address, and the public path prefix is stripped.
func proxyClient(server, public string) *http.Client {
	su, _ := url.Parse(server)
	pu, _ := url.Parse(public)
	return &http.Client{Timeout: 15 * time.Second, Transport: proxy{server: su, public: pu}}
}

type proxy struct{ server, public *url.URL }

func (p proxy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != p.public.Host {
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: net.UnknownNetworkError("not behind the test proxy")}
	}
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host = p.server.Scheme, p.server.Host
	u.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(u.Path, p.public.Path), "/")
	u.RawPath = ""
	out.URL, out.Host = &u, p.server.Host
	out.Header.Set("X-Forwarded-Proto", p.public.Scheme)
	out.Header.Set("X-Forwarded-Host", p.public.Host)
	return http.DefaultTransport.RoundTrip(out)
}

// voiceURL is the public voice webhook URL with query.
func (r *rig) voiceURL(query string) string {
	u := r.public + PathVoice
	if query != "" {
		u += "?" + query
	}
	return u
}

// call is a dialer's outbound call to the customer, with the given keys.
func (r *rig) call(keys ...string) twiliotest.Call {
	return twiliotest.Call{VoiceURL: r.voiceURL("org=acme&campaign=spring&lead=L1&agent=A7&dialer_call=D9&announced=1"),
		StatusURL: r.public + PathStatus, From: callCentre, To: customer, Keys: keys}
}

func (r *rig) run(c twiliotest.Call) *twiliotest.Transcript {
	r.t.Helper()
	tr, err := r.sim.Run(context.Background(), c)
	if err != nil {
		r.t.Fatalf("simulated call: %v\n%s", err, tr)
	}
	return tr
}

func (r *rig) objections() []objections.Objection {
	r.t.Helper()
	list, err := r.store.Objections(context.Background(), objections.ObjectionFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

func (r *rig) offers() []objections.Offer {
	r.t.Helper()
	list, err := r.store.Offers(context.Background(), objections.OfferFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

// record returns the stored call record of sid, nil when there is none.
func (r *rig) record(sid string) (*callRecord, int64) {
	r.t.Helper()
	st, err := r.store.LoadCall(context.Background(), provider, sid)
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return nil, 0
	}
	if err != nil {
		r.t.Fatal(err)
	}
	rec, err := decodeRecord(st)
	if err != nil {
		r.t.Fatal(err)
	}
	return rec, st.Version
}

// form is Twilio's standard parameters for a call leg, with extra pairs.
func form(sid string, extra ...string) url.Values {
	f := url.Values{
		"AccountSid": {testAccount}, "ApiVersion": {"2010-04-01"}, "CallSid": {sid}, "CallStatus": {"in-progress"},
		"Called": {customer}, "Caller": {callCentre}, "Direction": {"outbound-api"}, "From": {callCentre}, "To": {customer},
		"FromCountry": {"NL"}, "ToCountry": {"NL"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// post sends one signed webhook and returns status and body.
func (r *rig) post(target string, f url.Values) (int, string) {
	r.t.Helper()
	resp, err := r.sim.Post(context.Background(), target, f)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// send sends a request as built, for the negative cases.
func (r *rig) send(req *http.Request) (int, string) {
	r.t.Helper()
	resp, err := r.sim.Client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sid returns a valid CallSid that differs per n.
func sid(n int) string { return fmt.Sprintf("CA%032x", n+0x1f2e3d4c) }
