package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// How far a token reaches (docs: README "Organisations, agencies and
// access"). A token scoped to some orgs acts for them as an unscoped token
// acts for every org. For an advertiser that lists one of the token's orgs
// among its agencies, it may also check and scrub numbers and record the
// objections of its own calls; its reads show the objections and offers
// of those calls (the stores' Scope filter: org or agency in the scope).
// Everything else of another org is absent from reads (404, or left out
// of lists) and refused on writes and checks (403 naming the org).

// errOrgForbidden is the 403 of a write or check for org outside tok's
// reach.
func errOrgForbidden(tok access.Token, org string) error {
	return &apiError{status: http.StatusForbidden, code: codeForbidden, field: "org", value: org,
		detail: "this token may not act for org " + org + ": it is scoped to " + tok.Orgs.String()}
}

// requestOrg returns the org a check or write of r is for: ?org=, else for
// a token scoped to one org that org, else the configured default. A
// scoped token reaching several orgs must name one.
func (s *Server) requestOrg(r *http.Request, tok access.Token) (string, error) {
	return s.orgOrDefault(r.URL.Query().Get("org"), tok)
}

// orgOrDefault validates org, or picks the default as requestOrg does.
func (s *Server) orgOrDefault(org string, tok access.Token) (string, error) {
	org = strings.ToLower(strings.TrimSpace(org))
	switch {
	case org != "":
	case len(tok.Orgs) == 1:
		org = tok.Orgs[0]
	case s.cfg.DefaultOrg != "" && tok.Orgs.Has(s.cfg.DefaultOrg):
		org = s.cfg.DefaultOrg
	case !tok.Orgs.All():
		return "", errInvalid("org", "", "is required: this token reaches "+tok.Orgs.String()+"; pass ?org=")
	default:
		return "", errInvalid("org", "", "is required: pass ?org=")
	}
	if err := objections.ValidateOrgID(org); err != nil {
		return "", err
	}
	return org, nil
}

// knownOrg is Register.KnownOrg for tok: the unknown-org hint names only
// orgs tok sees.
func (s *Server) knownOrg(ctx context.Context, tok access.Token, org string) (objections.Org, error) {
	if tok.Orgs.All() {
		return s.reg.KnownOrg(ctx, "org", org)
	}
	return s.reg.KnownOrgAmong(ctx, "org", org, tok.Orgs.Sees)
}

// checkAccess is the access of a check (callability, scrub) or of an
// objection recorded by tok for org: the org itself when tok reaches it,
// else the agency through which tok acts for org. 403 when neither; 404
// (naming the closest orgs tok sees) for an unknown org tok reaches.
func (s *Server) checkAccess(ctx context.Context, tok access.Token, org string) (agency string, err error) {
	if tok.Orgs.Has(org) {
		_, err := s.knownOrg(ctx, tok, org)
		return "", err
	}
	o, err := s.store.Org(ctx, org)
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		return "", errOrgForbidden(tok, org)
	}
	if err != nil {
		return "", err
	}
	if a := tok.Orgs.AgencyFor(o); a != "" {
		return a, nil
	}
	return "", errOrgForbidden(tok, org)
}

// writeAccess refuses a write (relation, consent, void, org) for an org
// outside tok's own scope: 403. An agency does not write an advertiser's
// relations or consents.
func writeAccess(tok access.Token, org string) error {
	if tok.Orgs.Has(org) {
		return nil
	}
	return errOrgForbidden(tok, org)
}

// readOrg checks an org named by a read that covers one org's data
// (decision counts, evidence packs): one of tok's own orgs, else 404 as if
// it did not exist.
func (s *Server) readOrg(ctx context.Context, tok access.Token, org string) error {
	if tok.Orgs.Has(org) {
		return nil
	}
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return err
	}
	return objections.UnknownOrg("org", org, slices.DeleteFunc(orgs, func(o objections.Org) bool { return !tok.Orgs.Has(o.ID) }))
}
