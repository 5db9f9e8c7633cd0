package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// metrics are the API's Prometheus collectors. Label values come from
// fixed sets (route patterns, reason codes, sources, providers, outcomes),
// never from request data.
type metrics struct {
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	decisions       *prometheus.CounterVec
	decisionLatency *prometheus.HistogramVec
	checkBatch      prometheus.Histogram
	objections      *prometheus.CounterVec
	voids           prometheus.Counter
	offers          *prometheus.CounterVec
	eventSeq        prometheus.Gauge
	webhooks        *prometheus.CounterVec
	webhookLatency  prometheus.Histogram
	outboxPending   prometheus.Gauge
	outboxLag       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verzet_api_requests_total", Help: "API requests by route and HTTP status.",
		}, []string{"route", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "verzet_api_request_duration_seconds", Help: "API request duration by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verzet_decisions_total",
			Help: "Callability decisions (checks and scrubbed numbers) by result and first reason code: the honour evidence of docs/compliance.md §3.3 in aggregate.",
		}, []string{"callable", "reason"}),
		decisionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "verzet_decision_duration_seconds", Help: "Time to read the facts and decide: one check, or one scrub batch.",
			Buckets: []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"kind"}),
		checkBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "verzet_api_check_batch_size",
			Help:    "Dial-time checks read from the store with one statement: concurrent checks are read together (1 on a quiet server).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		objections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verzet_objections_total",
			Help: "Objections in the register's event log by source (every process's, not only this one's: aggregate instances with max).",
		}, []string{"source"}),
		voids: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "verzet_objection_voids_total", Help: "Voided objections in the register's event log.",
		}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verzet_offers_total",
			Help: "Calls that reached the objection offer, by provider and outcome (one offer record per call), from the register's event log.",
		}, []string{"provider", "outcome"}),
		eventSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verzet_event_log_seq", Help: "Sequence number of the last event counted.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verzet_webhook_deliveries_total", Help: "Webhook delivery attempts by result (ok, failed).",
		}, []string{"result"}),
		webhookLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "verzet_webhook_delivery_duration_seconds", Help: "Duration of one webhook POST.",
			Buckets: prometheus.DefBuckets,
		}),
		outboxPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verzet_outbox_pending", Help: "Webhook deliveries not yet acknowledged.",
		}),
		outboxLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verzet_outbox_lag_seconds", Help: "Age of the oldest webhook delivery not yet acknowledged (0 when none).",
		}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.decisions, m.decisionLatency, m.checkBatch, m.objections, m.voids,
		m.offers, m.eventSeq, m.webhooks, m.webhookLatency, m.outboxPending, m.outboxLag)
	return m
}

func (m *metrics) observeRequest(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.requestDuration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *metrics) observeDecision(d objections.Decision) {
	reason := ""
	if len(d.Reasons) > 0 {
		reason = string(d.Reasons[0])
	}
	m.decisions.WithLabelValues(strconv.FormatBool(d.Callable), reason).Inc()
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.promReg, promhttp.HandlerOpts{ErrorLog: zap.NewStdLog(s.log.Named("metrics"))})
}

// tailEvents counts objections, voids and offers as they appear in the
// event log, from the first event on: the counters are the register's
// totals, the same on every instance, and include what the IVR and the
// command line recorded.
func (s *Server) tailEvents(ctx context.Context) {
	var after int64
	t := time.NewTicker(s.cfg.EventMetricsInterval)
	defer t.Stop()
	for {
		for {
			page, err := s.store.Events(ctx, after, 1000)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("read events for metrics", zap.Error(err))
				}
				break
			}
			for _, e := range page {
				s.countEvent(e)
				after = e.Seq
			}
			s.metrics.eventSeq.Set(float64(after))
			if len(page) < 1000 || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) countEvent(e objections.Event) {
	var p struct {
		Source   string `json:"source"`
		Provider string `json:"provider"`
		Outcome  string `json:"outcome"`
	}
	switch e.Kind {
	case objections.EventObjectionRecorded:
		_ = json.Unmarshal(e.Payload, &p)
		if !objections.Source(p.Source).Valid() {
			p.Source = "other"
		}
		s.metrics.objections.WithLabelValues(p.Source).Inc()
	case objections.EventObjectionVoided:
		s.metrics.voids.Inc()
	case objections.EventOfferRecorded:
		_ = json.Unmarshal(e.Payload, &p)
		if !objections.Outcome(p.Outcome).Valid() {
			p.Outcome = "other"
		}
		if len(p.Provider) > 32 {
			p.Provider = "other"
		}
		s.metrics.offers.WithLabelValues(p.Provider, p.Outcome).Inc()
	}
}
