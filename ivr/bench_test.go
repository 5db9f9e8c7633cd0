package ivr_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/ivr/ivrtest"
	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/prompts"
)

// latencyRecorder measures key-to-durable: from the caller's key press to
// the store's commit returning.
type latencyRecorder struct {
	ivr.Recorder
	mu      sync.Mutex
	pressed map[string]time.Time
	lat     []time.Duration
}

func (l *latencyRecorder) Commit(ctx context.Context, o objections.Objection) (objections.Objection, bool, error) {
	rec, created, err := l.Recorder.Commit(ctx, o)
	if err == nil {
		l.mu.Lock()
		l.lat = append(l.lat, time.Since(l.pressed[o.CallRef]))
		l.mu.Unlock()
	}
	return rec, created, err
}

// BenchmarkDialogues runs 10,000 concurrent dialogues on fake calls against
// PostgreSQL in one process: all are started and left waiting in the offer
// (memory per idle dialogue), then the callers press 1 at 500 key presses/s
// and each objection's key-to-durable latency is measured. Run it with
// -benchtime=1x; one iteration takes about 30 s (the prompts play in real
// time).
func BenchmarkDialogues(b *testing.B) {
	const (
		dialogues = 10_000
		rate      = 500 // key presses per second
	)
	ctx := context.Background()
	st, err := postgres.Open(ctx, pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	cat, err := prompts.Load(nil)
	if err != nil {
		b.Fatal(err)
	}
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, nil)
	for i := 0; i < b.N; i++ {
		rec := &latencyRecorder{Recorder: reg, pressed: make(map[string]time.Time, dialogues)}
		keeper := ivr.NewKeeper(rec, nil, zap.NewNop(), nil)
		d := ivr.NewDialogue(keeper, cat, zap.NewNop(), nil)

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		calls := make([]*ivrtest.Call, dialogues)
		var wg sync.WaitGroup
		for n := range dialogues {
			calls[n] = ivrtest.NewCall()
			c := ivr.Context{Org: fmt.Sprintf("org%d", n%10), Number: fmt.Sprintf("+3161%07d", i*dialogues+n), Language: "nl",
				Provider: "ari", CallRef: fmt.Sprintf("bench-%d-%d", i, n)}
			wg.Go(func() { d.Run(ctx, calls[n], ivr.NewMachine(ivr.DefaultFlow(), c)) })
		}
		time.Sleep(time.Second) // every dialogue is now in the offer, idle
		runtime.GC()
		var idle runtime.MemStats
		runtime.ReadMemStats(&idle)
		perDialogue := float64((idle.HeapInuse+idle.StackInuse)-(before.HeapInuse+before.StackInuse)) / dialogues

		start := time.Now()
		tick := time.NewTicker(time.Second / rate)
		for n := range dialogues {
			<-tick.C
			rec.mu.Lock()
			rec.pressed[fmt.Sprintf("bench-%d-%d", i, n)] = time.Now()
			rec.mu.Unlock()
			calls[n].Press("1")
		}
		tick.Stop()
		pressSeconds := time.Since(start).Seconds()
		wg.Wait()

		if len(rec.lat) != dialogues {
			b.Fatalf("%d objections recorded, want %d", len(rec.lat), dialogues)
		}
		slices.Sort(rec.lat)
		ms := func(q float64) float64 { return float64(rec.lat[int(q*float64(len(rec.lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(perDialogue/1024, "KiB/idle-dialogue")
		b.ReportMetric(ms(0.50), "p50-ms")
		b.ReportMetric(ms(0.99), "p99-ms")
		b.ReportMetric(float64(dialogues)/pressSeconds, "presses/s")
	}
	list, err := st.Objections(ctx, objections.ObjectionFilter{Limit: 1})
	if err != nil || len(list) == 0 {
		b.Fatalf("no objections stored: %v", err)
	}
}
