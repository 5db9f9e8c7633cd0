package twilio

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/telephony/twilio/twiliotest"
)

// BenchmarkConcurrentCalls drives 2,000 simultaneous simulated calls
// through the HTTP handlers on PostgreSQL, the way Twilio would: signed
// webhooks over real HTTP, the voice webhook, one or two gather webhooks
// (six calls in eight object, one declines, one keys an invalid key
// first) and the status callback, with the objection and the offer
// committed and the call record saved at every step. It reports the
// webhook latency as Twilio sees it (p50, p99, max) and calls/s.
//
//   - paced: the 2,000 calls start within 5 s and each caller keys 6–11 s
//     into the offer (as a caller barging in would), so that all 2,000 are
//     in progress at once, each webhook arriving when Twilio would send it.
//
//   - burst: the 2,000 calls fire every webhook back to back, without the
//     seconds a prompt plays in between: the saturation throughput, and the
//     latency when every call's webhook is queued at the same instant.
//
//     go test -run '^$' -bench ConcurrentCalls -benchtime 1x ./telephony/twilio
func BenchmarkConcurrentCalls(b *testing.B) {
	b.Run("paced", func(b *testing.B) { benchCalls(b, 5*time.Second, true) })
	b.Run("burst", func(b *testing.B) { benchCalls(b, 0, false) })
}

func benchCalls(b *testing.B, ramp time.Duration, paced bool) {
	const calls = 2000
	ctx := context.Background()
	store := openPostgresDSN(b, pgtest.DSN(b), true, postgres.WithMaxConns(48))
	log := zap.NewNop()
	reg := objections.NewRegister(store, objections.Numbers{Region: "NL"}, nil)
	d := ivr.NewDialogue(ivr.NewKeeper(reg, nil, log, nil, ivr.WithStoreTimeout(5*time.Second)), testCatalog(b), log, nil)
	flows := func(context.Context, string, string) (ivr.Flow, string) { return ivr.DefaultFlow(), "nl" }
	srv := httptest.NewServer(nil)
	defer srv.Close()
	h, err := New(Config{AuthTokens: []string{testToken}, PublicURL: srv.URL, Numbers: objections.Numbers{Region: "NL"}},
		d, testCatalog(b), flows, store, log)
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = h
	transport := &http.Transport{MaxIdleConns: calls, MaxIdleConnsPerHost: calls, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	sim := &twiliotest.Simulator{AuthToken: testToken, Client: &http.Client{Transport: transport, Timeout: 15 * time.Second}, Sleep: time.Sleep}
	// Twilio fetches and caches the audio once; so does the simulator.
	if _, err := sim.Run(ctx, twiliotest.Call{VoiceURL: srv.URL + PathVoice + "?org=warmup", From: callCentre, To: customer, Keys: []string{"2"}}); err != nil {
		b.Fatal(err)
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []error
		total     time.Duration
		byKind    = map[string][]time.Duration{}
	)
	b.ResetTimer()
	for round := range b.N {
		start := time.Now()
		var wg sync.WaitGroup
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys := []string{"1"}
				switch i % 8 {
				case 0:
					keys = []string{"2"}
				case 1:
					keys = []string{"7", "1"}
				}
				c := twiliotest.Call{
					VoiceURL:  fmt.Sprintf("%s%s?org=acme&campaign=bench&lead=L%d", srv.URL, PathVoice, i),
					StatusURL: srv.URL + PathStatus,
					From:      callCentre, To: fmt.Sprintf("+316%02d%06d", round%100, i), Keys: keys,
				}
				if paced {
					time.Sleep(ramp * time.Duration(i) / calls)
					c.KeyDelay = 6*time.Second + time.Duration(i%6)*time.Second
				}
				tr, err := sim.Run(ctx, c)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, err)
					return
				}
				for _, s := range tr.Steps {
					latencies = append(latencies, s.Latency)
					kind := "voice"
					switch {
					case strings.Contains(s.URL, PathGather):
						kind = "gather Digits=" + s.Params.Get("Digits")
					case strings.Contains(s.URL, PathStatus):
						kind = "status"
					}
					byKind[kind] = append(byKind[kind], s.Latency)
				}
			}()
		}
		wg.Wait()
		total += time.Since(start)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if len(failures) > 0 {
		b.Fatalf("%d of %d calls failed; first: %v", len(failures), calls*b.N, failures[0])
	}
	if objs, err := store.Objections(ctx, objections.ObjectionFilter{Org: "acme", Limit: 1}); err != nil || len(objs) == 0 {
		b.Fatalf("no objections recorded: %v", err)
	}
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		l := byKind[kind]
		slices.Sort(l)
		b.Logf("%-16s n=%4d  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms", kind, len(l), ms(l[len(l)/2]), ms(l[len(l)*99/100]), ms(l[len(l)-1]))
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 { return ms(latencies[int(p*float64(len(latencies)-1))]) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
	b.ReportMetric(float64(calls*b.N)/total.Seconds(), "calls/s")
	b.ReportMetric(float64(len(latencies))/total.Seconds(), "webhooks/s")
	b.ReportMetric(float64(h.Stats().Conflicts.Load()), "retries")
}
