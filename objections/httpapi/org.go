package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// orgIn is the body of PUT /v1/orgs/{id}.
type orgIn struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Sector             string `json:"sector"`
	RelationTermMonths int    `json:"relation_term_months"`
	TermJustification  string `json:"term_justification"`
	Language           string `json:"language"`
	// IVR are the org's dialogue settings; PUT replaces the whole org, so
	// leaving them out resets them to the defaults.
	IVR objections.IVRSettings `json:"ivr"`
	// Kind is advertiser (the default) or agency; Agencies, for an
	// advertiser, the agencies that may call for it.
	Kind     string   `json:"kind"`
	Agencies []string `json:"agencies"`
}

// orgView is an org as the API shows it.
type orgView struct {
	ID                 string                 `json:"id"`
	Name               string                 `json:"name"`
	Sector             string                 `json:"sector"`
	RelationTermMonths int                    `json:"relation_term_months"`
	TermJustification  string                 `json:"term_justification,omitempty"`
	Language           string                 `json:"language"`
	IVR                objections.IVRSettings `json:"ivr"`
	Kind               string                 `json:"kind"`
	Agencies           []string               `json:"agencies"`
	AutoCreated        bool                   `json:"auto_created"`
	CreatedAt          time.Time              `json:"created_at"`
	UpdatedAt          time.Time              `json:"updated_at"`
}

func viewOrg(o objections.Org) orgView {
	return orgView{ID: o.ID, Name: o.Name, Sector: string(o.Sector), RelationTermMonths: o.RelationTermMonths,
		TermJustification: o.TermJustification, Language: o.Language, IVR: o.IVR, AutoCreated: o.AutoCreated,
		Kind: string(o.Kind), Agencies: append([]string{}, o.Agencies...), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// putOrg answers PUT /v1/orgs/{id} (admin): creates or replaces an org.
func (s *Server) putOrg(w http.ResponseWriter, r *http.Request, tok access.Token) {
	var in orgIn
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if in.ID != "" && in.ID != id {
		s.writeError(w, r, errInvalid("id", in.ID, "differs from the id in the path"))
		return
	}
	if err := writeAccess(tok, strings.ToLower(strings.TrimSpace(id))); err != nil {
		s.writeError(w, r, err)
		return
	}
	o, err := s.reg.SetOrg(r.Context(), objections.Org{ID: id, Name: in.Name, Sector: objections.Sector(in.Sector),
		RelationTermMonths: in.RelationTermMonths, TermJustification: in.TermJustification, Language: in.Language, IVR: in.IVR,
		Kind: objections.OrgKind(in.Kind), Agencies: in.Agencies})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOrg(o))
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, tok access.Token) {
	o, err := s.store.Org(r.Context(), r.PathValue("id"))
	if err == nil && !tok.Orgs.Sees(o) {
		err = objections.NotFound("org", o.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOrg(o))
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, tok access.Token) {
	list, err := s.store.Orgs(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[orgView]{Items: make([]orgView, 0, len(list))}
	for _, o := range list {
		if tok.Orgs.Sees(o) {
			out.Items = append(out.Items, viewOrg(o))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
