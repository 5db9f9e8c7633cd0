package httpapi

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// evidencePack is everything an org holds on one number (and person): the
// answer to a consumer's or the regulator's "what do you hold on me and
// why did you call" (docs/compliance.md REQ-10, REQ-14).
type evidencePack struct {
	GeneratedAt time.Time `json:"generated_at"`
	Org         orgView   `json:"org"`
	Number      string    `json:"number"`
	Person      string    `json:"person,omitempty"`
	// Decision is the callability answer at GeneratedAt.
	Decision        decisionView       `json:"decision"`
	Objections      []objectionView    `json:"objections"`
	Consents        []consentView      `json:"consents"`
	Relations       []relationView     `json:"relations"`
	Offers          []objections.Offer `json:"offers"`
	OffersTruncated bool               `json:"offers_truncated,omitempty"`
	// Checks are the logged dial-time checks on the number, newest first,
	// at most objections.MaxEvidenceChecks: every blocked one (allowed checks are
	// only counted). A check of the last fraction of a second may not be
	// written yet.
	Checks          []objections.DecisionRecord `json:"checks"`
	ChecksTruncated bool                        `json:"checks_truncated,omitempty"`
	// FirstBlocks has one entry per objection of the pack: the first
	// dial-time check it blocked, if any, and how long after the objection
	// was received (committed) that was (docs/compliance.md §3.3).
	FirstBlocks []firstBlockView `json:"first_blocks"`
}

// firstBlockView is an objection's first blocked dial attempt.
type firstBlockView struct {
	ObjectionID string     `json:"objection_id"`
	ReceivedAt  time.Time  `json:"received_at"`
	BlockedAt   *time.Time `json:"first_blocked_at"`
	// LatencySeconds is BlockedAt − ReceivedAt.
	LatencySeconds *float64 `json:"latency_seconds"`
}

// evidence answers GET /v1/people/{number}/evidence?org=[&person=] as JSON,
// or as a printable HTML page for Accept: text/html or ?format=html. The
// read is audited (a view of the number) before anything is read.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request, tok access.Token) {
	if err := knownParams(r, "org", "person", "format"); err != nil {
		s.writeError(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "html":
	default:
		s.writeError(w, r, errInvalid("format", format, "must be json or html"))
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
	person := strings.TrimSpace(r.URL.Query().Get("person"))
	number, err := s.reg.Numbers().NormalizeFast(r.PathValue("number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	asHTML := format == "html" || (format == "" && prefersHTML(r))
	shown := "json"
	if asHTML {
		shown = "html"
	}
	if err := s.audit(r, tok, access.AuditView, number, "evidence pack "+auditDetail("org", org, "person", person, "format", shown), access.Scope{org}); err != nil {
		s.writeError(w, r, err)
		return
	}
	src := objections.EvidenceSource{Facts: s.facts, Offers: s.store}
	if s.decisions != nil {
		src.Log = s.decisions.store
	}
	ev, err := objections.GatherEvidence(r.Context(), src, org, number, person, s.reg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := ev.Facts
	p := evidencePack{GeneratedAt: ev.GeneratedAt, Org: viewOrg(f.Org), Number: number, Person: person,
		Decision: viewDecision(ev.Decision), Objections: []objectionView{}, Consents: []consentView{},
		Relations: []relationView{}, Offers: ev.Offers, OffersTruncated: ev.OffersTruncated, Checks: ev.Checks,
		ChecksTruncated: ev.ChecksTruncated, FirstBlocks: []firstBlockView{}}
	for _, o := range f.Objections {
		p.Objections = append(p.Objections, viewObjection(o))
		v := firstBlockView{ObjectionID: o.ID, ReceivedAt: o.ReceivedAt}
		if at, ok := ev.FirstBlocks[o.ID]; ok {
			lat := at.Sub(o.ReceivedAt).Seconds()
			v.BlockedAt, v.LatencySeconds = &at, &lat
		}
		p.FirstBlocks = append(p.FirstBlocks, v)
	}
	for _, c := range f.Consents {
		p.Consents = append(p.Consents, viewConsent(c))
	}
	for _, rel := range f.Relations {
		p.Relations = append(p.Relations, viewRelation(rel))
	}
	w.Header().Set("Cache-Control", "no-store")
	if asHTML {
		var buf bytes.Buffer
		if err := evidenceHTML.Execute(&buf, p); err != nil {
			s.writeError(w, r, objections.Internal("render evidence page", err))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_, _ = w.Write(buf.Bytes())
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// prefersHTML reports whether the first media type of r's Accept is HTML:
// a browser's, not an API client's.
func prefersHTML(r *http.Request) bool {
	first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
	first, _, _ = strings.Cut(first, ";")
	return strings.EqualFold(strings.TrimSpace(first), "text/html")
}

//go:embed evidence.html
var evidenceTemplate string

// evidenceHTML renders the pack; html/template escapes every value.
var evidenceHTML = template.Must(template.New("evidence").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 MST")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 MST")
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"reasons": func(rs []objections.Reason) string {
		return strings.ReplaceAll(objections.JoinReasons(rs), ",", ", ")
	},
	// firstBlock finds the first block of objection id.
	"firstBlock": func(fbs []firstBlockView, id string) *firstBlockView {
		for i := range fbs {
			if fbs[i].ObjectionID == id {
				return &fbs[i]
			}
		}
		return nil
	},
	"seconds": func(s *float64) string {
		if s == nil {
			return ""
		}
		return time.Duration(*s * float64(time.Second)).Round(time.Millisecond).String()
	},
	"keys": func(ks []objections.Key) string {
		var b strings.Builder
		for i, k := range ks {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.Digit + " at " + k.At.In(objections.Amsterdam()).Format("15:04:05.000"))
		}
		return b.String()
	},
}).Parse(evidenceTemplate))
