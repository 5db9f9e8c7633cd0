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
)

// maxEvidenceOffers bounds the offers in one evidence pack; a number called
// more often than this is an anomaly the pack says it cut short.
const maxEvidenceOffers = 10000

// evidencePack is everything an org holds on one number (and person): the
// answer to a consumer's or the regulator's "what do you hold on me and
// why did you call" (domain.md REQ-10, REQ-14).
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
}

// evidence answers GET /v1/people/{number}/evidence?org=[&person=] as JSON,
// or as a printable HTML page for Accept: text/html or ?format=html.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request, _ objections.Token) {
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
	org, err := s.org(r)
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
	ctx := r.Context()
	f, err := s.facts(ctx, org, number, person)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.reg.Now()
	p := evidencePack{GeneratedAt: now, Org: viewOrg(f.Org), Number: number, Person: person,
		Decision: viewDecision(decideNow(f, number, person, now)), Objections: []objectionView{}, Consents: []consentView{},
		Relations: []relationView{}, Offers: []objections.Offer{}}
	for _, o := range f.Objections {
		p.Objections = append(p.Objections, viewObjection(o))
	}
	for _, c := range f.Consents {
		p.Consents = append(p.Consents, viewConsent(c))
	}
	for _, rel := range f.Relations {
		p.Relations = append(p.Relations, viewRelation(rel))
	}
	of := objections.OfferFilter{Org: org, Number: number, Limit: 1000}
	for {
		list, err := s.store.Offers(ctx, of)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p.Offers = append(p.Offers, list...)
		if len(p.Offers) >= maxEvidenceOffers {
			p.Offers, p.OffersTruncated = p.Offers[:maxEvidenceOffers], true
			break
		}
		if len(list) < of.PageLimit() {
			break
		}
		of.After = list[len(list)-1].ID
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "html" || (format == "" && prefersHTML(r)) {
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
