package objections

import (
	"sort"
	"strconv"
	"time"
)

// What the supervisors' UI (objections/review) reads of the register
// besides Store: newest-first searches of objections and offers with a
// total, the candidates for a partial number (numbersearch.go), and the
// dashboard's aggregates per day and campaign. The stores answer in SQL; the checks
// and the grouping they share are here.

// ObjectionPage is one page of a newest-first objection search, and how
// many objections match in all.
type ObjectionPage struct {
	Objections []Objection
	Total      int
}

// OfferPage is one page of a newest-first offer search, and how many
// offers match in all.
type OfferPage struct {
	Offers []Offer
	Total  int
}

// CheckSearch refuses a newest-first offer search from offset that the
// stores cannot run: EINVALID for an offset below 0 or beyond
// MaxSearchOffset, or for an unknown outcome.
func (f OfferFilter) CheckSearch(offset int) error {
	if offset < 0 || offset > MaxSearchOffset {
		return Invalid("offset", strconv.Itoa(offset), "must be between 0 and %d", MaxSearchOffset)
	}
	if f.Outcome != "" && !f.Outcome.Valid() {
		return Invalid("outcome", string(f.Outcome), "is not a known outcome")
	}
	return nil
}

// MaxSearchOffset bounds how deep a newest-first search may page; narrower
// filters reach older objections.
const MaxSearchOffset = 100000

// StatsFilter selects the range of the dashboard's aggregates. Days are
// calendar days in Location (Europe/Amsterdam when nil); Since and Until
// bound received_at of objections and started_at of offers.
type StatsFilter struct {
	Org string
	// Scope, when not empty, counts only records whose org or agency is
	// one of these.
	Scope    []string
	Campaign string
	Since    time.Time
	Until    time.Time
	Location *time.Location
}

// Loc returns the location days are counted in.
func (f StatsFilter) Loc() *time.Location {
	if f.Location == nil {
		return Amsterdam()
	}
	return f.Location
}

// DayStat counts, for one calendar day and one campaign, the objections
// received (Voided of them voided since) and the offers made (Objected of
// them ending in an objection). Campaign is "" for calls without one.
type DayStat struct {
	Day        string `json:"day"` // 2006-01-02 in the filter's location
	Campaign   string `json:"campaign"`
	Objections int    `json:"objections"`
	Voided     int    `json:"voided"`
	Offers     int    `json:"offers"`
	Objected   int    `json:"objected"`
}

// CheckSearch refuses a newest-first search from offset that the stores
// cannot run: EINVALID for an offset below 0 or beyond MaxSearchOffset, or
// for a status f.Check refuses.
func (f ObjectionFilter) CheckSearch(offset int) error {
	if offset < 0 || offset > MaxSearchOffset {
		return Invalid("offset", strconv.Itoa(offset), "must be between 0 and %d", MaxSearchOffset)
	}
	return f.Check()
}

// MaxStatsDays bounds a dashboard range.
const MaxStatsDays = 3660

// Check validates f's range: EINVALID for a missing, reversed or
// over-long one.
func (f StatsFilter) Check() error {
	if f.Since.IsZero() || f.Until.IsZero() || !f.Until.After(f.Since) {
		return Invalid("range", "", "needs a start before its end")
	}
	if f.Until.Sub(f.Since) > MaxStatsDays*24*time.Hour {
		return Invalid("range", "", "is longer than %d days", MaxStatsDays)
	}
	return nil
}

// DayStats gathers the counts a store reads per day and campaign, the
// objections and the offers apart, into DayStat rows. The zero value is
// ready to use.
type DayStats struct {
	rows map[[2]string]*DayStat // by day, campaign
}

func (d *DayStats) row(day, campaign string) *DayStat {
	if d.rows == nil {
		d.rows = map[[2]string]*DayStat{}
	}
	k := [2]string{day, campaign}
	if d.rows[k] == nil {
		d.rows[k] = &DayStat{Day: day, Campaign: campaign}
	}
	return d.rows[k]
}

// AddObjections notes n objections received on day in campaign, voided
// of them voided since.
func (d *DayStats) AddObjections(day, campaign string, n, voided int) {
	r := d.row(day, campaign)
	r.Objections, r.Voided = r.Objections+n, r.Voided+voided
}

// AddOffers notes n offers started on day in campaign, objected of them
// ending in an objection.
func (d *DayStats) AddOffers(day, campaign string, n, objected int) {
	r := d.row(day, campaign)
	r.Offers, r.Objected = r.Offers+n, r.Objected+objected
}

// List returns the rows ordered by day, then campaign.
func (d *DayStats) List() []DayStat {
	out := make([]DayStat, 0, len(d.rows))
	for _, r := range d.rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Campaign < out[j].Campaign
	})
	return out
}
