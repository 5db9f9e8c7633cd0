package review

import (
	"context"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// How far a user reaches: the rules of the API's tokens (httpapi/scope.go;
// README "Organisations, agencies and access"), applied to User.Orgs. A
// user scoped to some orgs sees of them what an unscoped user sees of
// every org. A user scoped to an agency also sees the objections and
// offers of the agency's own calls, for any advertiser (the stores' Scope
// filter: org or agency in the scope), and the advertisers that list the
// agency in the org selectors. Everything else of another org is absent:
// left out of lists, counts and exports, and "not found" when named by id.
// Writes (a void) and an org's dial-time checks need the org itself in the
// scope: the agency of a call neither voids an advertiser's objection nor
// reads its decision log.

// seenOrgs returns the orgs of orgs that scope sees, in a new slice.
func seenOrgs(scope access.Scope, orgs []objections.Org) []objections.Org {
	out := make([]objections.Org, 0, len(orgs))
	for _, o := range orgs {
		if scope.Sees(o) {
			out = append(out, o)
		}
	}
	return out
}

// visibleObjection reads the objection id for scope: ENOTFOUND, as for an
// id that does not exist, when scope may not read it.
func (s *Server) visibleObjection(ctx context.Context, scope access.Scope, id string) (objections.Objection, error) {
	o, err := s.reg.Store().Objection(ctx, id)
	if err == nil && !scope.Reads(o.Org, o.Agency) {
		return objections.Objection{}, objections.NotFound("id", id)
	}
	return o, err
}
