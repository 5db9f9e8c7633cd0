package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// maxCountDays bounds the days one GET /v1/decisions/counts covers.
const maxCountDays = 400

// decisionLogOf returns the decision log, or a problem when the server
// has none.
func (s *Server) decisionLogOf() (DecisionLog, error) {
	if s.decisions == nil {
		return nil, objections.Errorf(objections.ENOTFOUND, "this store keeps no decision log")
	}
	return s.decisions.store, nil
}

// listDecisions answers GET /v1/decisions: the logged blocked dial-time
// checks (docs/compliance.md §3.3), oldest first, with a cursor; filters org,
// number, objection, since, until. What a supervisor shows a regulator
// asking "did you honour the objections": every dial attempt they stopped.
func (s *Server) listDecisions(w http.ResponseWriter, r *http.Request, tok access.Token) {
	dl, f, err := s.decisionQuery(r, tok, "cursor", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.auditList(r, tok, tok.Orgs.AuditOrgs(f.Org), "decisions", "org", f.Org, "number", f.Number, "objection", f.ObjectionID,
		"since", auditTime(f.Since), "until", auditTime(f.Until), "after", f.After); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	list, err := dl.ListDecisions(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[objections.DecisionRecord]{Items: append([]objections.DecisionRecord{}, list[:min(limit, len(list))]...)}
	if len(list) > limit || (limit == 1000 && len(list) == 1000) {
		out.Next = cursorAfter(list[min(limit, len(list))-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// decisionQuery is the common start of the decision list and export: it
// refuses parameters other than the filters and extra, and returns the
// store's decision log and the filter.
func (s *Server) decisionQuery(r *http.Request, tok access.Token, extra ...string) (DecisionLog, objections.DecisionFilter, error) {
	if err := knownParams(r, append([]string{"org", "number", "objection", "since", "until"}, extra...)...); err != nil {
		return nil, objections.DecisionFilter{}, err
	}
	dl, err := s.decisionLogOf()
	if err != nil {
		return nil, objections.DecisionFilter{}, err
	}
	f, err := s.decisionFilter(r)
	f.Scope = tok.Orgs
	return dl, f, err
}

// decisionFilter reads the filters of the decision list and export.
func (s *Server) decisionFilter(r *http.Request) (objections.DecisionFilter, error) {
	q := r.URL.Query()
	f := objections.DecisionFilter{Org: strings.ToLower(strings.TrimSpace(q.Get("org"))), ObjectionID: strings.TrimSpace(q.Get("objection"))}
	if f.Org != "" {
		if err := objections.ValidateOrgID(f.Org); err != nil {
			return f, err
		}
	}
	if len(f.ObjectionID) > 64 {
		return f, errInvalid("objection", f.ObjectionID[:32]+"…", "is not an objection id")
	}
	var err error
	f.Number, f.Since, f.Until, f.After, f.Limit, err = s.listFilter(r)
	return f, err
}

// exportDecisions answers GET /v1/decisions/export: every logged blocked
// check the filters of GET /v1/decisions select, oldest first, as CSV
// (objections.DecisionExportHeader) or NDJSON — the honour evidence for a
// regulator's request. The export is audited, with its filter, before it
// is read.
func (s *Server) exportDecisions(w http.ResponseWriter, r *http.Request, tok access.Token) {
	dl, f, err := s.decisionQuery(r, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, access.AuditExport, "decisions", auditDetail("format", exportFormat(r),
		"org", f.Org, "number", f.Number, "objection", f.ObjectionID,
		"since", auditTime(f.Since), "until", auditTime(f.Until)), tok.Orgs.AuditOrgs(f.Org)); err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Limit = s.cfg.ExportPage
	streamExport(s, w, r, exportShape[objections.DecisionRecord]{
		name:   "decisions",
		size:   f.PageLimit(),
		header: objections.DecisionExportHeader(),
		row:    objections.DecisionExportRow,
		item:   func(d objections.DecisionRecord) any { return d },
		id:     func(d objections.DecisionRecord) string { return d.ID },
		page: func(ctx context.Context, after string) ([]objections.DecisionRecord, error) {
			f.After = after
			return dl.ListDecisions(ctx, f)
		},
	})
}

// decisionCountsView is GET /v1/decisions/counts.
type decisionCountsView struct {
	Org    string              `json:"org"`
	From   string              `json:"from"`
	To     string              `json:"to"`
	Items  []decisionCountView `json:"items"`
	Totals decisionTotals      `json:"totals"`
}

type decisionCountView struct {
	Day      string            `json:"day"`
	Callable bool              `json:"callable"`
	Reason   objections.Reason `json:"reason"`
	Count    int64             `json:"count"`
}

type decisionTotals struct {
	Checks  int64 `json:"checks"`
	Allowed int64 `json:"allowed"`
	Blocked int64 `json:"blocked"`
}

// decisionCounts answers GET /v1/decisions/counts?org=&from=&to=: every
// dial-time check of org, allowed and blocked, counted per
// Europe/Amsterdam day, result and main reason (the aggregate evidence of
// docs/compliance.md §3.3). Days default to the last 30, today included.
func (s *Server) decisionCounts(w http.ResponseWriter, r *http.Request, tok access.Token) {
	if err := knownParams(r, "org", "from", "to"); err != nil {
		s.writeError(w, r, err)
		return
	}
	dl, err := s.decisionLogOf()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	org, err := s.requestOrg(r, tok)
	if err == nil {
		err = s.readOrg(r.Context(), tok, org)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	to := objections.DecisionDay(s.now())
	if v := q.Get("to"); v != "" {
		if to, err = time.Parse("2006-01-02", v); err != nil {
			s.writeError(w, r, errInvalid("to", v, "must be a date (2026-03-01)"))
			return
		}
	}
	from := to.AddDate(0, 0, -29)
	if v := q.Get("from"); v != "" {
		if from, err = time.Parse("2006-01-02", v); err != nil {
			s.writeError(w, r, errInvalid("from", v, "must be a date (2026-03-01)"))
			return
		}
	}
	switch {
	case from.After(to):
		s.writeError(w, r, errInvalid("from", from.Format("2006-01-02"), "is after to ("+to.Format("2006-01-02")+")"))
		return
	case to.Sub(from) >= maxCountDays*24*time.Hour:
		s.writeError(w, r, errInvalid("from", from.Format("2006-01-02"), "is more than 400 days before to: ask for less at a time"))
		return
	}
	counts, err := dl.DecisionCounts(r.Context(), org, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := decisionCountsView{Org: org, From: from.Format("2006-01-02"), To: to.Format("2006-01-02"),
		Items: make([]decisionCountView, 0, len(counts))}
	for _, c := range counts {
		out.Items = append(out.Items, decisionCountView{Day: c.Day.Format("2006-01-02"), Callable: c.Callable, Reason: c.Reason, Count: c.Count})
		out.Totals.Checks += c.Count
		if c.Callable {
			out.Totals.Allowed += c.Count
		} else {
			out.Totals.Blocked += c.Count
		}
	}
	writeJSON(w, http.StatusOK, out)
}
