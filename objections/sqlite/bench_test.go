package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// BenchmarkRecord measures durable objection writes (WAL, synchronous=FULL:
// one fsync per commit), one writer at a time and many at once.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		r := newRegister(mustOpen(b, ""))
		i := 0
		for b.Loop() {
			if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("+3161%07d", i), Source: objections.SourceIVRARI}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("parallel", func(b *testing.B) {
		r := newRegister(mustOpen(b, ""))
		var n atomic.Int64
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("+3161%07d", i), Source: objections.SourceIVRARI}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkDecide measures callability checks against a register holding
// 10,000 objections and 10,000 relations.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	s := mustOpen(b, "")
	r := newRegister(s)
	if _, err := r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme", Sector: objections.SectorCharity}); err != nil {
		b.Fatal(err)
	}
	const n = 10000
	peil := time.Now().AddDate(-1, 0, 0)
	for i := range n {
		num := fmt.Sprintf("+3161%07d", i)
		if i%2 == 0 {
			if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: num, Source: objections.SourceImport}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.PutRelation(ctx, objections.Relation{Org: "acme", Number: num, Kind: objections.RelationDonation, Peildatum: peil}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := r.Decide(ctx, "acme", fmt.Sprintf("+3161%07d", i%n), "", time.Time{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("parallel", func(b *testing.B) {
		var c atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := c.Add(1)
				if _, err := r.Decide(ctx, "acme", fmt.Sprintf("+3161%07d", i%n), "", time.Time{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}
