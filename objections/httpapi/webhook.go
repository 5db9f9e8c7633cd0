package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// WebhookConfig configures the outbound events; zero fields take the
// defaults below. Webhooks run when URLs is not empty and the server has
// an Outbox (Stores.Outbox).
type WebhookConfig struct {
	// URLs receive every new and voided objection.
	URLs []string
	// Secret keys the HMAC-SHA256 signature of every delivery.
	Secret string
	// Timeout bounds one POST (default 10 s).
	Timeout time.Duration
	// Poll is how often the outbox is read when nothing announced new
	// events (default 1 s); events recorded through this instance's API
	// are sent at once.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed delivery is
	// tried again, doubling from the one to the other (default 1 s, 10 min).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Lease is how long a claimed delivery is this instance's before
	// another may take it over (default 2 min; keep it well above Timeout).
	Lease time.Duration
	// Retention is how long acknowledged deliveries are kept (default 7 days).
	Retention time.Duration
	// Batch is how many deliveries (each of another number) are sent at
	// once (default 16).
	Batch int
	// Client sends the POSTs; nil makes one with Timeout that does not
	// follow redirects.
	Client *http.Client
}

func (c *WebhookConfig) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 16
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is not an acknowledgement
		}}
	}
}

// Outbox is the stores' transactional outbox of webhook deliveries
// (objections/postgres and objections/sqlite, migration 005).
type Outbox interface {
	// SetWebhookTargets makes urls the targets that get a delivery for
	// every objection and void recorded from now on.
	SetWebhookTargets(ctx context.Context, urls []string, now time.Time) error
	// ClaimDeliveries leases up to limit due deliveries, at most one per
	// target and key, each the oldest undelivered of its key.
	ClaimDeliveries(ctx context.Context, targets []string, now time.Time, lease time.Duration, limit int) ([]objections.Delivery, error)
	// AckDelivery marks a delivery as delivered.
	AckDelivery(ctx context.Context, id int64, now time.Time) error
	// RetryDelivery records a failed attempt; due again at next.
	RetryDelivery(ctx context.Context, d objections.Delivery, next time.Time, lastError string) error
	// OutboxStats counts the undelivered deliveries.
	OutboxStats(ctx context.Context, targets []string) (objections.OutboxStats, error)
	// PruneDeliveries deletes deliveries acknowledged before before.
	PruneDeliveries(ctx context.Context, before time.Time, limit int) (int64, error)
}

// objectionReader reads the objection an event announces.
type objectionReader interface {
	Objection(ctx context.Context, id string) (objections.Objection, error)
}

// Event is the JSON body of a webhook delivery.
type Event struct {
	// ID identifies the event across attempts and targets; receivers
	// deduplicate on it, as delivery is at least once.
	ID string `json:"id"`
	// Type is objection.recorded or objection.voided.
	Type string `json:"type"`
	// OccurredAt is when the objection took effect, or when it was voided.
	OccurredAt time.Time `json:"occurred_at"`
	// Objection is the objection as it stood after the event.
	Objection objectionView `json:"objection"`
}

// SignatureHeader carries the delivery's signature: t=UNIX,v1=HEX, where
// HEX is the HMAC-SHA256 with the webhook secret of t + "." + body.
const SignatureHeader = "Verzet-Signature"

// Sign returns the Verzet-Signature value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// relay delivers the outbox: it claims the oldest undelivered event of each
// number, POSTs it to its target, and acknowledges it on a 2xx or schedules
// a retry with backoff. Several instances may run relays on one store;
// the claims keep them apart and the order per number holds across them.
type relay struct {
	cfg     WebhookConfig
	outbox  Outbox
	store   objectionReader
	log     *zap.Logger
	metrics *metrics
	now     func() time.Time
	wake    chan struct{} // size 1: a pending wake-up is enough
	// ready is closed once the targets are registered: from then on every
	// committed objection has its deliveries.
	ready chan struct{}
}

func newRelay(cfg WebhookConfig, outbox Outbox, store objectionReader, log *zap.Logger, m *metrics, now func() time.Time) *relay {
	return &relay{cfg: cfg, outbox: outbox, store: store, log: log, metrics: m, now: now,
		wake: make(chan struct{}, 1), ready: make(chan struct{})}
}

// notify makes the relay look at the outbox now (an event was just
// committed through this instance). Safe on a nil relay.
func (r *relay) notify() {
	if r == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *relay) run(ctx context.Context) {
	for {
		err := r.outbox.SetWebhookTargets(ctx, r.cfg.URLs, r.now())
		if err == nil {
			break
		}
		r.log.Error("register webhook targets", zap.Error(err))
		if !sleep(ctx, r.cfg.Poll) {
			return
		}
	}
	close(r.ready)
	r.log.Info("webhook relay started", zap.Int("targets", len(r.cfg.URLs)))
	var lastStats, lastPrune time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n := r.round(ctx)
		if now := r.now(); now.Sub(lastStats) >= r.cfg.Poll {
			r.updateStats(ctx, now)
			lastStats = now
		}
		if now := r.now(); now.Sub(lastPrune) >= time.Hour {
			r.prune(ctx, now)
			lastPrune = now
		}
		if ctx.Err() != nil {
			return
		}
		if n == r.cfg.Batch {
			continue // more are waiting
		}
		timer.Reset(r.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

// round claims and delivers one batch; it returns how many it claimed.
func (r *relay) round(ctx context.Context) int {
	ds, err := r.outbox.ClaimDeliveries(ctx, r.cfg.URLs, r.now(), r.cfg.Lease, r.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("claim webhook deliveries", zap.Error(err))
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { r.deliver(ctx, d) })
	}
	wg.Wait()
	return len(ds)
}

// deliver sends one delivery and records the outcome. The outcome is
// written even when ctx ends during the POST: an acknowledged event must
// not be sent again needlessly.
func (r *relay) deliver(ctx context.Context, d objections.Delivery) {
	log := r.log.With(zap.String("target", redactURL(d.Target)), zap.String("event_id", d.EventID),
		zap.String("objection_id", d.ObjectionID), zap.Int("attempt", d.Attempts+1))
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	body, err := r.payload(ctx, d)
	if err == nil {
		start := time.Now()
		err = r.post(ctx, d, body)
		r.metrics.webhookLatency.Observe(time.Since(start).Seconds())
	}
	if err == nil {
		r.metrics.webhooks.WithLabelValues("ok").Inc()
		if err := r.outbox.AckDelivery(wctx, d.ID, r.now()); err != nil {
			log.Warn("acknowledge webhook delivery (it will be sent again)", zap.Error(err))
		}
		return
	}
	r.metrics.webhooks.WithLabelValues("failed").Inc()
	next := r.now().Add(r.backoff(d.Attempts + 1))
	// A receiver that is down fails every attempt: warn on the first and
	// every tenth, so that the log says so without drowning.
	if d.Attempts%10 == 0 {
		log.Warn("webhook delivery failed; will retry", zap.Error(err), zap.Time("next_attempt", next))
	} else {
		log.Debug("webhook delivery failed; will retry", zap.Error(err), zap.Time("next_attempt", next))
	}
	if err := r.outbox.RetryDelivery(wctx, d, next, err.Error()); err != nil {
		log.Warn("record failed webhook delivery", zap.Error(err))
	}
}

// backoff is the wait before attempt n+1: MinBackoff doubled per attempt,
// at most MaxBackoff, with a fifth of jitter so that a recovering receiver
// is not hit by every retry at once.
func (r *relay) backoff(attempts int) time.Duration {
	d := r.cfg.MinBackoff
	for i := 1; i < attempts && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.cfg.MaxBackoff)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// payload builds the event body from the stored objection: for a recorded
// event the objection as recorded (without a later void), for a voided one
// with its void. The same event gives the same body on every attempt.
func (r *relay) payload(ctx context.Context, d objections.Delivery) ([]byte, error) {
	o, err := r.store.Objection(ctx, d.ObjectionID)
	if err != nil {
		return nil, err
	}
	if d.Kind == objections.EventObjectionRecorded && o.Void != nil {
		o.Void, o.Status = nil, objections.StatusActive
		if o.Number == "" {
			o.Status = objections.StatusPendingNumber
		}
	}
	return json.Marshal(Event{ID: d.EventID, Type: string(d.Kind), OccurredAt: d.At, Objection: viewObjection(o)})
}

// post sends body to d's target; nil means acknowledged (2xx).
func (r *relay) post(ctx context.Context, d objections.Delivery, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "verzet-webhook/1")
	req.Header.Set(SignatureHeader, Sign(r.cfg.Secret, r.now(), body))
	req.Header.Set("Verzet-Event-Id", d.EventID)
	req.Header.Set("Verzet-Event-Type", string(d.Kind))
	req.Header.Set("Verzet-Delivery-Attempt", strconv.Itoa(d.Attempts+1))
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold credentials; keep it out of logs and the outbox
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errors.New("receiver answered HTTP " + strconv.Itoa(resp.StatusCode))
	}
	return nil
}

func (r *relay) updateStats(ctx context.Context, now time.Time) {
	st, err := r.outbox.OutboxStats(ctx, r.cfg.URLs)
	if err != nil {
		return
	}
	r.metrics.outboxPending.Set(float64(st.Pending))
	lag := 0.0
	if !st.Oldest.IsZero() {
		lag = max(0, now.Sub(st.Oldest).Seconds())
	}
	r.metrics.outboxLag.Set(lag)
}

func (r *relay) prune(ctx context.Context, now time.Time) {
	for ctx.Err() == nil {
		n, err := r.outbox.PruneDeliveries(ctx, now.Add(-r.cfg.Retention), 10000)
		if err != nil || n < 10000 {
			return
		}
	}
}

// redactURL drops credentials, query and fragment from a URL for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
