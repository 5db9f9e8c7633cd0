package ari

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"go.uber.org/zap"
)

// node is one Asterisk: its connection (a session, replaced after a
// failure), its channels and their dialogues.
type node struct {
	a     *Adapter
	base  string // http://host:8088/ari
	ws    string // ws://host:8088/ari/events
	host  string // host:port, for logs
	log   *zap.Logger
	tr    *http.Transport
	own   *http.Client // the adapter's own REST calls
	calls context.Context

	sess      atomic.Pointer[session] // nil while disconnected
	playbacks sync.Map                // playback id → chan<- pbEvent
	mu        sync.RWMutex            // guards channels and draining
	channels  map[string]*call
	recent    map[string]time.Time // channels finished lately
	draining  bool
	changed   chan struct{} // size 1: a call ended, or draining began
	wg        sync.WaitGroup

	pending *pendingConnect // owned by run
}

// pendingConnect is an ari/v5 Connect still running after ConnectTimeout.
// v5.3.1's Connect cannot be cancelled before it succeeds (its listen loop
// re-dials every second, forever); the node waits for that same attempt
// rather than pile up new ones, and adopts it when Asterisk answers.
type pendingConnect struct {
	s     *session
	cl    *native.Client
	done  chan error
	since time.Time
}

var errConnectTimeout = errors.New("websocket not connected yet (ari/v5 keeps retrying every second)")

func newNode(a *Adapter, raw string) (*node, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("ari: an Asterisk URL does not parse; it must look like http://pbx1:8088/ari")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ari: Asterisk URL %q must look like http://pbx1:8088/ari", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("ari: Asterisk URL for %s holds credentials; set them as username and password", u.Host)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	base := u.String()
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	ws.Path += "/events"
	cfg := a.cfg
	tr := &http.Transport{
		// No proxy from the environment: Asterisk is on the call centre's
		// network, and the websocket (x/net) ignores proxies anyway.
		DialContext:           (&net.Dialer{Timeout: min(5*time.Second, cfg.RequestTimeout), KeepAlive: 15 * time.Second}).DialContext,
		MaxIdleConns:          cfg.MaxConnsPerNode,
		MaxIdleConnsPerHost:   cfg.MaxConnsPerNode,
		MaxConnsPerHost:       cfg.MaxConnsPerNode,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		TLSHandshakeTimeout:   5 * time.Second,
	}
	n := &node{a: a, base: base, ws: ws.String(), host: u.Host, tr: tr, own: &http.Client{Transport: tr, Timeout: cfg.RequestTimeout},
		channels: map[string]*call{}, recent: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	n.log = a.log.With(zap.String("provider", "ari"), zap.String("node", u.Host))
	return n, nil
}

// run keeps the node connected until ctx is cancelled and its dialogues are
// done (or calls is cancelled and they hung up).
func (n *node) run(ctx, calls context.Context) {
	n.calls = calls
	defer n.tr.CloseIdleConnections()
	defer n.wg.Wait()
	backoff := n.a.cfg.BackoffMin
	failures := 0
	for !n.finished(ctx) {
		s, err := n.connect(calls)
		if err != nil {
			if calls.Err() != nil {
				return
			}
			failures++
			n.a.stats.ConnectFailures.Add(1)
			// Jitter: nodes and instances do not retry in step.
			wait := backoff/2 + rand.N(backoff/2+1)
			log := n.log.Warn
			if failures > 1 && failures%10 != 0 {
				log = n.log.Debug // the first failure and every tenth are enough
			}
			log("ARI node unreachable; retrying", zap.Int("attempt", failures), zap.Duration("backoff", wait), zap.Error(err))
			if !n.sleep(ctx, wait) {
				return
			}
			backoff = min(backoff*2, n.a.cfg.BackoffMax)
			continue
		}
		if failures > 0 {
			n.log.Info("ARI node reachable again", zap.Int("failed_attempts", failures))
		}
		failures = 0
		start := n.a.now()
		s.serve(ctx)
		if n.a.now().Sub(start) > time.Minute {
			backoff = n.a.cfg.BackoffMin
		}
		if s.replaced.Load() {
			// Another instance with our app name runs: taking the app back
			// at once would make the two steal calls from each other.
			if !n.sleep(ctx, n.a.cfg.BackoffMax) {
				return
			}
		}
	}
}

// finished reports whether the node may stop: calls cancelled, or draining
// with no channel left.
func (n *node) finished(ctx context.Context) bool {
	if n.calls.Err() != nil && n.active() == 0 {
		return true
	}
	return ctx.Err() != nil && n.active() == 0
}

// sleep waits d; it returns false when the node should stop instead.
func (n *node) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	done := ctx.Done()
	for {
		select {
		case <-t.C:
			return true
		case <-n.calls.Done():
			return false
		case <-done:
			done = nil
		case <-n.changed:
		}
		if n.finished(ctx) {
			return false
		}
	}
}

func (n *node) drain() {
	n.mu.Lock()
	n.draining = true
	n.mu.Unlock()
	n.signal()
}

func (n *node) signal() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

func (n *node) active() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.channels)
}

// client returns the current ari/v5 client, nil while disconnected.
func (n *node) client() ariv5.Client {
	if s := n.sess.Load(); s != nil {
		return s.cl
	}
	return nil
}

// connect returns a connected session. It never waits longer than
// ConnectTimeout: a REST probe first (a dead node fails it at once, a
// hung one within RequestTimeout), then ari/v5's Connect in a goroutine.
func (n *node) connect(calls context.Context) (*session, error) {
	cfg := n.a.cfg
	if n.pending == nil {
		pctx, cancel := context.WithTimeout(calls, cfg.RequestTimeout)
		version, err := n.probe(pctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("probe GET /asterisk/info: %w", err)
		}
		cl := native.New(&native.Options{Application: cfg.App, URL: n.base, WebsocketURL: n.ws, Username: cfg.Username, Password: cfg.Password})
		s := newSession(n, cl)
		if err := setHTTPClient(cl, &http.Client{Transport: &observer{base: n.tr, s: s}, Timeout: cfg.RequestTimeout}); err != nil {
			return nil, err
		}
		if err := checkBus(cl); err != nil {
			return nil, err
		}
		n.log.Debug("connecting the ARI websocket", zap.String("asterisk_version", version))
		p := &pendingConnect{s: s, cl: cl, done: make(chan error, 1), since: n.a.now()}
		go func() { p.done <- cl.Connect() }() // not cancellable in v5.3.1: see pendingConnect
		n.pending = p
	}
	p := n.pending
	t := time.NewTimer(cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		n.pending = nil
		if err != nil {
			return nil, fmt.Errorf("ari/v5 connect: %w", err)
		}
		stop, err := listenCancel(p.cl)
		if err != nil {
			return nil, err
		}
		p.s.stop = stop
		return p.s, nil
	case <-t.C:
		return nil, fmt.Errorf("%w (for %s)", errConnectTimeout, n.a.now().Sub(p.since).Round(time.Second))
	case <-calls.Done():
		return nil, calls.Err()
	}
}

// observer sits between ari/v5 and the node's transport. ari/v5 calls GET
// /asterisk/info right after every websocket (re)connection, before it
// reads an event: that is where the event filter is set and the reconcile
// is triggered, since Asterisk clears the filter when the app re-registers.
type observer struct {
	base http.RoundTripper
	s    *session
}

func (o *observer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/asterisk/info") && resp.StatusCode/100 == 2 {
		o.s.connected()
	}
	return resp, err
}

// session is one ari/v5 client: its websocket (which the library re-dials
// itself after a drop), its event bus, the router and the supervisor
// (heartbeat, reconcile).
type session struct {
	n        *node
	cl       *native.Client
	stop     context.CancelFunc // the client's listen loop
	bus      *eventBus
	busSet   bool          // written on the listen goroutine only
	reconn   chan struct{} // size 1: a (re)connection was seen
	hb       chan string   // heartbeats echoed
	hbSeq    int
	infos    atomic.Int64
	filter   atomic.Bool  // the event filter is set for this connection
	routed   atomic.Int64 // when the router last saw an event (unix ns)
	broken   func()       // ends the session; set by serve
	replaced atomic.Bool  // ApplicationReplaced came
}

func newSession(n *node, cl *native.Client) *session {
	s := &session{n: n, cl: cl, reconn: make(chan struct{}, 1), hb: make(chan string, 4)}
	s.bus = &eventBus{n: n, q: &fifo{ready: make(chan struct{}, 1)}}
	return s
}

// connected runs on ari/v5's listen goroutine after each websocket
// (re)connection, before any event of it is read.
func (s *session) connected() {
	n := s.n
	if !s.busSet {
		// ari/v5 made its bus before it started this goroutine and starts
		// the reader after this returns: replacing the bus here is ordered
		// with both, and not one event goes to stdbus.
		if err := setBus(s.cl, s.bus); err != nil {
			// checkBus passed before Connect, so this cannot happen.
			n.log.Error("ARI event bus not replaced; events go to ari/v5's stdbus and are not routed", zap.Error(err))
		}
		s.busSet = true
	}
	st := n.a.stats
	st.Connects.Add(1)
	if s.infos.Add(1) > 1 {
		st.Reconnects.Add(1)
		n.log.Warn("ARI websocket reconnected; events in the gap are lost, reconciling")
	} else {
		n.log.Info("ARI websocket connected", zap.String("app", n.a.cfg.App))
	}
	// Asterisk sends the websocket's 101 before it registers the app: a
	// PUT in between is a 404. Retry briefly; events wait meanwhile, since
	// ari/v5 reads none before this returns.
	ctx, cancel := context.WithTimeout(context.Background(), n.a.cfg.RequestTimeout/2)
	var err error
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		if err = n.setFilter(ctx); statusOf(err) != http.StatusNotFound {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-ctx.Done():
			t.Stop()
		}
		break
	}
	cancel()
	s.filter.Store(err == nil)
	if err != nil {
		st.FilterFailures.Add(1)
		n.log.Error("ARI event filter not set: an event type ari/v5 does not know would crash the process; retrying", zap.Error(err))
	}
	select {
	case s.reconn <- struct{}{}:
	default:
	}
}

// serve runs the session until it breaks (heartbeat lost) or the node is
// finished.
func (s *session) serve(ctx context.Context) {
	n := s.n
	n.sess.Store(s)
	sctx, cancel := context.WithCancel(n.calls)
	broken := make(chan struct{})
	var once sync.Once
	s.broken = func() { once.Do(func() { close(broken) }) }
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			batch, ok := s.bus.q.take()
			if !ok {
				return
			}
			for _, e := range batch {
				if n.a.routeHook != nil {
					n.a.routeHook()
				}
				n.route(s, e)
			}
		}
	}()
	go func() {
		defer wg.Done()
		s.supervise(sctx)
	}()
	done, callsDone := ctx.Done(), n.calls.Done()
wait:
	for !n.finished(ctx) {
		select {
		case <-broken:
			break wait
		case <-done:
			done = nil
		case <-callsDone:
			callsDone = nil // the dialogues hang up; each end signals changed
		case <-n.changed:
		}
	}
	n.sess.Store(nil)
	cancel()
	s.stop()        // ends the listen loop and the websocket
	s.bus.q.close() // the router ends once it has routed what came
	wg.Wait()
}

// eventBus is the ari/v5 bus of our clients. v5.3.1's stdbus gives each
// subscription 100 events and silently drops the rest, panics on the nil
// event its reader sends for a type it cannot decode, and delivers events
// without keys (ApplicationReplaced) to nobody. This one queues every event
// in order, without a bound, for the session's router; drops nil; and
// routes ApplicationReplaced like any other event. The adapter never
// subscribes through ari/v5 handles, so Subscribe delivers nothing.
type eventBus struct {
	n *node
	q *fifo
}

var _ ariv5.Bus = (*eventBus)(nil)

// Send is called by ari/v5's websocket reader, one event at a time.
func (b *eventBus) Send(e ariv5.Event) {
	if e == nil {
		// An event type ari/v5 v5.3.1 does not know: stdbus would panic.
		b.n.a.stats.EventsUndecodable.Add(1)
		return
	}
	if d := b.q.push(e); d > b.n.a.stats.EventBacklogMax.Load() {
		b.n.a.stats.EventBacklogMax.Store(d)
	}
}

// Subscribe implements ari.Bus; the adapter routes events itself.
func (b *eventBus) Subscribe(*ariv5.Key, ...string) ariv5.Subscription {
	ch := make(chan ariv5.Event)
	close(ch)
	return closedSub(ch)
}

// Close implements ari.Bus.
func (b *eventBus) Close() {}

type closedSub <-chan ariv5.Event

func (c closedSub) Events() <-chan ariv5.Event { return c }
func (c closedSub) Cancel()                    {}

// fifo is an unbounded, ordered queue of events between ari/v5's reader
// and the router.
type fifo struct {
	mu     sync.Mutex
	items  []ariv5.Event
	spare  []ariv5.Event
	closed bool
	ready  chan struct{} // size 1
}

// push queues e and returns the queue's depth; after close it drops e.
func (f *fifo) push(e ariv5.Event) int64 {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return 0
	}
	f.items = append(f.items, e)
	d := int64(len(f.items))
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
	return d
}

func (f *fifo) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// take waits for events and returns all queued, in order; false once the
// queue is closed and empty. The batch is valid until the next take.
func (f *fifo) take() ([]ariv5.Event, bool) {
	for {
		f.mu.Lock()
		if len(f.items) > 0 {
			batch := f.items
			f.items, f.spare = f.spare[:0], batch
			f.mu.Unlock()
			return batch, true
		}
		closed := f.closed
		f.mu.Unlock()
		if closed {
			return nil, false
		}
		<-f.ready
	}
}

// supervise sends heartbeats and reconciles. A user event to our own app
// must come back on our websocket: if it does not twice in a row, the app
// was taken by another websocket (ApplicationReplaced, which v5.3.1 cannot
// deliver: the event has no key for its bus) or the connection is
// half-open. Either way the session is given up and the node reconnects.
func (s *session) supervise(ctx context.Context) {
	n := s.n
	hb := time.NewTicker(n.a.cfg.HeartbeatInterval)
	defer hb.Stop()
	rc := time.NewTicker(n.a.cfg.ReconcileInterval)
	defer rc.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reconn:
			// Our own user event coming back proves our registration is in
			// force; a filter set before it (on a registration about to be
			// replaced) was cleared by it, and the reconcile sets it again.
			s.beat(ctx)
			s.refilter(ctx)
			s.reconcile(ctx, true)
		case <-rc.C:
			s.reconcile(ctx, false)
		case <-hb.C:
			s.refilter(ctx)
			sent := n.a.now().UnixNano()
			if s.beat(ctx) || s.routed.Load() > sent {
				// Echoed, or late behind other events that do arrive: a
				// busy link, not a dead one.
				misses = 0
				continue
			}
			if ctx.Err() != nil {
				return
			}
			misses++
			n.a.stats.HeartbeatMisses.Add(1)
			if misses < 2 {
				n.log.Warn("ARI heartbeat not echoed on the websocket")
				continue
			}
			n.log.Error("ARI events stopped arriving: another websocket took application "+n.a.cfg.App+
				" (ApplicationReplaced — give every verzet instance its own VERZET_ARI_APP) or the connection is half-open; reconnecting",
				zap.String("app", n.a.cfg.App))
			s.broken()
			return
		}
	}
}

func (s *session) refilter(ctx context.Context) {
	if s.filter.Load() {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, s.n.a.cfg.RequestTimeout)
	err := s.n.setFilter(rctx)
	cancel()
	if err != nil {
		s.n.a.stats.FilterFailures.Add(1)
		s.n.log.Error("ARI event filter still not set", zap.Error(err))
		return
	}
	s.filter.Store(true)
	s.n.log.Info("ARI event filter set")
}

// beat sends one heartbeat and waits for it on the websocket.
func (s *session) beat(ctx context.Context) bool {
	for {
		select {
		case <-s.hb: // a late echo
			continue
		default:
		}
		break
	}
	s.hbSeq++
	name := fmt.Sprintf("%s%d", s.n.a.hbPrefix, s.hbSeq)
	rctx, cancel := context.WithTimeout(ctx, s.n.a.cfg.RequestTimeout)
	err := s.n.userEvent(rctx, name)
	cancel()
	if err != nil {
		s.n.log.Debug("ARI heartbeat not sent", zap.Error(err))
		return false
	}
	// The echo may take a while on a loaded node; a miss costs little.
	t := time.NewTimer(min(max(s.n.a.cfg.HeartbeatInterval, time.Second), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case got := <-s.hb:
			if got == name {
				return true
			}
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// reconcile compares the channels in our app with the dialogues: a
// dialogue whose channel left the app while its StasisEnd was lost (a
// websocket gap, a dropped event) ends and closes its offer; a channel in
// the app without a dialogue (its StasisStart was lost, or verzet
// restarted) gets one — or is handed back while draining; a dialogue whose
// channel is still there resumes, and after a gap (afterGap) a playback
// that ended in it is settled.
func (s *session) reconcile(ctx context.Context, afterGap bool) {
	n := s.n
	start := n.a.now()
	rctx, cancel := context.WithTimeout(ctx, n.a.cfg.RequestTimeout)
	state, err := n.app(rctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("ARI reconcile skipped", zap.Error(err))
		}
		return
	}
	n.a.stats.Reconciles.Add(1)
	if len(state.EventsAllowed) == 0 && s.filter.Load() {
		// Asterisk clears the filter when the app registers again: a
		// registration that replaced ours or came after our PUT.
		n.log.Warn("ARI event filter found cleared; setting it again")
		s.filter.Store(false)
		s.refilter(ctx)
	}
	ids := state.ChannelIDs
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	n.mu.RLock()
	calls := make([]*call, 0, len(n.channels))
	for _, c := range n.channels {
		calls = append(calls, c)
	}
	n.mu.RUnlock()
	var left []*call
	for _, c := range calls {
		switch {
		case in[c.id]:
			if afterGap {
				c.resume(ctx)
			}
		case c.created.Before(start) && !c.ended():
			left = append(left, c)
		}
	}
	var unknown []string
	for _, id := range ids {
		if n.call(id) == nil && !n.finishedRecently(id) {
			unknown = append(unknown, id)
		}
	}
	if len(left) == 0 && len(unknown) == 0 {
		return
	}
	// The snapshot may be ahead of the events: a StasisStart or StasisEnd
	// still on its way. A user event sent now comes back behind them on the
	// same websocket; what is still unexplained then, was lost.
	if !s.beat(ctx) {
		n.log.Debug("ARI events lag behind the reconcile; settling later", zap.Int("left", len(left)), zap.Int("unknown", len(unknown)))
		return
	}
	for _, c := range left {
		if !c.ended() {
			n.a.stats.CallsVanished.Add(1)
			c.log().Info("channel left the app while its events were lost; ending its dialogue")
			c.end()
		}
	}
	for _, id := range unknown {
		if !n.finishedRecently(id) {
			n.start(id, nil, nil, true)
		}
	}
}

// route hands one event to its call or playback. It never blocks and does
// no I/O: it is the only reader of the session's subscription.
func (n *node) route(s *session, e ariv5.Event) {
	s.routed.Store(n.a.now().UnixNano())
	switch e := e.(type) {
	case *ariv5.StasisStart:
		n.lag(e.Timestamp)
		n.start(e.Channel.ID, &e.Channel, e.Args, false)
	case *ariv5.ChannelDtmfReceived:
		n.lag(e.Timestamp)
		if c := n.call(e.Channel.ID); c != nil {
			c.press(e.Digit)
		} else {
			n.a.stats.KeysDropped.Add(1)
		}
	case *ariv5.ChannelHangupRequest:
		n.end(e.Channel.ID)
	case *ariv5.StasisEnd:
		n.end(e.Channel.ID)
	case *ariv5.ChannelDestroyed:
		n.end(e.Channel.ID)
	case *ariv5.PlaybackStarted:
		n.deliver(e.Playback.ID, pbEvent{started: true})
	case *ariv5.PlaybackFinished:
		n.deliver(e.Playback.ID, pbEvent{state: e.Playback.State})
	case *ariv5.ChannelUserevent:
		if strings.HasPrefix(e.Eventname, n.a.hbPrefix) {
			select {
			case s.hb <- e.Eventname:
			default:
			}
		}
	case *ariv5.ApplicationReplaced:
		n.a.stats.Replaced.Add(1)
		n.log.Error("ApplicationReplaced: another websocket took application "+n.a.cfg.App+
			" and every call with it; give every verzet instance its own VERZET_ARI_APP. Taking it back after the maximum backoff",
			zap.String("app", n.a.cfg.App), zap.Duration("backoff", n.a.cfg.BackoffMax))
		s.replaced.Store(true)
		s.broken()
	}
}

// lag notes how late an event reaches the router (Asterisk's clock against
// ours: meaningful with NTP on both).
func (n *node) lag(at ariv5.DateTime) {
	if t := time.Time(at); !t.IsZero() {
		if ms := n.a.now().Sub(t).Milliseconds(); ms > n.a.stats.EventLagMaxMS.Load() {
			n.a.stats.EventLagMaxMS.Store(ms)
		}
	}
}

func (n *node) call(id string) *call {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.channels[id]
}

func (n *node) end(id string) {
	if c := n.call(id); c != nil {
		c.end()
	}
}

// start begins handling a channel once, whichever of StasisStart and a
// reconcile sees it first.
func (n *node) start(id string, data *ariv5.ChannelData, args []string, adopted bool) {
	if id == "" {
		return
	}
	n.mu.Lock()
	if _, ok := n.channels[id]; ok || n.calls == nil || n.calls.Err() != nil {
		n.mu.Unlock()
		return
	}
	c := newCall(n, id)
	n.channels[id] = c
	draining := n.draining
	n.wg.Add(1)
	n.mu.Unlock()
	st := n.a.stats
	st.CallsActive.Add(1)
	if adopted {
		st.CallsAdopted.Add(1)
		c.log().Warn("channel in the app without a dialogue (its StasisStart was lost); taking it on")
	}
	go func() {
		defer n.wg.Done()
		defer n.remove(c)
		c.run(n.calls, draining, data, args)
	}()
}

func (n *node) remove(c *call) {
	now := n.a.now()
	n.mu.Lock()
	delete(n.channels, c.id)
	if len(n.recent) >= 4096 {
		for id, at := range n.recent {
			if now.Sub(at) > recentFor {
				delete(n.recent, id)
			}
		}
	}
	n.recent[c.id] = now
	n.mu.Unlock()
	n.a.stats.CallsActive.Add(-1)
	n.signal()
}

// recentFor is how long a finished channel is remembered, so that a
// reconcile whose snapshot predates its end does not take it on again.
const recentFor = 2 * time.Minute

func (n *node) finishedRecently(id string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	at, ok := n.recent[id]
	return ok && n.a.now().Sub(at) < recentFor
}

// pbEvent is a playback event for the Play waiting on it.
type pbEvent struct {
	started bool
	state   string // PlaybackFinished: done or failed
}

// watch registers a playback id before its play request is sent: playback
// events carry only the playback, and PlaybackStarted may arrive before
// the POST returns (ari.md §4.6).
func (n *node) watch(id string, ch chan<- pbEvent) { n.playbacks.Store(id, ch) }

func (n *node) unwatch(id string) { n.playbacks.Delete(id) }

func (n *node) deliver(id string, e pbEvent) {
	v, ok := n.playbacks.Load(id)
	if !ok {
		return
	}
	select {
	case v.(chan<- pbEvent) <- e:
	default: // the Play waits on at most started, finished and a settle
	}
}
