package httpapi

import (
	"net/http"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// tokenIn is the body of POST /v1/tokens.
type tokenIn struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Orgs scopes the token; empty: every org. A scoped admin may only
	// hand out tokens within its own scope (its own, when left out).
	Orgs []string `json:"orgs"`
}

// createToken answers POST /v1/tokens (admin). The answer is the only
// place the bearer string ever appears.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, tok access.Token) {
	var in tokenIn
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := objections.ValidText("name", in.Name); err != nil {
		s.writeError(w, r, err) // "\u0000" decodes to a NUL, which PostgreSQL refuses
		return
	}
	orgs, err := access.Scope(in.Orgs).Normalize()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if orgs.All() {
		orgs = tok.Orgs
	}
	for _, o := range orgs {
		if !tok.Orgs.Has(o) {
			s.writeError(w, r, errOrgForbidden(tok, o))
			return
		}
	}
	t, bearer, err := access.NewToken(in.Name, access.Role(in.Role), orgs, actor(tok), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if t, err = s.tokens.CreateToken(r.Context(), t); err != nil {
		s.writeError(w, r, err)
		return
	}
	v := viewToken(t)
	v.Token = bearer
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, tok access.Token) {
	list, err := s.tokens.Tokens(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := page[tokenView]{Items: make([]tokenView, 0, len(list))}
	for _, t := range list {
		if t.Orgs.Within(tok.Orgs) {
			out.Items = append(out.Items, viewToken(t))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeToken answers POST /v1/tokens/{id}/revoke (admin). The token stops
// working on this instance at once, on others within the token cache TTL.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, tok access.Token) {
	id := r.PathValue("id")
	if !tok.Orgs.All() {
		// A scoped admin manages the tokens within its scope only.
		t, err := s.tokens.Token(r.Context(), id)
		if err == nil && !t.Orgs.Within(tok.Orgs) {
			err = objections.NotFound("token", id)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	t, err := s.tokens.RevokeToken(r.Context(), id, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auth.forget(id)
	writeJSON(w, http.StatusOK, viewToken(t))
}
