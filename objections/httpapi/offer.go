package httpapi

import (
	"net/http"
	"strings"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// listOffers answers GET /v1/offers: one page of offers (the evidence that
// the right to object was offered, one per call), oldest first.
func (s *Server) listOffers(w http.ResponseWriter, r *http.Request, tok access.Token) {
	f, err := s.offerFilter(r, tok, "cursor", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.auditList(r, tok, tok.Orgs.AuditOrgs(f.Org), "offers", "org", f.Org, "number", f.Number, "campaign", f.Campaign,
		"outcome", string(f.Outcome), "since", auditTime(f.Since), "until", auditTime(f.Until), "after", f.After); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++
	list, err := s.store.Offers(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[objections.Offer]{Items: list[:min(limit, len(list))]}
	if len(list) > limit || (limit == 1000 && len(list) == 1000) {
		out.Next = cursorAfter(list[min(limit, len(list))-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// offerFilter reads the filters of GET /v1/offers and its export; paging
// names the paging parameters the route also takes.
func (s *Server) offerFilter(r *http.Request, tok access.Token, paging ...string) (objections.OfferFilter, error) {
	if err := knownParams(r, append([]string{"org", "number", "campaign", "outcome", "since", "until"}, paging...)...); err != nil {
		return objections.OfferFilter{}, err
	}
	q := r.URL.Query()
	f := objections.OfferFilter{Org: strings.ToLower(q.Get("org")), Scope: tok.Orgs, Campaign: q.Get("campaign"), Outcome: objections.Outcome(q.Get("outcome"))}
	var err error
	if f.Number, f.Since, f.Until, f.After, f.Limit, err = s.listFilter(r); err != nil {
		return f, err
	}
	if f.Outcome != "" && !f.Outcome.Valid() {
		return f, errInvalid("outcome", string(f.Outcome),
			"must be one of objected, declined, no_input, invalid_input, hangup_during_prompt, error")
	}
	return f, nil
}
