package review

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// maxDashboardDays bounds the dashboard's range: a bar per day stays
// readable up to about a year.
const maxDashboardDays = 400

type dashForm struct {
	From, To, Org, Campaign string
}

// totals are the counts of a day, a campaign or the whole range.
type totals struct {
	Objections, Voided, Offers, Objected int
}

func (t *totals) add(d objections.DayStat) {
	t.Objections += d.Objections
	t.Voided += d.Voided
	t.Offers += d.Offers
	t.Objected += d.Objected
}

// Rate is the objection rate: the share of offers that ended in an
// objection; ok is false when there were no offers.
func (t totals) Rate() (float64, bool) {
	if t.Offers == 0 {
		return 0, false
	}
	return float64(t.Objected) / float64(t.Offers), true
}

type dayRow struct {
	Day   time.Time
	Label string
	totals
}

type campaignRow struct {
	Name string // "" for calls without a campaign
	totals
}

type dashData struct {
	Form      dashForm
	Error     string
	Orgs      []objections.Org
	Days      int
	Total     totals
	Daily     []dayRow
	Campaigns []campaignRow
	DayChart  chart
	RateChart chart
	CampChart chart
	// Checks is the "Dial-time checks" section; nil when the store keeps
	// no decision log.
	Checks *checksData
}

// CallsURL is the calls view of the dashboard's range, org and campaign.
func (d dashData) CallsURL() string { return d.callsURL(d.Form.From, d.Form.To, d.Form.Campaign) }

// DayCallsURL is the calls view of one day.
func (d dashData) DayCallsURL(day time.Time) string {
	s := day.Format(dateLayout)
	return d.callsURL(s, s, d.Form.Campaign)
}

// CampaignCallsURL is the calls view of one campaign in the range.
func (d dashData) CampaignCallsURL(campaign string) string {
	return d.callsURL(d.Form.From, d.Form.To, campaign)
}

func (d dashData) callsURL(from, to, campaign string) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": from, "to": to, "org": d.Form.Org, "campaign": campaign} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return "/ui/calls?" + v.Encode()
}

func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := s.lexicon(r)
	q := r.URL.Query()
	loc := objections.Amsterdam()
	today := s.cfg.Now().In(loc)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	form := dashForm{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Org: strings.ToLower(strings.TrimSpace(q.Get("org"))), Campaign: strings.TrimSpace(q.Get("campaign"))}
	if form.To == "" {
		form.To = today.Format(dateLayout)
	}
	if form.From == "" {
		form.From = today.AddDate(0, 0, -29).Format(dateLayout)
	}
	d := dashData{Form: form}
	scope := viewerFrom(ctx).User.Orgs
	orgs, err := s.reg.Store().Orgs(ctx)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	d.Orgs = seenOrgs(scope, orgs)
	from, ok1 := parseDay(form.From)
	to, ok2 := parseDay(form.To)
	switch {
	case !ok1:
		d.Error = l.T("filter.badDate", form.From)
	case !ok2:
		d.Error = l.T("filter.badDate", form.To)
	case to.Before(from):
		d.Error = l.T("filter.badRange", form.From+" – "+form.To)
	case to.Sub(from) > maxDashboardDays*24*time.Hour:
		d.Error = l.T("dash.tooLong", maxDashboardDays)
	}
	if d.Error != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "dashboard", s.newPage(r, "dash.title", "dashboard", d))
		return
	}
	until := to.AddDate(0, 0, 1)
	// The counts of the records the user sees: an org outside the scope
	// counts nothing.
	stats, err := s.records.Stats(ctx, objections.StatsFilter{Org: form.Org, Scope: scope, Campaign: form.Campaign,
		Since: from, Until: until, Location: loc})
	if err != nil {
		s.fail(w, r, "count per day", err)
		return
	}
	byDay := map[string]*totals{}
	byCampaign := map[string]*totals{}
	for _, st := range stats {
		if byDay[st.Day] == nil {
			byDay[st.Day] = &totals{}
		}
		byDay[st.Day].add(st)
		if byCampaign[st.Campaign] == nil {
			byCampaign[st.Campaign] = &totals{}
		}
		byCampaign[st.Campaign].add(st)
		d.Total.add(st)
	}
	for day := from; day.Before(until); day = day.AddDate(0, 0, 1) {
		row := dayRow{Day: day, Label: l.ShortDate(day)}
		if t := byDay[day.Format(dateLayout)]; t != nil {
			row.totals = *t
		}
		d.Daily = append(d.Daily, row)
	}
	d.Days = len(d.Daily)
	for name, t := range byCampaign {
		d.Campaigns = append(d.Campaigns, campaignRow{Name: name, totals: *t})
	}
	sort.Slice(d.Campaigns, func(i, j int) bool {
		a, b := d.Campaigns[i], d.Campaigns[j]
		if a.Offers+a.Objections != b.Offers+b.Objections {
			return a.Offers+a.Objections > b.Offers+b.Objections
		}
		return a.Name < b.Name
	})
	d.DayChart = dayChart(l, d.Daily)
	d.RateChart = rateChart(l, d.Daily)
	d.CampChart = campaignChart(l, d.Campaigns)
	if d.Checks, err = s.checksOf(ctx, l, scope, form.Org, from, to); err != nil {
		s.fail(w, r, "count dial-time checks", err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard", s.newPage(r, "dash.title", "dashboard", d))
}

// chart is an SVG drawing computed here, so that the template only places
// shapes: no script and no chart library.
type chart struct {
	W, H    int
	Label   string // the accessible name
	Grid    []gridLine
	Bars    []rect
	XLabels []text
	YLabels []text
	Lines   []string // polyline points
	Dots    []dot
	Empty   string // shown when there is nothing to draw
}

type gridLine struct{ X1, Y1, X2, Y2 float64 }

type rect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type text struct {
	X, Y   float64
	Text   string
	Anchor string
	Class  string
}

type dot struct {
	X, Y  float64
	Title string
}

// niceMax returns the top of an axis of gridTicks steps that holds v (and
// at least min): each step 1, 2, 2.5, 3 or 5 times a power of ten, so that the
// tick labels read well. For counts (integer) a step is a whole number.
func niceMax(v, min float64, integer bool) float64 {
	v = math.Max(v, min)
	raw := v / gridTicks
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * p
	for _, m := range []float64{1, 2, 2.5, 3, 5} {
		if integer && m == 2.5 && p < 10 {
			continue
		}
		if raw <= m*p*(1+1e-9) {
			step = m * p
			break
		}
	}
	if integer {
		step = math.Max(1, math.Ceil(step))
	}
	return step * gridTicks
}

// Chart geometry, in viewBox units (the SVG scales to its box).
const (
	chartW     = 960
	chartH     = 260
	padLeft    = 52
	padRight   = 16
	padTop     = 14
	padBottom  = 30
	gridTicks  = 4
	labelEvery = 12 // at most this many day labels
)

func axis(c *chart, max float64, format func(float64) string) {
	plotH := float64(c.H - padTop - padBottom)
	for i := 0; i <= gridTicks; i++ {
		v := max * float64(i) / gridTicks
		y := float64(padTop) + plotH - plotH*float64(i)/gridTicks
		c.Grid = append(c.Grid, gridLine{X1: padLeft, Y1: y, X2: float64(c.W - padRight), Y2: y})
		c.YLabels = append(c.YLabels, text{X: padLeft - 8, Y: y + 4, Text: format(v), Anchor: "end"})
	}
}

func dayLabels(c *chart, labels []string, band float64) {
	every := (len(labels) + labelEvery - 1) / labelEvery
	for i, label := range labels {
		if i%every != 0 {
			continue
		}
		c.XLabels = append(c.XLabels, text{X: padLeft + band*(float64(i)+0.5), Y: float64(c.H - 10), Text: label, Anchor: "middle"})
	}
}

func labelsOf(days []dayRow) []string {
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.Label
	}
	return out
}

// series is one bar per day of a barChart: N[i] is the count of day i,
// Key the message that titles a bar (count, date).
type series struct {
	N     []int
	Class string
	Key   string
}

// barChart draws the series side by side, a group of bars per day;
// empty (the message key) is shown when every count is zero.
func barChart(l lexicon, label, empty string, days []time.Time, ss ...series) chart {
	c := chart{W: chartW, H: chartH, Label: label}
	peak := 0
	for _, s := range ss {
		for _, n := range s.N {
			peak = max(peak, n)
		}
	}
	if peak == 0 {
		c.Empty = l.T(empty)
	}
	top := niceMax(float64(peak), 4, true)
	axis(&c, top, func(v float64) string { return l.Int(int(v)) })
	plotW := float64(chartW - padLeft - padRight)
	plotH := float64(chartH - padTop - padBottom)
	band := plotW / float64(max(len(days), 1))
	barW := math.Max(band*0.72/float64(max(len(ss), 1)), 1)
	base := float64(padTop) + plotH
	labels := make([]string, len(days))
	for i, day := range days {
		labels[i] = l.ShortDate(day)
		x := padLeft + band*float64(i) + band*0.12
		for j, s := range ss {
			h := plotH * float64(s.N[i]) / top
			c.Bars = append(c.Bars, rect{X: x + float64(j)*barW, Y: base - h, W: barW, H: h, Class: s.Class,
				Title: l.T(s.Key, l.Int(s.N[i]), l.LongDate(day))})
		}
	}
	dayLabels(&c, labels, band)
	return c
}

// dayChart draws offers and objections per day as pairs of bars.
func dayChart(l lexicon, days []dayRow) chart {
	dates := make([]time.Time, len(days))
	offers := series{N: make([]int, len(days)), Class: "bar-offers", Key: "dash.offersOn"}
	objected := series{N: make([]int, len(days)), Class: "bar-objections", Key: "dash.objectionsOn"}
	for i, d := range days {
		dates[i], offers.N[i], objected.N[i] = d.Day, d.Offers, d.Objections
	}
	return barChart(l, l.T("dash.perDay"), "dash.nothing", dates, offers, objected)
}

// rateChart draws the objection rate per day as a line; days without
// offers leave a gap.
func rateChart(l lexicon, days []dayRow) chart {
	c := chart{W: chartW, H: 200, Label: l.T("dash.ratePerDay")}
	peak := 0.0
	for _, d := range days {
		if r, ok := d.Rate(); ok {
			peak = math.Max(peak, r)
		}
	}
	top := niceMax(peak*100, 4, false) / 100
	axis(&c, top, func(v float64) string { return l.Percent(v, 0) })
	plotW := float64(chartW - padLeft - padRight)
	plotH := float64(c.H - padTop - padBottom)
	band := plotW / float64(max(len(days), 1))
	var seg []string
	flush := func() {
		if len(seg) > 1 {
			c.Lines = append(c.Lines, strings.Join(seg, " "))
		}
		seg = nil
	}
	drawn := false
	for i, d := range days {
		r, ok := d.Rate()
		if !ok {
			flush()
			continue
		}
		drawn = true
		x := padLeft + band*(float64(i)+0.5)
		y := float64(padTop) + plotH - plotH*r/top
		seg = append(seg, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Dots = append(c.Dots, dot{X: x, Y: y, Title: l.T("dash.rateOn", l.Percent(r, 1), l.LongDate(d.Day),
			l.Int(d.Objected), l.Int(d.Offers))})
	}
	flush()
	if !drawn {
		c.Empty = l.T("dash.noOffers")
	}
	dayLabels(&c, labelsOf(days), band)
	return c
}

// campaignChart draws a row per campaign: offers and objections as bars
// on one scale, the rate at the end.
func campaignChart(l lexicon, rows []campaignRow) chart {
	const rowH, labelW, rateW = 34, 170, 90
	if len(rows) > 15 {
		rows = rows[:15]
	}
	c := chart{W: chartW, H: padTop + rowH*max(len(rows), 1) + 8, Label: l.T("dash.perCampaign")}
	if len(rows) == 0 {
		c.Empty = l.T("dash.nothing")
		return c
	}
	peak := 0
	for _, r := range rows {
		peak = max(peak, r.Offers, r.Objections)
	}
	plotW := float64(chartW - labelW - rateW - padRight)
	scale := plotW / math.Max(float64(peak), 1)
	for i, r := range rows {
		y := float64(padTop + rowH*i)
		name := r.Name
		if name == "" {
			name = l.T("dash.noCampaign")
		}
		c.YLabels = append(c.YLabels, text{X: labelW - 12, Y: y + 17, Text: clipRunes(name, 22), Anchor: "end"})
		c.Bars = append(c.Bars,
			rect{X: labelW, Y: y + 4, W: math.Max(float64(r.Offers)*scale, 1), H: 11, Class: "bar-offers",
				Title: l.T("dash.campaignOffers", name, l.Int(r.Offers))},
			rect{X: labelW, Y: y + 17, W: math.Max(float64(r.Objections)*scale, 1), H: 11, Class: "bar-objections",
				Title: l.T("dash.campaignObjections", name, l.Int(r.Objections))})
		rate := "–"
		if v, ok := r.Rate(); ok {
			rate = l.Percent(v, 1)
		}
		c.XLabels = append(c.XLabels, text{X: float64(chartW - padRight), Y: y + 21, Text: rate, Anchor: "end", Class: "rate"})
	}
	return c
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
