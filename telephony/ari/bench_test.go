package ari_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/websocket"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

// BenchmarkConcurrentChannels puts N channels in Stasis at once through the
// fake Asterisk and the real ari/v5 client, with prompts at their real
// length: every caller hears the offer and presses 1 at a random moment of
// it, hears the confirmation and is hung up. Channels arrive at 500 a second
// (so 2,000 take 4 s, 5,000 take 10 s) and are all in their dialogue at
// the end of the ramp. Reported per run:
//
//   - B/channel (heap-B + stack-B), goroutines/channel: heap, goroutine
//     stacks and goroutines of the whole test process while all N channels
//     are in the offer, over the idle adapter, minus the heap the fake
//     Asterisk alone holds for N channels (measured first, on its own);
//   - key-p50-ms, key-p99-ms, key-max-ms: from the DTMF event leaving the
//     fake to the objection being durable in the store.
//
// VERZET_ARI_BENCH_CHANNELS overrides the sizes (e.g. "5000");
// VERZET_ARI_BENCH_STORE=postgres uses PostgreSQL (VERZET_TEST_DATABASE_URL).
// Run with -benchtime 1x: one run is one wave of N calls (about 25 s plus
// the ramp).
func BenchmarkConcurrentChannels(b *testing.B) {
	sizes := []int{1000, 2000}
	if s := os.Getenv("VERZET_ARI_BENCH_CHANNELS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("channels=%d", n), func(b *testing.B) {
			fakeBytes := fakeBytesPerChannel(b, n)
			for b.Loop() {
				wave(b, n, fakeBytes)
			}
		})
	}
}

// arrivalRate is how many channels per second enter Stasis.
const arrivalRate = 500

// mem returns the live heap and the goroutine stacks, after a GC.
func mem() (heap, stack float64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc), float64(m.StackInuse)
}

// fakeBytesPerChannel measures the fake Asterisk alone holding n channels,
// with a websocket reader that drops what it reads.
func fakeBytesPerChannel(b *testing.B, n int) float64 {
	fake := aritest.Start(b, aritest.Options{Username: user, Password: pass})
	ws := dialEvents(b, fake)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var frame []byte
		for websocket.Message.Receive(ws, &frame) == nil {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fake.WaitRegistered(ctx, app); err != nil {
		b.Fatal(err)
	}
	before, _ := mem()
	for range n {
		if _, err := fake.StartCall(app, aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": "0612345678"}}); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	after, _ := mem()
	ws.Close()
	wg.Wait()
	fake.Close()
	return (after - before) / float64(n)
}

func wave(b *testing.B, n int, fakeBytes float64) {
	b.StopTimer()
	var st store
	if os.Getenv("VERZET_ARI_BENCH_STORE") == "postgres" {
		st = openPostgres(b)
	} else {
		st = openSQLite(b)
	}
	r := newRig(b, rigOptions{
		store: st,
		log:   zap.NewNop(),
		fake: func(o *aritest.Options) {
			o.SoundDuration = catalogDurationsAt(o.SoundDuration, speed) // real time
			// As deploy/asterisk/ari.conf: the variables come with StasisStart.
			o.ChannelVars = channelVars
		},
	})
	r.flow.Timeout = 6 * time.Second
	r.waitRegistered()
	baseHeap, baseStack := mem()
	baseG := runtime.NumGoroutine()
	b.StartTimer()

	// Channels arrive at arrivalRate (a burst of thousands in the same
	// millisecond is not how agents hang up). Each caller presses 1 between
	// 1.5 and 9 s into the 11 s offer; memory is read at the end of the
	// ramp, over the channels active then.
	var mu sync.Mutex
	pressed := make(map[string]time.Time, n)
	var timers []*time.Timer
	ids := make([]string, n)
	tick := time.NewTicker(time.Second / arrivalRate)
	for i := range ids {
		<-tick.C
		id := r.call(aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme", "VERZET_NUMBER": fmt.Sprintf("06%08d", 10000000+i), "VERZET_CAMPAIGN": "bench"}})
		ids[i] = id
		timers = append(timers, time.AfterFunc(time.Duration(1500+rand.IntN(7500))*time.Millisecond, func() {
			mu.Lock()
			pressed[id] = time.Now()
			mu.Unlock()
			_ = r.fake.Press(id, "1")
		}))
	}
	tick.Stop()
	b.StopTimer()
	active := float64(r.adapter.Stats().CallsActive.Load())
	h, stk := mem()
	perHeap := (h - baseHeap - fakeBytes*float64(n)) / active
	perStack := (stk - baseStack) / active
	perG := float64(runtime.NumGoroutine()-baseG) / active
	b.StartTimer()
	deadline := time.Now().Add(5 * time.Minute)
	for r.rec.offerCount() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d offers closed after 5 min", r.rec.offerCount(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	for _, t := range timers {
		t.Stop()
	}
	var lat []time.Duration
	for _, id := range ids {
		at, ok := r.rec.durableAt(id)
		mu.Lock()
		p, pok := pressed[id]
		mu.Unlock()
		if ok && pok {
			lat = append(lat, at.Sub(p))
		}
	}
	if len(lat) != n {
		outcomes := map[string]int{}
		for _, id := range ids {
			if _, ok := r.rec.durableAt(id); !ok {
				o, _ := r.rec.offer(id)
				outcomes[string(o.Outcome)]++
				if outcomes[string(o.Outcome)] <= 3 {
					mu.Lock()
					p := pressed[id]
					mu.Unlock()
					ch, _ := r.fake.Channel(id)
					b.Logf("%s: pressed at %s, offer %s–%s, keys %v, played %d ms, heard %v", id, p.Format("05.000"),
						o.StartedAt.Local().Format("05.000"), o.EndedAt.Local().Format("05.000"), o.Keys, o.PlayedMS, played(ch))
				}
			}
		}
		st := r.adapter.Stats()
		b.Fatalf("%d of %d objections durable; the others' outcomes %v; adopted %d, keys dropped %d, playbacks lost %d, reconnects %d, event backlog max %d, event lag max %d ms",
			len(lat), n, outcomes, st.CallsAdopted.Load(), st.KeysDropped.Load(), st.PlaybacksLost.Load(), st.Reconnects.Load(), st.EventBacklogMax.Load(), st.EventLagMaxMS.Load())
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(perHeap+perStack, "B/channel")
	b.ReportMetric(perHeap, "heap-B/channel")
	b.ReportMetric(perStack, "stack-B/channel")
	b.ReportMetric(perG, "goroutines/channel")
	b.ReportMetric(q(0.5), "key-p50-ms")
	b.ReportMetric(q(0.99), "key-p99-ms")
	b.ReportMetric(q(1), "key-max-ms")
	as := r.adapter.Stats()
	b.Logf("%d channels (%.0f in a dialogue at the end of the ramp): %.0f B/channel (heap %.0f + stacks %.0f; the fake Asterisk's %.0f B/channel excluded), %.2f goroutines/channel, key→durable p50 %.1f ms p99 %.1f ms max %.1f ms; %d reconnects, %d adopted, %d keys dropped, %d playbacks lost, event backlog max %d, event lag max %d ms",
		n, active, perHeap+perStack, perHeap, perStack, fakeBytes, perG, q(0.5), q(0.99), q(1), as.Reconnects.Load(), as.CallsAdopted.Load(), as.KeysDropped.Load(), as.PlaybacksLost.Load(), as.EventBacklogMax.Load(), as.EventLagMaxMS.Load())
	r.shutdown()
	b.StartTimer()
}

// catalogDurationsAt scales the catalogue durations (which the rig plays
// speed times faster) back to real time.
func catalogDurationsAt(f func(string) (time.Duration, bool), factor int) func(string) (time.Duration, bool) {
	return func(uri string) (time.Duration, bool) {
		d, ok := f(uri)
		return d * time.Duration(factor), ok
	}
}
