package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/telephony/ari"
	"github.com/verzet/verzet/telephony/ari/aritest"
	"github.com/verzet/verzet/telephony/twilio"
)

// exposition is a /metrics page: each sample's value by its name (with
// labels, as written), and each family's type.
type exposition struct {
	values map[string]float64
	types  map[string]string
}

func parseExposition(t *testing.T, text string) exposition {
	t.Helper()
	e := exposition{values: map[string]float64{}, types: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			e.types[name] = typ
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("metrics line %q", line)
		}
		e.values[line[:i]] = v
	}
	return e
}

// scrape gets base/metrics.
func scrape(t *testing.T, base string) exposition {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", resp.StatusCode, b)
	}
	return parseExposition(t, string(b))
}

// withPrefix returns the names of the samples starting with prefix.
func (e exposition) withPrefix(prefix string) []string {
	var out []string
	for name := range e.values {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	return out
}

// After Twilio calls, /metrics shows the webhook handler's counters.
func TestMetricsTwilio(t *testing.T) {
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=", "VERZET_PUBLIC_URL="}
	srv := startServeProc(t, append(env, "VERZET_HTTP_ADDR=127.0.0.1:0"), "--demo")
	base := "http://" + srv.addr
	before := scrape(t, base)
	for _, name := range []string{"verzet_twilio_webhooks_total", "verzet_twilio_rejected_total", "verzet_twilio_refused_total",
		"verzet_twilio_conflicts_total", "verzet_twilio_store_errors_total"} {
		if v, ok := before.values[name]; !ok || v != 0 || before.types[name] != "counter" {
			t.Errorf("before any call: %s = %v (%v), type %q; want a counter at 0", name, v, ok, before.types[name])
		}
	}

	// One call signed with another token, one request that is not a
	// webhook, and one good call.
	out, errOut, code := run(t, append(env, "VERZET_TWILIO_AUTH_TOKEN=fedcba9876543210fedcba9876543210"),
		"simulate", "twilio", "--url", base, "--to", "0612345678", "--keys", "1", "--org", "acme")
	if code != 1 || !strings.Contains(out, "← 403") {
		t.Fatalf("wrong token: exit %d\n%s\n%s", code, out, errOut)
	}
	resp, err := http.Get(base + twilio.PathVoice)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s = %d", twilio.PathVoice, resp.StatusCode)
	}
	out, errOut, code = run(t, env, "simulate", "twilio", "--url", base, "--to", "0612345678", "--keys", "1", "--org", "acme")
	if code != 0 || !strings.Contains(out, "/twilio/status CallStatus=completed") {
		t.Fatalf("simulate: exit %d\n%s\n%s", code, out, errOut)
	}
	// The simulator logs each request it made; each passed the check.
	webhooks := float64(strings.Count(out, "→ POST"))
	if webhooks < 3 {
		t.Fatalf("simulate made %v webhook requests:\n%s", webhooks, out)
	}

	after := scrape(t, base)
	for name, want := range map[string]float64{
		"verzet_twilio_webhooks_total":     webhooks,
		"verzet_twilio_rejected_total":     1,
		"verzet_twilio_refused_total":      1,
		"verzet_twilio_conflicts_total":    0,
		"verzet_twilio_store_errors_total": 0,
		"verzet_ivr_objections_total":      1,
	} {
		if got, ok := after.values[name]; !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
	if ariNames := after.withPrefix("verzet_ari_"); len(ariNames) != 0 {
		t.Errorf("Asterisk metrics without VERZET_ARI_URL: %v", ariNames)
	}
}

// Without the Twilio webhooks turned on, there are no Twilio metrics.
func TestMetricsTwilioOff(t *testing.T) {
	srv := startServeProc(t, []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=",
		"VERZET_ARI_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0"})
	m := scrape(t, "http://"+srv.addr)
	if _, ok := m.values["verzet_ivr_dialogues_total"]; !ok {
		t.Fatal("no IVR metrics: is this /metrics?")
	}
	if names := append(m.withPrefix("verzet_twilio_"), m.withPrefix("verzet_ari_")...); len(names) != 0 {
		t.Errorf("adapter metrics with both adapters off: %v", names)
	}
}

// registerARIMetrics exports every counter of the adapter, as it is when
// scraped.
func TestRegisterARIMetrics(t *testing.T) {
	st := &ari.Stats{}
	reg := prometheus.NewRegistry()
	registerARIMetrics(reg, st)
	fields := []struct {
		name, typ string
		c         interface{ Store(int64) }
		value     int64
		want      float64
	}{
		{"verzet_ari_connects_total", "counter", &st.Connects, 3, 3},
		{"verzet_ari_reconnects_total", "counter", &st.Reconnects, 2, 2},
		{"verzet_ari_connect_failures_total", "counter", &st.ConnectFailures, 4, 4},
		{"verzet_ari_heartbeat_misses_total", "counter", &st.HeartbeatMisses, 5, 5},
		{"verzet_ari_filter_failures_total", "counter", &st.FilterFailures, 6, 6},
		{"verzet_ari_reconciles_total", "counter", &st.Reconciles, 7, 7},
		{"verzet_ari_calls_started_total", "counter", &st.CallsStarted, 8, 8},
		{"verzet_ari_calls_refused_total", "counter", &st.CallsRefused, 9, 9},
		{"verzet_ari_calls_adopted_total", "counter", &st.CallsAdopted, 10, 10},
		{"verzet_ari_calls_vanished_total", "counter", &st.CallsVanished, 11, 11},
		{"verzet_ari_keys_dropped_total", "counter", &st.KeysDropped, 12, 12},
		{"verzet_ari_playbacks_lost_total", "counter", &st.PlaybacksLost, 13, 13},
		{"verzet_ari_events_undecodable_total", "counter", &st.EventsUndecodable, 14, 14},
		{"verzet_ari_replaced_total", "counter", &st.Replaced, 15, 15},
		{"verzet_ari_calls_taken_over_total", "counter", &st.CallsTakenOver, 18, 18},
		{"verzet_ari_heartbeat_write_failures_total", "counter", &st.HeartbeatFailures, 19, 19},
		{"verzet_ari_calls_active", "gauge", &st.CallsActive, 16, 16},
		{"verzet_ari_event_backlog_max", "gauge", &st.EventBacklogMax, 17, 17},
		{"verzet_ari_event_lag_max_seconds", "gauge", &st.EventLagMaxMS, 1500, 1.5},
	}
	for _, f := range fields {
		f.c.Store(f.value)
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := parseExposition(t, rec.Body.String())
	for _, f := range fields {
		if got, ok := m.values[f.name]; !ok || got != f.want || m.types[f.name] != f.typ {
			t.Errorf("%s = %v (%v), type %q; want %v, %s", f.name, got, ok, m.types[f.name], f.want, f.typ)
		}
	}
	if len(m.values) != len(fields) {
		t.Errorf("%d metrics exported, want %d:\n%s", len(m.values), len(fields), rec.Body.String())
	}
	// Read at scrape time, not at registration.
	st.CallsStarted.Add(1)
	rec = httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if got := parseExposition(t, rec.Body.String()).values["verzet_ari_calls_started_total"]; got != 9 {
		t.Errorf("verzet_ari_calls_started_total after one more call = %v, want 9", got)
	}
}

// `verzet serve` with the Asterisk adapter exports its counters at
// /metrics: a call taken on the fake Asterisk shows.
func TestMetricsARI(t *testing.T) {
	const appName = "verzet-metrics"
	fake := aritest.Start(t, aritest.Options{Username: "verzet", Password: "pw",
		SoundDuration: func(string) (time.Duration, bool) { return 20 * time.Millisecond, true }})
	env := []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=",
		"VERZET_ARI_URL=" + fake.URL(), "VERZET_ARI_USER=verzet", "VERZET_ARI_PASSWORD=pw", "VERZET_ARI_APP=" + appName}
	p := startARIServe(t, env)
	base := p.base(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := fake.WaitRegistered(ctx, appName); err != nil {
		t.Fatal(err)
	}
	id, err := fake.StartCall(appName, aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0612345678"}})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "offer", func() bool { ch, _ := fake.Channel(id); return ch.Playing != "" })
	if m := scrape(t, base); m.values["verzet_ari_calls_active"] != 1 || m.types["verzet_ari_calls_active"] != "gauge" {
		t.Errorf("during the call: verzet_ari_calls_active = %v (%s), want a gauge at 1", m.values["verzet_ari_calls_active"], m.types["verzet_ari_calls_active"])
	}
	if err := fake.Press(id, "1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "hang-up after the confirmation", func() bool { ch, _ := fake.Channel(id); return ch.HungUpBy == "app" })
	waitUntil(t, "the dialogue to end", func() bool { return scrape(t, base).values["verzet_ari_calls_active"] == 0 })
	m := scrape(t, base)
	for name, want := range map[string]float64{
		"verzet_ari_calls_started_total":      1,
		"verzet_ari_connects_total":           1,
		"verzet_ari_reconnects_total":         0,
		"verzet_ari_calls_refused_total":      0,
		"verzet_ari_events_undecodable_total": 0,
		"verzet_ivr_objections_total":         1,
	} {
		if got, ok := m.values[name]; !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
	if names := m.withPrefix("verzet_twilio_"); len(names) != 0 {
		t.Errorf("Twilio metrics without the Twilio webhooks: %v", names)
	}
}

// TestPlaybackFailureMetrics: prompts that could not be played, by kind,
// read when scraped.
func TestPlaybackFailureMetrics(t *testing.T) {
	st := &ivr.Stats{}
	reg := prometheus.NewRegistry()
	registerIVRMetrics(reg, &IVR{Stats: st})
	st.PlaybackFailed("not_found")
	st.PlaybackFailed("not_found")
	st.PlaybackFailed("refused")
	st.OfferStartFailures.Add(3)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	m := parseExposition(t, rec.Body.String())
	for name, want := range map[string]float64{
		`verzet_ivr_playback_failures_total{kind="not_found"}`: 2,
		`verzet_ivr_playback_failures_total{kind="refused"}`:   1,
		"verzet_ivr_offer_start_failures_total":                3,
	} {
		if got, ok := m.values[name]; !ok || got != want {
			t.Errorf("%s = %v (%v), want %v\n%s", name, got, ok, want, rec.Body.String())
		}
	}
	if m.types["verzet_ivr_playback_failures_total"] != "counter" {
		t.Errorf("type %q", m.types["verzet_ivr_playback_failures_total"])
	}
}
