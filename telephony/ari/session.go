package ari

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
	"go.uber.org/zap"
)

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
	filter   atomic.Bool   // the event filter is set for this connection
	routed   atomic.Int64  // when the router last saw an event (unix ns)
	broken   func()        // ends the session; set by serve
	replaced atomic.Bool   // ApplicationReplaced came
	check    chan struct{} // size 1: check the prompt audio; set by serve
}

func newSession(n *node, cl *native.Client) *session {
	s := &session{n: n, cl: cl, reconn: make(chan struct{}, 1), hb: make(chan string, 4)}
	s.bus = &eventBus{n: n, q: newQueue[ariv5.Event]()}
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
	notify(s.reconn)
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
	check := make(chan struct{}, 1)
	s.check = check
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		s.checker(sctx, check)
	}()
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

// supervise sends heartbeats and reconciles. A user event to our own app
// must come back on our websocket: if it cannot be sent twice in a row,
// the node is unreachable (refused, timed out); if it is sent but does not
// come back, the websocket is half-open, or the app went to another
// websocket while its ApplicationReplaced was lost. Either way the session
// is given up, with the cause logged, and the node probes its way back
// (node.run).
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
			// A beat that fails here is the heartbeat's to count.
			_ = s.beat(ctx)
			s.refilter(ctx)
			s.reconcile(ctx, true)
			notify(s.check)
		case <-rc.C:
			s.reconcile(ctx, false)
		case <-hb.C:
			s.refilter(ctx)
			sent := n.a.now().UnixNano()
			err := s.beat(ctx)
			if err == nil || s.routed.Load() > sent {
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
				n.log.Warn("ARI heartbeat failed", zap.Error(err))
				continue
			}
			if errors.Is(err, errNotEchoed) {
				n.log.Warn("ARI heartbeat sent but not echoed twice: the websocket is half-open, or the app went to another websocket; reconnecting",
					zap.String("app", n.a.cfg.App))
			} else {
				n.log.Warn("ARI node unreachable; reconnecting", zap.Error(err))
			}
			s.broken()
			return
		}
	}
}

// checker runs the prompt audio check after every (re)connection, one at a
// time, off the supervisor's loop: it takes one request per sound.
func (s *session) checker(ctx context.Context, check <-chan struct{}) {
	if len(s.n.a.cfg.Sounds) == 0 {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-check:
		}
		if err := s.n.checkMedia(ctx); err != nil && ctx.Err() == nil {
			s.n.log.Warn("prompt audio not checked; trying again at the next connection", zap.Error(err))
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

// errNotEchoed is a heartbeat that Asterisk took but did not send back on
// our websocket in time.
var errNotEchoed = errors.New("heartbeat not echoed on the websocket")

// beat sends one heartbeat and waits for it on the websocket: nil when it
// came back, errNotEchoed, or why it could not be sent.
func (s *session) beat(ctx context.Context) error {
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
		return err
	}
	// The echo may take a while on a loaded node; a miss costs little.
	t := time.NewTimer(min(max(s.n.a.cfg.HeartbeatInterval, time.Second), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case got := <-s.hb:
			if got == name {
				return nil
			}
		case <-t.C:
			return errNotEchoed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
