package aritest

import (
	"context"
	"testing"
	"time"
)

// Deadline is how long a test may wait for something the system under test
// is expected to do: until shortly before the test binary's own deadline
// (go test -timeout), so that a loaded machine makes a test slower and
// never fails it, while a wait that can never end still fails with a
// message that names what was awaited. The margin before the deadline
// (a quarter of what is left, at most 30 s) leaves time to report and
// clean up. Without a deadline (-timeout 0) it is ten minutes from now.
func Deadline(tb testing.TB) time.Time {
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			return end.Add(-min(time.Until(end)/4, 30*time.Second))
		}
	}
	return time.Now().Add(10 * time.Minute)
}

// Context is tb's context (cancelled when the test ends) with Deadline.
func Context(tb testing.TB) (context.Context, context.CancelFunc) {
	return context.WithDeadline(tb.Context(), Deadline(tb))
}
