package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// callability answers GET /v1/callability/{number}: may org call number
// now? It reads the store on every request (no answer is cached), so an
// objection committed by any instance or process blocks the next check.
func (s *Server) callability(w http.ResponseWriter, r *http.Request, tok access.Token) {
	if err := knownParams(r, "org", "person"); err != nil {
		s.writeError(w, r, err)
		return
	}
	org, err := s.requestOrg(r, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	person := strings.TrimSpace(r.URL.Query().Get("person"))
	if len(person) > 256 {
		s.writeError(w, r, errInvalid("person", person[:32]+"…", "is longer than 256 characters"))
		return
	}
	number, err := s.reg.Numbers().NormalizeFast(r.PathValue("number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	f, err := s.facts(r.Context(), org, number, person)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !tok.Orgs.Has(org) && tok.Orgs.AgencyFor(f.Org) == "" {
		// Outside the token's scope, and not an advertiser it calls for
		// (the facts carry the org's agencies: no extra read).
		s.writeError(w, r, errOrgForbidden(tok, org))
		return
	}
	if !f.OrgKnown() {
		// A typo in a dialer's configuration must not answer "no basis"
		// for an org that holds the objections under another id.
		if _, err := s.knownOrg(r.Context(), tok, org); err != nil {
			s.writeError(w, r, err)
			return
		}
		// Set up since the facts were read: read them again.
		if f, err = s.facts(r.Context(), org, number, person); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	d := decideNow(f, number, person, s.reg.Now())
	s.metrics.decisionLatency.WithLabelValues("check").Observe(time.Since(start).Seconds())
	s.metrics.observeDecision(d)
	s.decisions.add(d, tok)
	writeJSON(w, http.StatusOK, viewDecision(d))
}

// decideNow is objections.DecideNow: "now" for a dial-time question means
// after everything committed so far.
func decideNow(f objections.Facts, number, person string, now time.Time) objections.Decision {
	return objections.DecideNow(f, number, person, now)
}
