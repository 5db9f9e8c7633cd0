package ari

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/prompts"
)

// Config configures the adapter. Zero durations take the defaults noted.
type Config struct {
	// URLs are the ARI base URLs of the Asterisk nodes, one connection
	// each, e.g. http://pbx1:8088/ari. Credentials do not go in the URL.
	URLs []string
	// Username and Password are an ari.conf user (both required).
	Username, Password string
	// App is the Stasis application name (default "verzet"). Give every
	// verzet instance its own: a second websocket with the same name takes
	// every call from the first.
	App string
	// DefaultOrg is the org of channels that name none.
	DefaultOrg string
	// MediaURL, when set, makes Asterisk fetch prompt audio from verzet
	// over HTTP (sound:{MediaURL}{name}.wav, Asterisk's HTTP media cache)
	// instead of playing the files `verzet prompts install` put in its
	// sounds folder. It ends with "/"; MediaHandler serves it.
	MediaURL string
	// RequestTimeout bounds every REST call (default 4 s).
	RequestTimeout time.Duration
	// ConnectTimeout bounds waiting for ari/v5's Connect (default 10 s).
	ConnectTimeout time.Duration
	// RetryInterval is how often a node that cannot be reached is tried
	// again (default 500 ms): GET /asterisk/info, then the websocket. It
	// does not grow: a probe is cheap, and a node that comes back has its
	// application registered again within about this long.
	RetryInterval time.Duration
	// ReplacedWait is how long the adapter leaves the application to
	// another websocket that took it (ApplicationReplaced) before it takes
	// it back (default 30 s): two instances with the same name that took
	// it back at once would steal calls from each other without end.
	ReplacedWait time.Duration
	// HeartbeatInterval is how often a user event is sent to our own app to
	// prove the websocket still delivers (default 10 s); two misses in a
	// row reconnect.
	HeartbeatInterval time.Duration
	// ReconcileInterval is how often the app's channels are compared with
	// the dialogues (default 30 s), besides after every reconnect.
	ReconcileInterval time.Duration
	// DrainTimeout is how long active dialogues may go on after Run's ctx
	// is cancelled (default 30 s); the rest are hung up.
	DrainTimeout time.Duration
	// MaxConnsPerNode bounds HTTP connections to one node (default 64);
	// Asterisk's http.conf sessionlimit (default 100) must be above it.
	MaxConnsPerNode int
	// PlaybackGrace is how long past a prompt's duration a playback may go
	// without PlaybackFinished before the adapter asks Asterisk about it
	// (default 5 s).
	PlaybackGrace time.Duration
	// Sounds are the names of every sound the prompts play
	// (prompts.Catalog.SoundNames): after every (re)connection each node
	// is asked whether it can play them (see MediaProblems). None: no
	// check.
	Sounds []string
	// Instance is this process's id among the instances on its store (its
	// heartbeat row, objections.Instance.ID); the offers' Instance is the
	// same (ivr.WithInstance).
	Instance string
	// Peers, when set, are the instances on the same store: the adapter
	// writes its heartbeat every BeatInterval, and takes over the
	// channels of an instance whose heartbeat is older than PeerTimeout
	// (takeover.go). Instance is then required.
	Peers Peers
	// BeatInterval is how often the heartbeat is written and the others'
	// read (default 1 s).
	BeatInterval time.Duration
	// PeerTimeout is how old an instance's heartbeat may be before it is
	// taken to have stopped (default 3 s).
	PeerTimeout time.Duration
}

func (c Config) withDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.App == "" {
		c.App = "verzet"
	}
	set(&c.RequestTimeout, 4*time.Second)
	set(&c.ConnectTimeout, 10*time.Second)
	set(&c.RetryInterval, 500*time.Millisecond)
	set(&c.ReplacedWait, 30*time.Second)
	set(&c.HeartbeatInterval, 10*time.Second)
	set(&c.ReconcileInterval, 30*time.Second)
	set(&c.DrainTimeout, 30*time.Second)
	set(&c.PlaybackGrace, 5*time.Second)
	set(&c.BeatInterval, time.Second)
	set(&c.PeerTimeout, 3*time.Second)
	if c.MaxConnsPerNode <= 0 {
		c.MaxConnsPerNode = 64
	}
	return c
}

// Flows returns the dialogue flow of an org and the language to speak: lang
// is what the channel asked for ("" when nothing), the result what to use.
type Flows func(ctx context.Context, org, lang string) (ivr.Flow, string)

// Stats counts what an operator alerts on. cmd exports them as metrics.
type Stats struct {
	Connects        atomic.Int64 // websocket connections established (first and re-)
	Reconnects      atomic.Int64 // of which re-connections of a live client
	ConnectFailures atomic.Int64 // connect attempts that failed or timed out
	HeartbeatMisses atomic.Int64 // heartbeats not echoed on the websocket
	FilterFailures  atomic.Int64 // event filter not set after a connect
	Reconciles      atomic.Int64 // channel lists compared with the dialogues
	CallsStarted    atomic.Int64 // dialogues started (StasisStart or adopted)
	CallsActive     atomic.Int64 // channels being handled now
	CallsRefused    atomic.Int64 // channels handed back untouched (shutdown, no org)
	CallsAdopted    atomic.Int64 // channels found in the app without a dialogue (events lost)
	CallsVanished   atomic.Int64 // channels that left the app while their end event was lost
	KeysDropped     atomic.Int64 // DTMF keys with no dialogue to take them (lagging, or unknown channel)
	PlaybacksLost   atomic.Int64 // playbacks whose PlaybackFinished never came
	EventBacklogMax atomic.Int64 // most events ever queued for the router at once
	EventLagMaxMS   atomic.Int64 // latest a StasisStart or key reached the router, by Asterisk's timestamp
	// EventsUndecodable counts events of a type ari/v5 v5.3.1 cannot
	// decode: each would have crashed the process through stdbus. Non-zero
	// means the event filter is not in force (Asterisk older than 13.26 or
	// 16.3, or the PUT failed).
	EventsUndecodable atomic.Int64
	Replaced          atomic.Int64 // ApplicationReplaced received: another websocket took our app
	CallsTakenOver    atomic.Int64 // channels of a stopped instance moved into our app
	HeartbeatFailures atomic.Int64 // heartbeats the store did not take
}

// Adapter runs the ivr dialogue on Asterisk channels through ARI: one
// connection per node, one goroutine per channel.
type Adapter struct {
	cfg      Config
	dialogue *ivr.Dialogue
	flows    Flows
	log      *zap.Logger
	stats    *Stats
	nodes    []*node
	hbPrefix string
	now      func() time.Time

	// routeHook, when set (tests), runs before each event is routed.
	routeHook func()
}

// New returns an adapter for cfg. It connects nothing until Run. Errors name
// the bad setting.
func New(cfg Config, d *ivr.Dialogue, flows Flows, log *zap.Logger) (*Adapter, error) {
	cfg = cfg.withDefaults()
	if len(cfg.URLs) == 0 {
		return nil, errors.New("ari: no Asterisk URL")
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("ari: username and password are both required")
	}
	if cfg.Peers != nil && cfg.Instance == "" {
		return nil, errors.New("ari: peers need this instance's id")
	}
	if strings.ContainsAny(cfg.App, ",/?&# ") {
		return nil, fmt.Errorf("ari: application name %q may not hold , / ? & # or spaces", cfg.App)
	}
	if cfg.MediaURL != "" {
		u, err := url.Parse(cfg.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(cfg.MediaURL, ",") {
			return nil, fmt.Errorf("ari: media URL %q must be an http(s) URL without commas", cfg.MediaURL)
		}
		if !strings.HasSuffix(cfg.MediaURL, "/") {
			cfg.MediaURL += "/"
		}
	}
	var nonce [6]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	a := &Adapter{cfg: cfg, dialogue: d, flows: flows, log: log, stats: &Stats{},
		hbPrefix: "verzet-heartbeat-" + hex.EncodeToString(nonce[:]) + "-", now: time.Now}
	seen := map[string]bool{}
	for _, raw := range cfg.URLs {
		n, err := newNode(a, raw)
		if err != nil {
			return nil, err
		}
		if seen[n.base] {
			return nil, fmt.Errorf("ari: Asterisk URL %s given twice", n.host)
		}
		seen[n.base] = true
		a.nodes = append(a.nodes, n)
	}
	return a, nil
}

// Stats returns the adapter's counters.
func (a *Adapter) Stats() *Stats { return a.stats }

// Run connects to every node and runs dialogues until ctx is cancelled.
// Each node runs on its own: one that is down or slow never holds up the
// others. When ctx is cancelled, channels that arrive are handed back to
// the dialplan (VERZET_RESULT=refused), active dialogues may finish for up
// to DrainTimeout, and the rest are hung up; Run returns when all are done.
func (a *Adapter) Run(ctx context.Context) {
	calls, endCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer endCalls()
	if a.cfg.Peers != nil {
		// The heartbeat goes on while the dialogues drain: this
		// instance is alive until Run returns.
		pctx, stopPeers := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.peers(pctx)
		}()
		defer func() { stopPeers(); <-done }()
	}
	var wg sync.WaitGroup
	for _, n := range a.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.run(ctx, calls)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	for _, n := range a.nodes {
		n.drain()
	}
	a.log.Info("ARI: taking no new calls; active dialogues may finish", zap.Int64("active", a.stats.CallsActive.Load()),
		zap.Duration("drain_timeout", a.cfg.DrainTimeout))
	t := time.NewTimer(a.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.log.Warn("ARI: drain timeout; hanging up the dialogues left", zap.Int64("active", a.stats.CallsActive.Load()))
		endCalls()
		<-done
	}
	a.log.Info("ARI: stopped")
}

// media returns the media URIs of a playback.
func (a *Adapter) media(pb prompts.Playback) []string {
	out := make([]string, 0, len(pb.Sounds))
	for _, s := range pb.Sounds {
		if a.cfg.MediaURL != "" {
			out = append(out, "sound:"+a.cfg.MediaURL+s.Name+".wav")
		} else {
			out = append(out, "sound:"+s.Name)
		}
	}
	return out
}
