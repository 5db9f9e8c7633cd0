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
	media     atomic.Pointer[mediaReport]
	playbacks sync.Map     // playback id → *call playing it
	mu        sync.RWMutex // guards channels and draining
	channels  map[string]*call
	taking    map[string]*takeover // channels of a stopped instance being moved to us
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
		channels: map[string]*call{}, taking: map[string]*takeover{}, recent: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	n.log = a.log.With(zap.String("provider", "ari"), zap.String("node", u.Host))
	return n, nil
}

// run keeps the node connected until ctx is cancelled and its dialogues are
// done (or calls is cancelled and they hung up).
func (n *node) run(ctx, calls context.Context) {
	n.calls = calls
	defer n.tr.CloseIdleConnections()
	defer n.wg.Wait()
	failures := 0
	var down, warned time.Time // first failure in a row; last one logged as a warning
	for !n.finished(ctx) {
		s, err := n.connect(calls)
		if err != nil {
			if calls.Err() != nil {
				return
			}
			failures++
			n.a.stats.ConnectFailures.Add(1)
			now := n.a.now()
			if failures == 1 {
				down = now
			}
			log := n.log.Debug
			if now.Sub(warned) >= time.Minute { // the first failure, then one a minute
				log, warned = n.log.Warn, now
			}
			log("ARI node unreachable; retrying", zap.Int("attempt", failures), zap.Duration("down_for", now.Sub(down)),
				zap.Duration("retry_in", n.a.cfg.RetryInterval), zap.Error(err))
			// A short, fixed interval, with jitter so that nodes and
			// instances do not probe in step.
			if !n.sleep(ctx, n.a.cfg.RetryInterval/2+rand.N(n.a.cfg.RetryInterval/2+1)) {
				return
			}
			continue
		}
		if failures > 0 {
			n.log.Info("ARI node reachable again", zap.Int("failed_attempts", failures), zap.Duration("down_for", n.a.now().Sub(down)))
		}
		failures, warned = 0, time.Time{}
		s.serve(ctx)
		if s.replaced.Load() {
			// Another instance with our app name runs: taking the app back
			// at once would make the two steal calls from each other.
			if !n.sleep(ctx, n.a.cfg.ReplacedWait) {
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
	notify(n.changed)
}

// notify wakes the one waiter on a size-1 channel; a wake-up already
// pending stands for this one.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
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

func (n *node) call(id string) *call {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.channels[id]
}

func (n *node) end(id string) {
	if c := n.call(id); c != nil {
		c.end()
		return
	}
	n.takenOver(id) // hung up before it reached us
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
	if t := n.taking[id]; t != nil {
		// A channel of a stopped instance, moved to us: the keys the
		// caller pressed on the way are the dialogue's first.
		delete(n.taking, id)
		c.takenOver = true
		for _, k := range t.keys {
			select {
			case c.keys <- k:
			default:
				n.a.stats.KeysDropped.Add(1)
			}
		}
	}
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
