package review

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// filterForm is the list's filter as typed, so that the form shows it back.
type filterForm struct {
	Q, Org, Campaign, Source, Status, From, To string
	Page                                       int
}

func readFilterForm(q url.Values) filterForm {
	f := filterForm{
		Q: strings.TrimSpace(q.Get("q")), Org: strings.ToLower(strings.TrimSpace(q.Get("org"))),
		Campaign: strings.TrimSpace(q.Get("campaign")), Source: q.Get("source"), Status: q.Get("status"),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
	}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

// values returns the form as a query, without the page.
func (f filterForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "org": f.Org, "campaign": f.Campaign, "source": f.Source,
		"status": f.Status, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Active reports whether any filter is set.
func (f filterForm) Active() bool { return len(f.values()) > 0 }

// filter turns the form into a store filter for a user of scope: an org
// the scope does not reach selects nothing, never more. number is the
// number resolveNumber read from f.Q (normalised with the register's
// Numbers, so that `06 1234 5678`, `+31 6 12345678` and `0031612345678`
// find the same objections, or found from a part). The returned message
// key and argument say what could not be read.
func (s *Server) filter(f filterForm, scope access.Scope, number string) (objections.ObjectionFilter, string, string) {
	out := objections.ObjectionFilter{Org: f.Org, Scope: scope, Campaign: f.Campaign, Number: number}
	if f.Source != "" {
		if !objections.Source(f.Source).Valid() {
			return out, "filter.badSource", f.Source
		}
		out.Source = objections.Source(f.Source)
	}
	if f.Status != "" {
		if !objections.Status(f.Status).Valid() {
			return out, "filter.badStatus", f.Status
		}
		out.Status = objections.Status(f.Status)
	}
	var ok bool
	if out.Since, ok = parseDay(f.From); !ok {
		return out, "filter.badDate", f.From
	}
	until, ok := parseDay(f.To)
	if !ok {
		return out, "filter.badDate", f.To
	}
	if !until.IsZero() {
		out.Until = until.AddDate(0, 0, 1) // the "to" day is included
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Until.After(out.Since) {
		return out, "filter.badRange", f.From + " – " + f.To
	}
	return out, "", ""
}

// parseDay reads a date (2006-01-02) as the start of that day in
// Europe/Amsterdam; "" is the zero time.
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(dateLayout, s, objections.Amsterdam())
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, false
	}
	return t, true
}

const dateLayout = "2006-01-02"

type listData struct {
	Form      filterForm
	Error     string
	Search    numberSearch // the number searched
	Orgs      []objections.Org
	OrgNames  map[string]string
	Sources   []objections.Source
	Statuses  []objections.Status
	Items     []objections.Objection
	Total     int
	First     int
	Last      int
	PrevURL   string
	NextURL   string
	ExportURL string
}

var allSources = []objections.Source{objections.SourceIVRTwilio, objections.SourceIVRARI, objections.SourceAgent,
	objections.SourceCallbackLine, objections.SourceEmail, objections.SourceLetter, objections.SourceWeb,
	objections.SourceAPI, objections.SourceImport}

var allStatuses = []objections.Status{objections.StatusActive, objections.StatusVoided, objections.StatusPendingNumber}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scope := viewerFrom(ctx).User.Orgs
	form := readFilterForm(r.URL.Query())
	d := listData{Form: form, Sources: allSources, Statuses: allStatuses}
	orgs, err := s.reg.Store().Orgs(ctx)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	// The names cover every org: a row's agency may be one the user does
	// not see in the selector (an advertiser's user sees its agencies'
	// ids on its objections all the same).
	d.Orgs, d.OrgNames = seenOrgs(scope, orgs), orgNames(orgs)
	q := form.values()
	ns, key, err := s.resolveNumber(ctx, form.Q, form.Org, scope, func(n string) string { return withQuery("/ui/objections", q, n) })
	if err != nil {
		s.fail(w, r, "find numbers", err)
		return
	}
	d.Search = ns
	f, key, arg := s.filter(form, scope, ns.Number)
	if key == "" && ns.Number == "" && form.Q != "" && !ns.Ambiguous() {
		key, arg = "filter.badNumber", form.Q
	}
	if key != "" {
		d.Error = s.lexicon(r).T(key, arg)
		s.render(w, r, http.StatusUnprocessableEntity, "objections", s.newPage(r, "list.title", "objections", d))
		return
	}
	if ns.Ambiguous() {
		// The candidates are shown instead of a list.
		s.render(w, r, http.StatusOK, "objections", s.newPage(r, "list.title", "objections", d))
		return
	}
	f.Limit = s.cfg.PageSize
	offset := (form.Page - 1) * s.cfg.PageSize
	if offset > objections.MaxSearchOffset {
		offset = objections.MaxSearchOffset
	}
	page, err := s.records.SearchObjections(ctx, f, offset)
	if err != nil {
		s.fail(w, r, "search objections", err)
		return
	}
	d.Items, d.Total = page.Objections, page.Total
	if len(d.Items) > 0 {
		d.First, d.Last = offset+1, offset+len(d.Items)
	}
	d.PrevURL, d.NextURL = s.pageLinks("/ui/objections", q, form.Page, offset, len(d.Items), d.Total)
	d.ExportURL = "/ui/export.csv"
	if len(q) > 0 {
		d.ExportURL += "?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "objections", s.newPage(r, "list.title", "objections", d))
}

// timelineItem is one moment of an objection's evidence.
type timelineItem struct {
	At        time.Time
	Tone      string // offer, key, objection, void: the marker's colour
	Title     string
	Detail    string
	Quote     string
	QuoteNote string
	Verified  bool
}

type detailData struct {
	O          objections.Objection
	OrgName    string
	AgencyName string // of O.Agency; empty when there is none
	Offer      *objections.Offer
	Timeline   []timelineItem
	Events     []objections.Event
	Voided     bool // just voided: show a notice
	Recorded   bool // just recorded by hand: show a notice
	Existing   bool // recorded by hand, but the number had an active objection already
	CanVoid    bool
	// Now is whether the org may call the number now, for a user of the
	// org itself; nil otherwise, or for an objection without a number.
	Now *objections.Decision
	// PackURL is the evidence pack of the number, for a user of the org.
	PackURL string
	// Stops are the dial attempts the objection stopped that the user
	// sees; nil when the store keeps no decision log.
	Stops *stoppedDials
}

func (s *Server) detailPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	scope := v.User.Orgs
	o, err := s.visibleObjection(ctx, scope, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, "read objection", err)
		return
	}
	// Looking at the evidence about a person is itself recorded; if it
	// cannot be, the page is not shown.
	if err := s.audit(r, v.User.Name, access.AuditView, o.ID, "", access.Scope{o.Org}); err != nil {
		s.fail(w, r, "audit view", err)
		return
	}
	q := r.URL.Query()
	d := detailData{O: o, OrgName: s.orgName(r, o.Org), Voided: q.Has("voided"), Recorded: q.Has("recorded"), Existing: q.Has("existing"),
		CanVoid: o.Void == nil && v.User.Role.Can(access.PermManage) && scope.Has(o.Org)}
	if o.Number != "" && scope.Has(o.Org) {
		// What a dialer is told now: the objection honoured, or, after a
		// void, whatever basis the org has.
		dec, err := s.reg.Decide(ctx, o.Org, o.Number, "", time.Time{})
		if err != nil {
			s.fail(w, r, "decide", err)
			return
		}
		d.Now = &dec
		d.PackURL = "/ui/evidence?" + evidenceForm{Number: o.Number, Org: o.Org, Person: o.PersonID}.values().Encode()
	}
	if o.Agency != "" {
		d.AgencyName = s.orgName(r, o.Agency)
	}
	offer, err := s.offerOf(r, o)
	if offer != nil && !scope.Reads(offer.Org, offer.Agency) {
		offer = nil // another org's offer on the same call reference
	}
	if err != nil {
		s.fail(w, r, "read offer", err)
		return
	}
	d.Offer = offer
	if d.Events, err = s.records.EventsFor(ctx, o.ID); err != nil {
		s.fail(w, r, "read events", err)
		return
	}
	if offer != nil {
		evs, err := s.records.EventsFor(ctx, offer.ID)
		if err != nil {
			s.fail(w, r, "read events", err)
			return
		}
		d.Events = append(d.Events, evs...)
		sort.Slice(d.Events, func(i, j int) bool { return d.Events[i].Seq < d.Events[j].Seq })
	}
	d.Timeline = s.timeline(r, o, offer, d.Events)
	if d.Stops, err = s.stoppedDialsOf(ctx, scope, o); err != nil {
		s.fail(w, r, "read blocked checks", err)
		return
	}
	s.render(w, r, http.StatusOK, "detail", s.newPage(r, "detail.title", "objections", d))
}

// orgName is the org's display name, or its id when it cannot be read.
func (s *Server) orgName(r *http.Request, id string) string {
	if org, err := s.reg.Store().Org(r.Context(), id); err == nil {
		return org.Name
	}
	return id
}

// orgNames maps org ids to names; an id without an org shows as itself.
func orgNames(orgs []objections.Org) map[string]string {
	m := make(map[string]string, len(orgs))
	for _, o := range orgs {
		m[o.ID] = o.Name
	}
	return m
}

// offerOf finds the offer behind an objection: by the offer id it names,
// else by its provider call. Nil when there is none (an agent, a letter).
func (s *Server) offerOf(r *http.Request, o objections.Objection) (*objections.Offer, error) {
	var (
		off objections.Offer
		err error
	)
	switch {
	case o.OfferID != "":
		off, err = s.reg.Store().Offer(r.Context(), o.OfferID)
	case o.Provider != "" && o.CallRef != "":
		off, err = s.records.OfferByCallRef(r.Context(), o.Provider, o.CallRef)
	default:
		return nil, nil
	}
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &off, nil
}

// timeline puts the evidence in time order: the offer and what was played,
// each key, the end of the call, the objection's record and any void.
func (s *Server) timeline(r *http.Request, o objections.Objection, off *objections.Offer, events []objections.Event) []timelineItem {
	l := s.lexicon(r)
	var items []timelineItem
	if off != nil {
		items = s.offerTimeline(r, *off)
	}
	rec := timelineItem{At: o.ReceivedAt, Tone: "objection", Title: l.T("tl.recorded"),
		Detail: l.T("tl.via", l.T("source."+string(o.Source)), dash(o.Actor))}
	for _, e := range events {
		if e.Kind == objections.EventObjectionRecorded {
			rec.Detail += " · " + l.T("tl.event", e.Seq)
		}
	}
	items = append(items, rec)
	if o.Void != nil {
		it := timelineItem{At: o.Void.At, Tone: "void", Title: l.T("tl.voided", o.Void.Actor), Quote: o.Void.Reason}
		for _, e := range events {
			if e.Kind == objections.EventObjectionVoided {
				it.Detail = l.T("tl.event", e.Seq)
			}
		}
		items = append(items, it)
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.Before(items[j].At) })
	return items
}

// offerTimeline is the evidence of one call in time order: the offer and
// what was played, each key, and the end of the call.
func (s *Server) offerTimeline(r *http.Request, o objections.Offer) []timelineItem {
	l := s.lexicon(r)
	var items []timelineItem
	it := timelineItem{At: o.StartedAt, Tone: "offer", Title: l.T("tl.offer")}
	parts := []string{}
	if o.Language != "" {
		// The spoken text's id and version are under Technical details.
		parts = append(parts, l.T("tl.prompt", o.Language))
	}
	parts = append(parts, l.T("tl.played", l.Seconds(o.PlayedMS)))
	if o.BargeIn {
		parts = append(parts, l.T("tl.bargeIn"))
	}
	it.Detail = strings.Join(parts, " · ")
	if s.cfg.PromptText != nil {
		if pt, ok := s.cfg.PromptText(r.Context(), o); ok {
			it.Quote, it.Verified = pt.Text, pt.Verified
			it.QuoteNote = l.T("tl.textUnverified")
			if pt.Verified {
				it.QuoteNote = l.T("tl.textVerified")
			}
		}
	}
	if it.Quote == "" {
		it.QuoteNote = l.T("tl.textUnknown")
	}
	items = append(items, it)
	if o.Announced {
		items = append(items, timelineItem{At: o.StartedAt, Tone: "offer", Title: l.T("tl.announced")})
	}
	for _, k := range o.Keys {
		it := timelineItem{At: k.At, Tone: "key", Title: l.T("tl.key", k.Digit)}
		if k.Mode != "" {
			it.Detail = l.T("tl.keyMode", k.Mode)
		}
		items = append(items, it)
	}
	end := l.T("outcome." + string(o.Outcome))
	if o.EndedBy != "" {
		end += " · " + l.T("tl.endedBy", l.T("endedBy."+o.EndedBy))
	}
	items = append(items, timelineItem{At: o.EndedAt, Tone: "offer", Title: l.T("tl.ended"), Detail: end})
	return items
}

type voidData struct {
	O       objections.Objection
	OrgName string
	Reason  string
	Error   string
}

// voidTarget reads the objection a void page or post names. ok is false
// when it answered instead: not found, also for an objection the user may
// not read, or forbidden for one the user reads only as the agency of the
// call: the org it was recorded for voids it.
func (s *Server) voidTarget(w http.ResponseWriter, r *http.Request) (o objections.Objection, ok bool) {
	scope := viewerFrom(r.Context()).User.Orgs
	o, err := s.visibleObjection(r.Context(), scope, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, "read objection", err)
		return o, false
	}
	if !scope.Has(o.Org) {
		s.errorPage(w, r, http.StatusForbidden, "error.agencyVoid")
		return o, false
	}
	return o, true
}

func (s *Server) voidPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.voidTarget(w, r)
	if !ok {
		return
	}
	if o.Void != nil {
		http.Redirect(w, r, "/ui/objections/"+url.PathEscape(o.ID), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "void", s.newPage(r, "void.title", "objections", voidData{O: o, OrgName: s.orgName(r, o.Org)}))
}

func (s *Server) void(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	l := s.lexicon(r)
	o, ok := s.voidTarget(w, r)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	d := voidData{O: o, OrgName: s.orgName(r, o.Org), Reason: reason}
	switch {
	case reason == "":
		d.Error = l.T("void.needReason")
	case len(reason) > 2000:
		d.Error = l.T("void.tooLong")
	}
	if d.Error != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "void", s.newPage(r, "void.title", "objections", d))
		return
	}
	// The void is evidence in its own right: Register.Void appends it to
	// the hash-chained event log with actor and reason.
	if _, err := s.reg.Void(ctx, o.ID, v.User.Name, reason); err != nil {
		if objections.ErrorCode(err) == objections.ECONFLICT {
			http.Redirect(w, r, "/ui/objections/"+url.PathEscape(o.ID), http.StatusSeeOther)
			return
		}
		s.fail(w, r, "void objection", err)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditVoid, o.ID, reason, access.Scope{o.Org}); err != nil {
		// The void itself is in the chained event log with its actor.
		s.log.Error("audit void", zap.String("objection_id", o.ID), zap.Error(err))
	}
	http.Redirect(w, r, "/ui/objections/"+url.PathEscape(o.ID)+"?voided=1", http.StatusSeeOther)
}

// export streams the objections of the current filter that the user sees
// as CSV (export.go), oldest first, in pages, so that a large export does
// not sit in memory. The export is audited (with its filter) before the
// first byte is sent.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	l := s.lexicon(r)
	form := readFilterForm(r.URL.Query())
	format, formatOK := exportFormatOf(l, r.URL.Query().Get("format"))
	ns, key, err := s.resolveNumber(ctx, form.Q, form.Org, v.User.Orgs, func(string) string { return "" })
	if err != nil {
		s.fail(w, r, "find numbers", err)
		return
	}
	f, key2, arg := s.filter(form, v.User.Orgs, ns.Number)
	switch {
	case key != "":
		arg = form.Q
	case ns.Ambiguous():
		key, arg = "filter.ambiguous", form.Q
	case !formatOK:
		key, arg = "export.badFormat", r.URL.Query().Get("format")
	default:
		key = key2
	}
	if key != "" {
		d := listData{Form: form, Sources: allSources, Statuses: allStatuses, Error: l.T(key, arg)}
		s.render(w, r, http.StatusUnprocessableEntity, "objections", s.newPage(r, "list.title", "objections", d))
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditExport, "", describeFilter(f), v.User.Orgs.AuditOrgs(f.Org)); err != nil {
		s.fail(w, r, "audit export", err)
		return
	}
	ew := startExport(w, l, format, "verzet-objections", s.cfg.Now(), objectionColumns)
	nums := s.reg.Numbers()
	f.Limit = 1000
	n := 0
	for {
		page, err := s.reg.Store().Objections(ctx, f)
		if err != nil {
			// Headers are sent: the truncated file is all the client gets.
			s.log.Error("export objections", zap.Int("rows", n), zap.Error(err))
			return
		}
		for _, o := range page {
			ew.objection(nums, o)
			n++
		}
		if !ew.flush() || len(page) < f.PageLimit() {
			return
		}
		f.After = page[len(page)-1].ID
	}
}

// describeFilter says what an export held, for the audit log.
func describeFilter(f objections.ObjectionFilter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("number", f.Number)
	add("org", f.Org)
	add("campaign", f.Campaign)
	add("source", string(f.Source))
	add("status", string(f.Status))
	if !f.Since.IsZero() {
		add("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		add("until", f.Until.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "all objections"
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
