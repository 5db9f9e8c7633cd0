package aritest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// DateFormat is ARI's timestamp layout: milliseconds and a zone offset
// without a colon. Clients such as ari/v5 parse nothing else.
const DateFormat = "2006-01-02T15:04:05.000-0700"

// Options configure a fake Asterisk. The zero value works.
type Options struct {
	// Username and Password, when Username is set, are required on every
	// request (HTTP Basic auth or api_key=user:password), as ari.conf does.
	Username, Password string
	// Users are more ari.conf users (name → password), e.g. one per verzet
	// instance, so that a test can cut one off (CutOff).
	Users map[string]string
	// EntityID is the asterisk_id of events and /asterisk/info
	// (default 52:54:00:12:34:56).
	EntityID string
	// Version is reported by /asterisk/info (default 20.20.1).
	Version string
	// ChannelVars lists variables included in every channel snapshot as
	// "channelvars", like ari.conf's channelvars option.
	ChannelVars []string
	// SoundDuration says how long a media URI plays; ok false means the
	// file is missing (the playback fails at once). Default: 100 ms each.
	// GET /sounds/{id} answers from it too (see SoundDirs).
	SoundDuration func(uri string) (d time.Duration, ok bool)
	// SoundDirs are the folders at the top of Asterisk's sounds directory
	// (default en and verzet). Asterisk's sound index (GET /sounds) takes
	// every one of them for a language: a sound installed as
	// sounds/verzet/nl/offer-1.wav, which "sound:verzet/nl/offer-1" plays,
	// is listed as "nl/offer-1" in language "verzet", and GET
	// /sounds/verzet%2Fnl%2Foffer-1 is a 404 (Asterisk 20.20.1, checked).
	SoundDirs []string
	// Modules are the loaded modules GET /asterisk/modules/{name} knows
	// (default: those a Stasis IVR needs, res_http_media_cache.so among
	// them). Without res_http_media_cache.so, HTTP media (sound:http://…)
	// fail to play, as on a real Asterisk.
	Modules []string
	// OnRequest, when set, is called with every REST request before it is
	// handled (on the request's goroutine: it may block it).
	OnRequest func(Request)
	// QueueSize is how many frames a websocket may have unsent before the
	// fake closes it, as Asterisk does with a slow reader (default 100000).
	QueueSize int
	// Now is the clock for timestamps (default time.Now).
	Now func() time.Time
}

// Request is one REST request as received.
type Request struct {
	Method string
	Path   string // below /ari, e.g. /channels/1.2/answer
	Query  url.Values
	Body   []byte
	At     time.Time
}

func (r Request) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s
}

// ErrNotRegistered is returned by StartCall when no websocket has the app:
// Asterisk's Stasis() fails and sets STASISSTATUS=FAILED.
var ErrNotRegistered = errors.New("aritest: Stasis app not registered")

// Asterisk is the fake. Create it with New (then Listen) or Start.
type Asterisk struct {
	opts Options

	mu        sync.Mutex
	channels  map[string]*channel
	dead      map[string]*channel // hung up, kept for assertions
	playbacks map[string]*playback
	apps      map[string]*app
	conns     map[*wsConn]struct{}
	requests  []Request
	seq       int
	pbSeq     int
	latency   time.Duration
	wsRefused bool
	muted     bool
	cutOff    map[string]bool // users cut off (CutOff)
	regs      int
	regCh     chan struct{} // closed and replaced at every registration
	epoch     int64

	lnMu    sync.Mutex
	addr    string
	ln      net.Listener
	srv     *http.Server
	handler http.Handler
	wg      sync.WaitGroup // websocket handlers and servers
}

type app struct {
	name       string
	conn       *wsConn
	allowed    []string
	disallowed []string
	subs       map[string]bool // channels subscribed to explicitly
}

func (a *app) allows(typ string) bool {
	if slices.Contains(a.disallowed, typ) {
		return false
	}
	return len(a.allowed) == 0 || slices.Contains(a.allowed, typ)
}

// New returns a fake Asterisk that is not listening yet; use Handler with a
// server of your own, or Listen.
func New(opts Options) *Asterisk {
	if opts.EntityID == "" {
		opts.EntityID = "52:54:00:12:34:56"
	}
	if opts.Version == "" {
		opts.Version = "20.20.1"
	}
	if opts.SoundDuration == nil {
		opts.SoundDuration = func(string) (time.Duration, bool) { return 100 * time.Millisecond, true }
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SoundDirs == nil {
		opts.SoundDirs = []string{"en", "verzet"}
	}
	if opts.Modules == nil {
		opts.Modules = []string{"app_stasis.so", "res_ari.so", "res_ari_channels.so", "res_ari_playbacks.so", "res_ari_sounds.so",
			"res_http_websocket.so", "res_stasis.so", "res_stasis_playback.so", "res_curl.so", mediaCacheModule}
	}
	a := &Asterisk{opts: opts, channels: map[string]*channel{}, playbacks: map[string]*playback{}, apps: map[string]*app{},
		conns: map[*wsConn]struct{}{}, regCh: make(chan struct{}), epoch: opts.Now().Unix()}
	a.handler = a.routes()
	return a
}

// Start returns a fake listening on a free local port, closed when tb ends.
func Start(tb testing.TB, opts Options) *Asterisk {
	tb.Helper()
	a := New(opts)
	if err := a.Listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("aritest: listen: %v", err)
	}
	tb.Cleanup(a.Close)
	return a
}

// Listen serves the fake on addr in the background. The address is kept:
// Stop and Start take the node down and up again on the same port.
func (a *Asterisk) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	a.lnMu.Lock()
	defer a.lnMu.Unlock()
	a.addr = ln.Addr().String()
	a.serveLocked(ln)
	return nil
}

func (a *Asterisk) serveLocked(ln net.Listener) {
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	a.ln, a.srv = ln, srv
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		_ = srv.Serve(ln) // returns when Stop or Close closes it
	}()
}

// URL is the ARI base URL, e.g. http://127.0.0.1:41234/ari.
func (a *Asterisk) URL() string {
	a.lnMu.Lock()
	defer a.lnMu.Unlock()
	return "http://" + a.addr + "/ari"
}

// Addr is the listening address.
func (a *Asterisk) Addr() string {
	a.lnMu.Lock()
	defer a.lnMu.Unlock()
	return a.addr
}

// Stop takes the node off the network: connections are refused and every
// websocket drops, but calls stay up (a network outage, not a restart).
func (a *Asterisk) Stop() {
	a.lnMu.Lock()
	srv := a.srv
	a.srv, a.ln = nil, nil
	a.lnMu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	a.DropWebsockets()
}

// Start brings a stopped node back on its address.
func (a *Asterisk) Start() error {
	a.lnMu.Lock()
	defer a.lnMu.Unlock()
	if a.srv != nil {
		return nil
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Stop
		if ln, err = net.Listen("tcp", a.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	a.serveLocked(ln)
	return nil
}

// Close stops the fake for good and waits for its goroutines.
func (a *Asterisk) Close() {
	a.Stop()
	a.mu.Lock()
	a.stopTimersLocked()
	a.mu.Unlock()
	a.wg.Wait()
}

// Handler returns the fake's HTTP handler (REST and websocket under /ari).
func (a *Asterisk) Handler() http.Handler { return a.handler }

// SetLatency delays every REST response by d (a slow or hung node). The
// events websocket is not delayed.
func (a *Asterisk) SetLatency(d time.Duration) {
	a.mu.Lock()
	a.latency = d
	a.mu.Unlock()
}

// RefuseWebsockets makes the events websocket answer 503 while on (REST
// still works): a proxy that drops the upgrade, or ARI's websocket off.
func (a *Asterisk) RefuseWebsockets(on bool) {
	a.mu.Lock()
	a.wsRefused = on
	a.mu.Unlock()
}

// MuteWebsockets, while on, drops every event silently and keeps the
// websockets open: a half-open connection, or an app taken over elsewhere.
func (a *Asterisk) MuteWebsockets(on bool) {
	a.mu.Lock()
	a.muted = on
	a.mu.Unlock()
}

// DropWebsockets closes every events websocket, as a network blip does.
// Calls stay parked in Stasis; events until a client reconnects are lost.
func (a *Asterisk) DropWebsockets() {
	a.mu.Lock()
	conns := make([]*wsConn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Restart is an Asterisk restart: websockets drop, every channel is gone
// without an event, applications and their filters are forgotten.
func (a *Asterisk) Restart() {
	a.DropWebsockets()
	a.mu.Lock()
	a.stopTimersLocked()
	a.channels = map[string]*channel{}
	a.playbacks = map[string]*playback{}
	a.apps = map[string]*app{}
	a.mu.Unlock()
}

func (a *Asterisk) stopTimersLocked() {
	for _, pb := range a.playbacks {
		if pb.timer != nil {
			pb.timer.Stop()
		}
	}
}

// Registrations counts websocket registrations so far (reconnects show).
func (a *Asterisk) Registrations() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.regs
}

// WaitRegistered waits until a websocket holds app.
func (a *Asterisk) WaitRegistered(ctx context.Context, name string) error {
	err := a.waitRegLocked(ctx, func() bool { ap := a.apps[name]; return ap != nil && ap.conn != nil })
	if err != nil {
		return fmt.Errorf("aritest: app %s not registered: %w", name, err)
	}
	return nil
}

// WaitRegistrations waits until at least n websocket registrations happened.
func (a *Asterisk) WaitRegistrations(ctx context.Context, n int) error {
	if err := a.waitRegLocked(ctx, func() bool { return a.regs >= n }); err != nil {
		return fmt.Errorf("aritest: %d registrations not reached: %w", n, err)
	}
	return nil
}

// waitRegLocked waits until ok, which runs under a.mu, holds; it is checked
// again at every registration.
func (a *Asterisk) waitRegLocked(ctx context.Context, ok func() bool) error {
	for {
		a.mu.Lock()
		done, ch := ok(), a.regCh
		a.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// EventFilter returns app's current event filter; ok is false for an app
// never registered.
func (a *Asterisk) EventFilter(name string) (allowed, disallowed []string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[name]
	if ap == nil {
		return nil, nil, false
	}
	return slices.Clone(ap.allowed), slices.Clone(ap.disallowed), true
}

// Requests returns the REST requests received so far.
func (a *Asterisk) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Emit sends an event to app's websocket through the app's event filter.
// type must be set; application, asterisk_id and timestamp are filled in
// when missing. It reports whether the event was sent.
func (a *Asterisk) Emit(appName string, ev map[string]any) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.emitLocked(appName, ev)
}

// EmitRaw sends frame as it is to app's websocket, bypassing the filter.
func (a *Asterisk) EmitRaw(appName string, frame []byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[appName]
	if ap == nil || ap.conn == nil || a.muted {
		return false
	}
	return ap.conn.send(slices.Clone(frame))
}

func (a *Asterisk) emitLocked(appName string, ev map[string]any) bool {
	ap := a.apps[appName]
	if ap == nil || ap.conn == nil || a.muted {
		return false // "Inactive Stasis app … missed message"
	}
	typ, _ := ev["type"].(string)
	if !ap.allows(typ) {
		return false
	}
	if _, ok := ev["application"]; !ok {
		ev["application"] = appName
	}
	if _, ok := ev["asterisk_id"]; !ok {
		ev["asterisk_id"] = a.opts.EntityID
	}
	if _, ok := ev["timestamp"]; !ok {
		ev["timestamp"] = a.stamp()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("aritest: event not encodable: %v", err)) // a bug in the fake or the test
	}
	return ap.conn.send(b)
}

func (a *Asterisk) stamp() string { return a.opts.Now().Format(DateFormat) }

// ---- HTTP ----

func (a *Asterisk) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ari/events", a.events)
	rest := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p params)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { a.serveREST(w, r, h) })
	}
	rest("GET /ari/asterisk/info", a.info)
	rest("GET /ari/asterisk/modules/{name}", a.module)
	rest("GET /ari/sounds/{id}", a.sound)
	rest("POST /ari/channels/{id}/move", required("app", "Required field app missing", a.onChannel(true, a.moveChannel)))
	subscription := func(h func(http.ResponseWriter, *http.Request, params)) func(http.ResponseWriter, *http.Request, params) {
		return required("eventSource", "Missing parameter eventSource", h)
	}
	rest("POST /ari/applications/{app}/subscription", subscription(a.subscribe))
	rest("DELETE /ari/applications/{app}/subscription", subscription(a.unsubscribe))
	rest("GET /ari/asterisk/ping", a.ping)
	rest("GET /ari/channels", a.listChannels)
	rest("GET /ari/channels/{id}", a.onChannel(false, a.getChannel))
	rest("DELETE /ari/channels/{id}", a.onChannel(false, a.hangupChannel))
	rest("POST /ari/channels/{id}/answer", a.onChannel(true, a.answer))
	play := required("media", "Required field media missing", a.onChannel(true, a.play))
	rest("POST /ari/channels/{id}/play", play)
	rest("POST /ari/channels/{id}/play/{pb}", play)
	rest("POST /ari/channels/{id}/continue", a.onChannel(true, a.continueChannel))
	variable := func(h func(http.ResponseWriter, *http.Request, params, *channel)) func(http.ResponseWriter, *http.Request, params) {
		return required("variable", "Variable name is required", a.onChannel(true, h))
	}
	rest("GET /ari/channels/{id}/variable", variable(a.getVariable))
	rest("POST /ari/channels/{id}/variable", variable(a.setVariable))
	rest("GET /ari/playbacks/{id}", a.onPlayback(a.getPlayback))
	rest("DELETE /ari/playbacks/{id}", a.onPlayback(a.stopPlayback))
	rest("GET /ari/applications", a.listApps)
	rest("GET /ari/applications/{app}", a.getApp)
	rest("PUT /ari/applications/{app}/eventFilter", a.filterApp)
	rest("POST /ari/events/user/{name}", a.userEvent)
	rest("/ari/", func(w http.ResponseWriter, r *http.Request, p params) {
		writeError(w, http.StatusNotFound, "Resource not found")
	})
	return mux
}

// params are a request's parameters: the JSON body's fields over the query
// string's, as Asterisk merges them.
type params struct {
	query url.Values
	body  map[string]any
}

func (p params) str(name string) string {
	if v, ok := p.body[name]; ok {
		switch x := v.(type) {
		case string:
			return x
		case float64:
			return fmt.Sprint(x)
		case bool:
			return fmt.Sprint(x)
		}
		return ""
	}
	return p.query.Get(name)
}

// list reads a parameter declared allowMultiple: a JSON array, a JSON
// string (one value), or a comma-separated query value.
func (p params) list(name string) []string {
	if v, ok := p.body[name]; ok {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	var out []string
	for _, v := range p.query[name] {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

func (a *Asterisk) authorised(r *http.Request) bool {
	if a.opts.Username == "" {
		return true
	}
	u, pw, ok := r.BasicAuth()
	if !ok {
		u, pw, _ = strings.Cut(r.URL.Query().Get("api_key"), ":")
	}
	a.mu.Lock()
	cut := a.cutOff[u]
	a.mu.Unlock()
	want, known := a.opts.Users[u]
	if u == a.opts.Username {
		want, known = a.opts.Password, true
	}
	return known && pw == want && !cut
}

// user returns the ari.conf user a request signed in as.
func user(r *http.Request) string {
	if u, _, ok := r.BasicAuth(); ok {
		return u
	}
	u, _, _ := strings.Cut(r.URL.Query().Get("api_key"), ":")
	return u
}

// CutOff takes the clients that sign in as user off this node, as when the
// process behind them is killed or cut from the network: their websockets
// close and every request of theirs is refused from now on. Their
// applications stay registered but inactive, and their channels stay in
// Stasis, in silence once their playbacks end, as on a real Asterisk.
func (a *Asterisk) CutOff(user string) {
	a.mu.Lock()
	if a.cutOff == nil {
		a.cutOff = map[string]bool{}
	}
	a.cutOff[user] = true
	var conns []*wsConn
	for c := range a.conns {
		if c.user == user {
			conns = append(conns, c)
		}
	}
	a.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

func (a *Asterisk) serveREST(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request, params)) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, "/ari"), Query: r.URL.Query(), Body: body, At: a.opts.Now()}
	a.mu.Lock()
	a.requests = append(a.requests, req)
	latency := a.latency
	a.mu.Unlock()
	if a.opts.OnRequest != nil {
		a.opts.OnRequest(req)
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !a.authorised(r) {
		writeError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	p := params{query: r.URL.Query()}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &p.body); err != nil {
			writeError(w, http.StatusBadRequest, "Error parsing request body")
			return
		}
	}
	h(w, r, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sortedJSON lists m's values as JSON objects, in the order of their keys,
// and [] (not null) when m is empty.
func sortedJSON[V any](m map[string]V, toJSON func(V) map[string]any) []any {
	out := []any{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, toJSON(m[k]))
	}
	return out
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

func (a *Asterisk) info(w http.ResponseWriter, r *http.Request, p params) {
	start := time.Unix(a.epoch, 0).Format(DateFormat)
	writeJSON(w, http.StatusOK, map[string]any{
		"system": map[string]any{"version": a.opts.Version, "entity_id": a.opts.EntityID},
		"build": map[string]any{"os": "Linux", "kernel": "6.1.0", "options": "", "machine": "x86_64",
			"date": "2026-01-01 00:00:00 UTC", "user": "aritest"},
		"config": map[string]any{"name": "", "default_language": "en",
			"setid": map[string]any{"user": "asterisk", "group": "asterisk"}},
		"status": map[string]any{"startup_time": start, "last_reload_time": start},
	})
}

func (a *Asterisk) ping(w http.ResponseWriter, r *http.Request, p params) {
	writeJSON(w, http.StatusOK, map[string]any{"asterisk_id": a.opts.EntityID, "ping": "pong", "timestamp": a.stamp()})
}

func (a *Asterisk) listApps(w http.ResponseWriter, r *http.Request, p params) {
	a.mu.Lock()
	defer a.mu.Unlock()
	writeJSON(w, http.StatusOK, sortedJSON(a.apps, a.appJSONLocked))
}

func (a *Asterisk) getApp(w http.ResponseWriter, r *http.Request, p params) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[r.PathValue("app")]
	if ap == nil {
		writeError(w, http.StatusNotFound, "Application not found")
		return
	}
	writeJSON(w, http.StatusOK, a.appJSONLocked(ap))
}

func (a *Asterisk) appJSONLocked(ap *app) map[string]any {
	ids := []string{}
	for id, c := range a.channels {
		if c.app == ap.name && c.inStasis {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	types := func(l []string) []any {
		out := []any{}
		for _, t := range l {
			out = append(out, map[string]string{"type": t})
		}
		return out
	}
	return map[string]any{"name": ap.name, "channel_ids": ids, "bridge_ids": []string{}, "endpoint_ids": []string{},
		"device_names": []string{}, "events_allowed": types(ap.allowed), "events_disallowed": types(ap.disallowed)}
}

// filterApp is PUT /applications/{app}/eventFilter (Asterisk 13.26/16.3+).
func (a *Asterisk) filterApp(w http.ResponseWriter, r *http.Request, p params) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[r.PathValue("app")]
	if ap == nil || ap.conn == nil {
		writeError(w, http.StatusNotFound, "Application not found")
		return
	}
	read := func(key string) ([]string, bool, error) {
		v, ok := p.body[key]
		if !ok {
			return nil, false, nil
		}
		l, ok := v.([]any)
		if !ok {
			return nil, true, errors.New("not a list")
		}
		var out []string
		for _, e := range l {
			m, ok := e.(map[string]any)
			t, _ := m["type"].(string)
			if !ok || t == "" {
				return nil, true, errors.New("entry without type")
			}
			out = append(out, t)
		}
		return out, true, nil
	}
	allowed, hasA, errA := read("allowed")
	disallowed, hasD, errD := read("disallowed")
	if errA != nil || errD != nil {
		writeError(w, http.StatusBadRequest, "Invalid event filter")
		return
	}
	if !hasA && !hasD { // an empty body clears both
		ap.allowed, ap.disallowed = nil, nil
	}
	if hasA {
		ap.allowed = allowed
	}
	if hasD {
		ap.disallowed = disallowed
	}
	writeJSON(w, http.StatusOK, a.appJSONLocked(ap))
}

// userEvent is POST /events/user/{eventName}?application=…: a
// ChannelUserevent to the application (no source: no channel in it).
func (a *Asterisk) userEvent(w http.ResponseWriter, r *http.Request, p params) {
	name := p.str("application")
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.apps[name]; !ok || name == "" {
		writeError(w, http.StatusNotFound, "Application not found")
		return
	}
	vars, _ := p.body["variables"].(map[string]any)
	if vars == nil {
		vars = map[string]any{}
	}
	a.emitLocked(name, map[string]any{"type": "ChannelUserevent", "eventname": r.PathValue("name"), "userevent": vars})
	w.WriteHeader(http.StatusNoContent)
}

// events is the websocket: GET /ari/events?app=a[,b][&subscribeAll=…].
func (a *Asterisk) events(w http.ResponseWriter, r *http.Request) {
	if !a.authorised(r) {
		writeError(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	a.mu.Lock()
	refused := a.wsRefused
	a.mu.Unlock()
	if refused {
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	var names []string
	for _, n := range strings.Split(r.URL.Query().Get("app"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		writeError(w, http.StatusBadRequest, "Missing parameter app")
		return
	}
	conn, rw, err := upgrade(w, r, "ari")
	if err != nil {
		if errors.Is(err, errNotWebsocket) {
			writeError(w, http.StatusBadRequest, "Not a websocket upgrade")
		}
		return
	}
	c := newWSConn(conn, rw, names, a.opts.QueueSize)
	c.user = user(r)
	a.wg.Add(1)
	defer a.wg.Done()
	a.mu.Lock()
	a.conns[c] = struct{}{}
	for _, n := range names {
		ap := a.apps[n]
		if ap == nil {
			ap = &app{name: n}
			a.apps[n] = ap
		}
		if old := ap.conn; old != nil && old != c {
			// Last registration wins; the loser hears it once.
			b, _ := json.Marshal(map[string]any{"type": "ApplicationReplaced", "timestamp": a.stamp(), "application": n, "asterisk_id": a.opts.EntityID})
			old.send(b)
			old.apps = slices.DeleteFunc(old.apps, func(s string) bool { return s == n })
		}
		ap.conn = c
		ap.allowed, ap.disallowed = nil, nil // Asterisk resets the filter when the app registers
	}
	a.regs++
	close(a.regCh)
	a.regCh = make(chan struct{})
	a.mu.Unlock()

	wdone := make(chan struct{})
	go func() { c.writeLoop(); close(wdone) }()
	c.readLoop()
	<-wdone

	a.mu.Lock()
	delete(a.conns, c)
	for _, n := range c.apps {
		if ap := a.apps[n]; ap != nil && ap.conn == c {
			ap.conn = nil // "Deactivating Stasis app"
		}
	}
	a.mu.Unlock()
}

// mediaCacheModule serves HTTP media (sound:http://…) to playbacks.
const mediaCacheModule = "res_http_media_cache.so"

func (a *Asterisk) moduleLocked(name string) bool { return slices.Contains(a.opts.Modules, name) }

// module is GET /asterisk/modules/{moduleName}: a running module, or 404.
func (a *Asterisk) module(w http.ResponseWriter, r *http.Request, p params) {
	name := r.PathValue("name")
	a.mu.Lock()
	loaded := a.moduleLocked(name)
	a.mu.Unlock()
	if !loaded {
		writeError(w, http.StatusNotFound, "Module could not be found in running modules")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "description": name, "use_count": 0, "status": "Running", "support_level": "core"})
}

// sound is GET /sounds/{soundId}: the sound in every "language" folder
// (SoundDirs) that has it, or 404 "Sound not found" as Asterisk answers
// (the API declaration lists no error).
func (a *Asterisk) sound(w http.ResponseWriter, r *http.Request, p params) {
	id := r.PathValue("id")
	formats := []any{}
	for _, dir := range a.opts.SoundDirs {
		if _, ok := a.opts.SoundDuration("sound:" + dir + "/" + id); ok {
			formats = append(formats, map[string]string{"language": dir, "format": "slin"})
		}
	}
	if len(formats) == 0 {
		writeError(w, http.StatusNotFound, "Sound not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "formats": formats})
}

// subscribe is POST /applications/{app}/subscription?eventSource=channel:{id}:
// the application gets the channel's events (keys, playbacks, hang-up,
// ChannelDestroyed) though another application holds it in Stasis.
// Only channel sources are modelled.
func (a *Asterisk) subscribe(w http.ResponseWriter, r *http.Request, p params) {
	a.subscription(w, r, p, true)
}

// unsubscribe is DELETE /applications/{app}/subscription.
func (a *Asterisk) unsubscribe(w http.ResponseWriter, r *http.Request, p params) {
	a.subscription(w, r, p, false)
}

func (a *Asterisk) subscription(w http.ResponseWriter, r *http.Request, p params, on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[r.PathValue("app")]
	if ap == nil {
		writeError(w, http.StatusNotFound, "Application not found")
		return
	}
	var ids []string
	for _, src := range p.list("eventSource") {
		id, ok := strings.CutPrefix(src, "channel:")
		if !ok {
			writeError(w, http.StatusBadRequest, "Invalid event source URI scheme")
			return
		}
		if a.channels[id] == nil {
			writeError(w, http.StatusUnprocessableEntity, "Event source does not exist")
			return
		}
		if !on && !ap.subs[id] {
			writeError(w, http.StatusConflict, "Application not subscribed to event source")
			return
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if on {
			if ap.subs == nil {
				ap.subs = map[string]bool{}
			}
			ap.subs[id] = true
		} else {
			delete(ap.subs, id)
		}
	}
	writeJSON(w, http.StatusOK, a.appJSONLocked(ap))
}

// Subscribed reports whether app is subscribed to channel id explicitly.
func (a *Asterisk) Subscribed(app, id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[app]
	return ap != nil && ap.subs[id]
}
