package httpapi

import (
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// objectionView is an objection as the API shows it: the shape of
// `verzet objections list --json`, defined once in objections.
type objectionView = objections.ObjectionView

func viewObjection(o objections.Objection) objectionView { return o.View() }

// blockingView is the objection a dial-time answer names: enough to find it
// and show when and how it came in, and no more personal data than that
// (docs/compliance.md §4: a check answers allow or deny and why).
type blockingView struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Source     string    `json:"source"`
	Scope      string    `json:"scope"` // number or person
}

// relationView is a customer relation in the API: peildatum is a date.
type relationView struct {
	ID        string    `json:"id,omitempty"`
	Org       string    `json:"org"`
	Number    string    `json:"number"`
	Person    string    `json:"person,omitempty"`
	Kind      string    `json:"kind"`
	Peildatum string    `json:"peildatum"`
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func viewRelation(r objections.Relation) relationView {
	return relationView{ID: r.ID, Org: r.Org, Number: r.Number, Person: r.PersonID, Kind: string(r.Kind),
		Peildatum: r.Peildatum.Format("2006-01-02"), Source: r.Source, CreatedAt: r.CreatedAt}
}

// consentView is a consent in the API.
type consentView struct {
	ID          string     `json:"id,omitempty"`
	Org         string     `json:"org"`
	Number      string     `json:"number"`
	Person      string     `json:"person,omitempty"`
	Channel     string     `json:"channel"`
	GivenAt     time.Time  `json:"given_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	Source      string     `json:"source,omitempty"`
	EvidenceRef string     `json:"evidence_ref,omitempty"`
	CreatedAt   time.Time  `json:"created_at,omitzero"`
}

func viewConsent(c objections.Consent) consentView {
	return consentView{ID: c.ID, Org: c.Org, Number: c.Number, Person: c.PersonID, Channel: string(c.Channel),
		GivenAt: c.GivenAt, WithdrawnAt: c.WithdrawnAt, Source: c.Source, EvidenceRef: c.EvidenceRef, CreatedAt: c.CreatedAt}
}

// decisionView is a callability answer.
type decisionView struct {
	Number    string        `json:"number"`
	Org       string        `json:"org"`
	Person    string        `json:"person,omitempty"`
	At        time.Time     `json:"at"`
	Callable  bool          `json:"callable"`
	Basis     string        `json:"basis"`
	Reasons   []string      `json:"reasons"`
	Objection *blockingView `json:"objection"`
	// ListVersion is the event log position the facts were read at: the
	// version of the suppression list behind the answer.
	ListVersion int64 `json:"list_version"`
}

func viewDecision(d objections.Decision) decisionView {
	v := decisionView{Number: d.Number, Org: d.Org, Person: d.PersonID, At: d.At, Callable: d.Callable,
		Basis: string(d.Basis), Reasons: make([]string, len(d.Reasons)), ListVersion: d.ListVersion}
	for i, r := range d.Reasons {
		v.Reasons[i] = string(r)
	}
	if o := d.Objection; o != nil {
		scope := "number"
		if o.Number != d.Number {
			scope = "person"
		}
		v.Objection = &blockingView{ID: o.ID, ReceivedAt: o.ReceivedAt, Source: string(o.Source), Scope: scope}
	}
	return v
}

// tokenView is a token as listed: never its secret or hash.
type tokenView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// Orgs is the token's scope; empty: every org.
	Orgs      []string   `json:"orgs"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Token is the bearer string, only in the answer that created it.
	Token string `json:"token,omitempty"`
}

func viewToken(t access.Token) tokenView {
	orgs := []string(t.Orgs)
	if orgs == nil {
		orgs = []string{}
	}
	return tokenView{ID: t.ID, Name: t.Name, Role: string(t.Role), Orgs: orgs, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, RevokedAt: t.RevokedAt}
}

// page is a list answer with its cursor.
type page[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}
