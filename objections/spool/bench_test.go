package spool

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend measures durable appends (one write and one fsync each)
// from one goroutine and from many at once. The figure that matters is
// appends/s: how many key presses per second the spool can keep while the
// store is down. It is bounded by the disk's fsync latency, since appends
// are serialised (see Spool.append).
func BenchmarkAppend(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s := mustOpen(b, "")
		i := 0
		for b.Loop() {
			if err := s.AppendObjection(testObjection(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	for _, par := range []int{4, 16} {
		b.Run(fmt.Sprintf("parallel-%dxGOMAXPROCS", par), func(b *testing.B) {
			s := mustOpen(b, "")
			var n atomic.Int64
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.AppendObjection(testObjection(int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
