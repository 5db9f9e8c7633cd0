package review

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// The calls view: every call in which the right to object was offered
// (an objections.Offer), whatever its outcome — an objection, a decline,
// no key, a hang-up — newest first, filtered by org, campaign, date,
// outcome and agent, each linked to its evidence: the objection it
// produced, or the call's own page. Scoped as the objections are: a user
// sees the calls of its orgs and, for an agency, its own calls.

var allOutcomes = []objections.Outcome{objections.OutcomeObjected, objections.OutcomeDeclined, objections.OutcomeNoInput,
	objections.OutcomeInvalidInput, objections.OutcomeHangupDuringPrompt, objections.OutcomeError,
	objections.OutcomeInProgress, objections.OutcomeInterrupted}

// callForm is the calls filter as typed.
type callForm struct {
	Q, Org, Campaign, Outcome, Agent, From, To string
	Page                                       int
}

func readCallForm(q url.Values) callForm {
	f := callForm{Q: strings.TrimSpace(q.Get("q")), Org: strings.ToLower(strings.TrimSpace(q.Get("org"))),
		Campaign: strings.TrimSpace(q.Get("campaign")), Outcome: q.Get("outcome"), Agent: strings.TrimSpace(q.Get("agent")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	return f
}

func (f callForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "org": f.Org, "campaign": f.Campaign, "outcome": f.Outcome,
		"agent": f.Agent, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Active reports whether any filter is set.
func (f callForm) Active() bool { return len(f.values()) > 0 }

// offerFilter turns the form into a store filter for a user of scope,
// with the number resolveNumber read; the message key and argument say
// what could not be read.
func offerFilter(f callForm, scope access.Scope, number string) (objections.OfferFilter, string, string) {
	out := objections.OfferFilter{Org: f.Org, Scope: scope, Campaign: f.Campaign, Agent: f.Agent, Number: number}
	if f.Outcome != "" {
		if !objections.Outcome(f.Outcome).Valid() {
			return out, "filter.badOutcome", f.Outcome
		}
		out.Outcome = objections.Outcome(f.Outcome)
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
		out.Until = until.AddDate(0, 0, 1)
	}
	if !out.Since.IsZero() && !out.Until.IsZero() && !out.Until.After(out.Since) {
		return out, "filter.badRange", f.From + " – " + f.To
	}
	return out, "", ""
}

// callRow is one call of the list with the link to its evidence.
type callRow struct {
	O objections.Offer
	// EvidenceURL is the objection the call produced, when the user may
	// read it, else the call's own page.
	EvidenceURL string
}

type callsData struct {
	Form      callForm
	Error     string
	Search    numberSearch
	Orgs      []objections.Org
	OrgNames  map[string]string
	Outcomes  []objections.Outcome
	Items     []callRow
	Total     int
	First     int
	Last      int
	PrevURL   string
	NextURL   string
	ExportURL string
}

// readCallFilter reads the calls filter of r for the signed-in user; ok
// is false when the form has an error (in d.Error, with d ready to show)
// or a part of a number found several (d.Search).
func (s *Server) readCallFilter(ctx context.Context, r *http.Request, d *callsData) (objections.OfferFilter, bool, error) {
	scope := viewerFrom(ctx).User.Orgs
	form := d.Form
	ns, key, err := s.resolveNumber(ctx, form.Q, form.Org, scope, func(n string) string { return withQuery("/ui/calls", form.values(), n) })
	if err != nil {
		return objections.OfferFilter{}, false, err
	}
	d.Search = ns
	f, key2, arg := offerFilter(form, scope, ns.Number)
	switch {
	case key != "":
		arg = form.Q
	default:
		key = key2
	}
	if key != "" {
		d.Error = s.lexicon(r).T(key, arg)
		return f, false, nil
	}
	return f, !ns.Ambiguous(), nil
}

func (s *Server) callsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	scope := viewerFrom(ctx).User.Orgs
	form := readCallForm(r.URL.Query())
	d := callsData{Form: form, Outcomes: allOutcomes}
	orgs, err := s.reg.Store().Orgs(ctx)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	d.Orgs, d.OrgNames = seenOrgs(scope, orgs), orgNames(orgs)
	f, ok, err := s.readCallFilter(ctx, r, &d)
	if err != nil {
		s.fail(w, r, "find numbers", err)
		return
	}
	if d.Error != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "calls", s.newPage(r, "calls.title", "calls", d))
		return
	}
	if !ok {
		s.render(w, r, http.StatusOK, "calls", s.newPage(r, "calls.title", "calls", d))
		return
	}
	f.Limit = s.cfg.PageSize
	offset := min((form.Page-1)*s.cfg.PageSize, objections.MaxSearchOffset)
	page, err := s.records.SearchOffers(ctx, f, offset)
	if err != nil {
		s.fail(w, r, "search calls", err)
		return
	}
	if d.Items, err = s.callRows(ctx, scope, page.Offers); err != nil {
		s.fail(w, r, "read objections of calls", err)
		return
	}
	d.Total = page.Total
	if len(d.Items) > 0 {
		d.First, d.Last = offset+1, offset+len(d.Items)
	}
	q := form.values()
	d.PrevURL, d.NextURL = s.pageLinks("/ui/calls", q, form.Page, offset, len(d.Items), d.Total)
	d.ExportURL = "/ui/calls.csv"
	if len(q) > 0 {
		d.ExportURL += "?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "calls", s.newPage(r, "calls.title", "calls", d))
}

// callRows links each call to its evidence: the objection it produced
// when the user may read it (an agency's user may read a call for an
// advertiser, and so its objection; the org's own objection otherwise).
func (s *Server) callRows(ctx context.Context, scope access.Scope, offers []objections.Offer) ([]callRow, error) {
	rows := make([]callRow, len(offers))
	for i, o := range offers {
		rows[i] = callRow{O: o, EvidenceURL: callURL(o.ID)}
		if o.ObjectionID == "" {
			continue
		}
		obj, err := s.visibleObjection(ctx, scope, o.ObjectionID)
		switch objections.ErrorCode(err) {
		case "":
			rows[i].EvidenceURL = "/ui/objections/" + url.PathEscape(obj.ID)
		case objections.ENOTFOUND:
		default:
			return nil, err
		}
	}
	return rows, nil
}

func callURL(id string) string { return "/ui/calls/" + url.PathEscape(id) }

type callData struct {
	O          objections.Offer
	OrgName    string
	AgencyName string
	Timeline   []timelineItem
	Events     []objections.Event
	// ObjectionURL is the objection the call produced, when the user may
	// read it.
	ObjectionURL string
}

// callPage shows one call's evidence: what was played and heard, each
// key, the end, and its event. Audited as a view, as an objection's page
// is.
func (s *Server) callPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	scope := v.User.Orgs
	o, err := s.reg.Store().Offer(ctx, r.PathValue("id"))
	if err == nil && !scope.Reads(o.Org, o.Agency) {
		err = objections.NotFound("id", r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, "read call", err)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditView, o.ID, auditKV("call", o.Provider+" "+o.CallRef), access.Scope{o.Org}); err != nil {
		s.fail(w, r, "audit view", err)
		return
	}
	d := callData{O: o, OrgName: s.orgName(r, o.Org), Timeline: s.offerTimeline(r, o)}
	if o.Agency != "" {
		d.AgencyName = s.orgName(r, o.Agency)
	}
	if rows, err := s.callRows(ctx, scope, []objections.Offer{o}); err != nil {
		s.fail(w, r, "read objection", err)
		return
	} else if rows[0].EvidenceURL != callURL(o.ID) {
		d.ObjectionURL = rows[0].EvidenceURL
	}
	if d.Events, err = s.records.EventsFor(ctx, o.ID); err != nil {
		s.fail(w, r, "read events", err)
		return
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	s.render(w, r, http.StatusOK, "call", s.newPage(r, "call.title", "calls", d))
}

// The partial templates get their language with their data.

type timelineView struct {
	L     lexicon
	Items []timelineItem
}

func timelineOf(l lexicon, items []timelineItem) timelineView { return timelineView{l, items} }

type eventsView struct {
	L      lexicon
	Events []objections.Event
}

func eventsOf(l lexicon, evs []objections.Event) eventsView { return eventsView{l, evs} }
