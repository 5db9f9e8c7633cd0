package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// objectionIn is the body of POST /v1/objections.
type objectionIn struct {
	Org           string `json:"org"`
	Number        string `json:"number"`
	Source        string `json:"source"`
	CampaignRef   string `json:"campaign_ref"`
	CallRef       string `json:"call_ref"`
	Provider      string `json:"provider"`
	Note          string `json:"note"`
	Person        string `json:"person"`
	DialerCallRef string `json:"dialer_call_ref"`
	LeadRef       string `json:"lead_ref"`
	AgentRef      string `json:"agent_ref"`
	OfferID       string `json:"offer_id"`
	// Agency is the agency that made the call for org, if one did. A
	// token scoped to an agency that records an objection for an
	// advertiser it calls for gets its agency filled in.
	Agency string `json:"agency"`
}

// recordObjection answers POST /v1/objections. A repeat (the same
// Idempotency-Key, the same provider call reference, or a number the org
// already has an active objection on) returns the stored objection with
// 200; a new one is 201. When the answer returns the objection is
// committed: the next callability check anywhere sees it.
func (s *Server) recordObjection(w http.ResponseWriter, r *http.Request, tok access.Token) {
	var in objectionIn
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > 256 {
		s.writeError(w, r, errInvalid("Idempotency-Key", key[:32]+"…", "is longer than 256 characters"))
		return
	}
	org, err := s.orgOrDefault(in.Org, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in.Org = org
	if in.Source == "" {
		in.Source = string(objections.SourceAPI)
	}
	if in.CallRef != "" && in.Provider == "" {
		in.Provider = "api"
	}
	via, err := s.checkAccess(r.Context(), tok, in.Org)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if via != "" {
		// An agency records the objections of its own calls only.
		if in.Agency != "" && !tok.Orgs.Has(strings.ToLower(strings.TrimSpace(in.Agency))) {
			s.writeError(w, r, &apiError{status: http.StatusForbidden, code: codeForbidden, field: "agency", value: in.Agency,
				detail: "this token may record objections for " + in.Org + " only as its agency " + via})
			return
		}
		if in.Agency == "" {
			in.Agency = via
		}
	}
	o := objections.Objection{Org: in.Org, Agency: in.Agency, RawNumber: in.Number, PersonID: in.Person, Source: objections.Source(in.Source),
		Provider: in.Provider, CallRef: in.CallRef, DialerCallRef: in.DialerCallRef, CampaignRef: in.CampaignRef,
		LeadRef: in.LeadRef, AgentRef: in.AgentRef, OfferID: in.OfferID, Note: in.Note, Actor: actor(tok), IdempotencyKey: key}
	rec, created, err := s.reg.Record(r.Context(), o)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !created && !tok.Orgs.Reads(rec.Org, rec.Agency) {
		// The call reference repeats an objection of an org this token
		// does not see: say no more than that.
		s.writeError(w, r, &objections.Error{Code: objections.ECONFLICT, Field: "call_ref", Value: in.CallRef,
			Message: "was used before for an objection this token cannot see"})
		return
	}
	if !created && key != "" && rec.IdempotencyKey == key && in.Number != "" {
		// The same key for another number is a client bug, not a repeat:
		// answering with the other objection would hide it.
		if n, err := s.reg.Numbers().NormalizeFast(in.Number); err == nil && n != rec.Number {
			s.writeError(w, r, &objections.Error{Code: objections.ECONFLICT, Field: "Idempotency-Key", Value: key,
				Message: "was used before for an objection on another number"})
			return
		}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/objections/"+rec.ID)
		s.relay.notify()
	}
	writeJSON(w, status, viewObjection(rec))
}

// listObjections answers GET /v1/objections: one page, oldest first.
func (s *Server) listObjections(w http.ResponseWriter, r *http.Request, tok access.Token) {
	f, err := s.objectionFilter(r, tok, "cursor", "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.auditList(r, tok, tok.Orgs.AuditOrgs(f.Org), "objections", "org", f.Org, "number", f.Number, "campaign", f.Campaign,
		"source", string(f.Source), "status", string(f.Status), "since", auditTime(f.Since), "until", auditTime(f.Until),
		"after", f.After); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	list, err := s.store.Objections(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[objectionView]{Items: make([]objectionView, 0, len(list))}
	for i, o := range list {
		if i == limit {
			break
		}
		out.Items = append(out.Items, viewObjection(o))
	}
	if len(list) > limit || (limit == 1000 && len(list) == 1000) {
		out.Next = cursorAfter(list[min(limit, len(list))-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// objectionFilter reads the filters of GET /v1/objections and its export;
// paging names the paging parameters the route also takes.
func (s *Server) objectionFilter(r *http.Request, tok access.Token, paging ...string) (objections.ObjectionFilter, error) {
	if err := knownParams(r, append([]string{"org", "number", "campaign", "source", "status", "since", "until"}, paging...)...); err != nil {
		return objections.ObjectionFilter{}, err
	}
	q := r.URL.Query()
	f := objections.ObjectionFilter{Org: strings.ToLower(q.Get("org")), Scope: tok.Orgs, Campaign: q.Get("campaign"),
		Source: objections.Source(q.Get("source")), Status: objections.Status(q.Get("status"))}
	var err error
	if f.Number, f.Since, f.Until, f.After, f.Limit, err = s.listFilter(r); err != nil {
		return f, err
	}
	if f.Source != "" && !f.Source.Valid() {
		return f, errInvalid("source", string(f.Source), "is not a known source")
	}
	if f.Status != "" && !f.Status.Valid() {
		return f, errInvalid("status", string(f.Status), "must be active, voided or pending_number")
	}
	return f, nil
}

// listFilter reads the filters objections and offers share.
func (s *Server) listFilter(r *http.Request) (number string, since, until time.Time, after string, limit int, err error) {
	q := r.URL.Query()
	if v := q.Get("number"); v != "" {
		if number, err = s.reg.Numbers().NormalizeFast(v); err != nil {
			return
		}
	}
	if since, err = parseTime("since", q.Get("since")); err != nil {
		return
	}
	if until, err = parseTime("until", q.Get("until")); err != nil {
		return
	}
	if after, err = parseCursor(q.Get("cursor")); err != nil {
		return
	}
	limit, err = limitParam(r)
	return
}

// cursorAfter returns the opaque cursor of the page after id.
func cursorAfter(id string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(id))
	return &c
}

func parseCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 26 {
		return "", errInvalid("cursor", c, "is not a cursor from a previous page's next")
	}
	return string(b), nil
}

// objectionEvidence is GET /v1/objections/{id}: the objection and what
// proves it (docs/compliance.md §3.1, §3.2, REQ-10, REQ-13).
type objectionEvidence struct {
	objectionView
	Evidence evidenceOfOffer `json:"evidence"`
}

type evidenceOfOffer struct {
	// Offer is the IVR session the objection came from, when it came from
	// one.
	Offer *objections.Offer `json:"offer"`
	// Prompt is what was played: id, version, language, content hash, and
	// the words when the catalogue still has that version.
	Prompt *promptView `json:"prompt"`
	// Keys are the key presses, with their times.
	Keys []objections.Key `json:"keys"`
}

type promptView struct {
	ID       string `json:"id"`
	Version  string `json:"version"`
	Language string `json:"language"`
	Hash     string `json:"hash,omitempty"`
	Text     string `json:"text,omitempty"`
}

// getObjection answers GET /v1/objections/{id}. Looking at the evidence
// about a person is audited, as in the UI: when it cannot be, the
// objection is not shown.
func (s *Server) getObjection(w http.ResponseWriter, r *http.Request, tok access.Token) {
	o, err := s.store.Objection(r.Context(), r.PathValue("id"))
	if err == nil && !tok.Orgs.Reads(o.Org, o.Agency) {
		err = objections.NotFound("id", o.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, access.AuditView, o.ID, "", access.Scope{o.Org}); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := objectionEvidence{objectionView: viewObjection(o), Evidence: evidenceOfOffer{Keys: []objections.Key{}}}
	if o.OfferID != "" {
		off, err := s.store.Offer(r.Context(), o.OfferID)
		switch {
		case err == nil:
			out.Evidence.Offer, out.Evidence.Keys = &off, off.Keys
			out.Evidence.Prompt = s.promptOf(r.Context(), off)
		case objections.ErrorCode(err) != objections.ENOTFOUND:
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) promptOf(ctx context.Context, off objections.Offer) *promptView {
	if off.PromptID == "" {
		return nil
	}
	p := &promptView{ID: off.PromptID, Version: off.PromptVersion, Language: off.Language, Hash: off.PromptHash}
	if s.prompts != nil {
		if text, ok := s.prompts.PromptText(ctx, off); ok {
			p.Text = text
		}
	}
	return p
}

// voidIn is the body of POST /v1/objections/{id}/void.
type voidIn struct {
	Reason string `json:"reason"`
}

// voidObjection answers POST /v1/objections/{id}/void (admin): the audited
// removal of an objection (docs/compliance.md §5.5). The reason is required.
func (s *Server) voidObjection(w http.ResponseWriter, r *http.Request, tok access.Token) {
	var in voidIn
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if !tok.Orgs.All() {
		o, err := s.store.Objection(r.Context(), id)
		if err == nil && !tok.Orgs.Reads(o.Org, o.Agency) {
			err = objections.NotFound("id", id)
		}
		if err == nil {
			err = writeAccess(tok, o.Org)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	o, err := s.reg.Void(r.Context(), id, actor(tok), in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.relay.notify()
	writeJSON(w, http.StatusOK, viewObjection(o))
}
