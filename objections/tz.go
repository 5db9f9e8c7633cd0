package objections

import (
	"sync"
	"time"
	_ "time/tzdata" // Europe/Amsterdam must resolve on a machine without zoneinfo
)

var amsterdamOnce = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		// time/tzdata is embedded, so this cannot fail; fall back to CET
		// rather than panic.
		return time.FixedZone("CET", 3600)
	}
	return loc
})

func amsterdam() *time.Location { return amsterdamOnce() }

// Amsterdam returns the Europe/Amsterdam location, in which the law's dates
// are computed and the review screens show times.
func Amsterdam() *time.Location { return amsterdam() }

// StoredTime returns t as both stores keep it: in UTC, truncated to the
// microsecond. The zero time stays zero.
func StoredTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
