package review

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// The evidence pack in the UI: for a number (and a person), what one org
// holds and why it called — the bases held, every call with the words
// played and the key times, every objection and withdrawal, every dial
// attempt an objection stopped, and a check of the hash chain behind
// these records — on a page a supervisor prints, or saves as a PDF from
// the browser, to send to the consumer or the regulator, in Dutch or
// English (the pack's own choice, apart from the UI's). It reads what the
// API's pack reads (objections.GatherEvidence). Only for the user's own
// orgs, as in the API: another org's pack is not found. Every pack shown
// is audited first.

// maxChainRecords bounds the records whose events one pack checks; a pack
// with more says so (verzet verify checks the whole chain).
const maxChainRecords = 200

// evidenceForm is the pack asked for.
type evidenceForm struct {
	Number, Org, Person, Lang string
}

func (f evidenceForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"number": f.Number, "org": f.Org, "person": f.Person, "lang": f.Lang} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type evidenceData struct {
	Form   evidenceForm
	Orgs   []objections.Org
	Error  string
	Search numberSearch
	// Pack is nil until a number and an org are chosen.
	Pack *packView
	// LangURL is the pack in the other language.
	LangURL string
}

// packView is the pack as the page shows it.
type packView struct {
	objections.Evidence
	Org       objections.Org
	National  string
	By        string
	Calls     []packCall
	Objection []packObjection
	Chain     chainCheck
}

type packCall struct {
	O        objections.Offer
	Words    string
	Verified bool
	Known    bool // the words are in the catalogue
}

type packObjection struct {
	O         objections.Objection
	FirstStop time.Time
	Latency   time.Duration
}

// chainCheck is what the pack's check of the event log found.
type chainCheck struct {
	// Events is how many events of the pack's records were checked;
	// Linked how many of them were also checked against the event before.
	Events, Linked int
	// Problems name each event that did not check out.
	Problems []string
	// Limited is set when the pack had more records than were checked.
	Limited bool
}

// OK reports whether every event checked out.
func (c chainCheck) OK() bool { return len(c.Problems) == 0 }

func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	scope := v.User.Orgs
	q := r.URL.Query()
	form := evidenceForm{Number: strings.TrimSpace(q.Get("number")), Org: strings.ToLower(strings.TrimSpace(q.Get("org"))),
		Person: strings.TrimSpace(q.Get("person")), Lang: q.Get("lang")}
	if !known(form.Lang) {
		form.Lang = ""
	}
	l := s.lexicon(r)
	if form.Lang != "" {
		l = lexicon{Lang: form.Lang}
	}
	orgs, err := s.reg.Store().Orgs(ctx)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	d := evidenceData{Form: form, Orgs: writableOrgs(scope, orgs)}
	if form.Org == "" && len(d.Orgs) == 1 {
		d.Form.Org, form.Org = d.Orgs[0].ID, d.Orgs[0].ID
	}
	show := func(status int) {
		p := s.newPage(r, "evidence.title", "evidence", d)
		p.L, p.Title = l, l.T("evidence.title")
		s.render(w, r, status, "evidence", p)
	}
	if form.Number == "" && form.Person == "" {
		show(http.StatusOK)
		return
	}
	var org *objections.Org
	for _, o := range d.Orgs {
		if o.ID == form.Org {
			org = &o
		}
	}
	if org == nil {
		if form.Org != "" && !scope.Has(form.Org) {
			// Another org's pack: not found, as in the API.
			s.errorPage(w, r, http.StatusNotFound, "error.notFound")
			return
		}
		d.Error = l.T("record.needOrg")
		show(http.StatusUnprocessableEntity)
		return
	}
	ns, key, err := s.resolveNumber(ctx, form.Number, org.ID, scope, func(n string) string {
		f := form
		f.Number = n
		return "/ui/evidence?" + f.values().Encode()
	})
	if err != nil {
		s.fail(w, r, "find numbers", err)
		return
	}
	d.Search = ns
	switch {
	case key != "":
		d.Error = l.T(key, form.Number)
	case form.Number == "":
		d.Error = l.T("evidence.needNumber")
	}
	if d.Error != "" {
		show(http.StatusUnprocessableEntity)
		return
	}
	if ns.Ambiguous() {
		show(http.StatusOK)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditView, ns.Number, "evidence pack "+auditKV("org", org.ID, "person", form.Person, "lang", l.Lang),
		access.Scope{org.ID}); err != nil {
		s.fail(w, r, "audit evidence pack", err)
		return
	}
	if d.Pack, err = s.pack(ctx, r, l, *org, ns.Number, form.Person, v.User.Name); err != nil {
		s.fail(w, r, "gather evidence", err)
		return
	}
	other := form
	other.Number, other.Lang = ns.Number, l.Other()
	d.LangURL = "/ui/evidence?" + other.values().Encode()
	show(http.StatusOK)
}

// pack gathers org's evidence on number and person and prepares it for
// the page in language l.
func (s *Server) pack(ctx context.Context, r *http.Request, l lexicon, org objections.Org, number, person, by string) (*packView, error) {
	st := s.reg.Store()
	src := objections.EvidenceSource{Facts: st.Facts, Offers: st}
	if s.decisions != nil {
		src.Log = s.decisions
	}
	ev, err := objections.GatherEvidence(ctx, src, org.ID, number, person, s.reg.Now())
	if err != nil {
		return nil, err
	}
	p := &packView{Evidence: ev, Org: org, National: s.reg.Numbers().National(number), By: by}
	type promptKey struct{ org, lang, id, version, hash string }
	words := map[promptKey]PromptText{}
	for _, o := range ev.Offers {
		c := packCall{O: o}
		if s.cfg.PromptText != nil {
			k := promptKey{o.Org, o.Language, o.PromptID, o.PromptVersion, o.PromptHash}
			pt, ok := words[k]
			if !ok {
				if pt, ok = s.cfg.PromptText(ctx, o); ok {
					words[k] = pt
				}
			} else {
				ok = true
			}
			c.Words, c.Verified, c.Known = pt.Text, pt.Verified, ok
		}
		p.Calls = append(p.Calls, c)
	}
	for _, o := range ev.Facts.Objections {
		po := packObjection{O: o}
		if at, ok := ev.FirstBlocks[o.ID]; ok {
			po.FirstStop, po.Latency = at, at.Sub(o.ReceivedAt)
		}
		p.Objection = append(p.Objection, po)
	}
	if p.Chain, err = s.checkChain(ctx, l, ev); err != nil {
		return nil, err
	}
	return p, nil
}

// checkChain checks the events of the pack's records in the hash-chained
// log: each event's hash is recomputed from its contents, its payload
// names the record shown, and the event of each objection and withdrawal
// is checked against the event before it. It reads the events of at most
// maxChainRecords records; the whole chain is what verzet verify checks.
func (s *Server) checkChain(ctx context.Context, l lexicon, ev objections.Evidence) (chainCheck, error) {
	var c chainCheck
	type record struct {
		id, number string
		linked     bool
	}
	var recs []record
	for _, o := range ev.Facts.Objections {
		recs = append(recs, record{o.ID, o.Number, true})
	}
	for _, o := range ev.Offers {
		recs = append(recs, record{o.ID, o.Number, false})
	}
	if len(recs) > maxChainRecords {
		recs, c.Limited = recs[:maxChainRecords], true
	}
	for _, rec := range recs {
		events, err := s.records.EventsFor(ctx, rec.id)
		if err != nil {
			return c, err
		}
		if len(events) == 0 {
			c.Problems = append(c.Problems, l.T("chain.missing", rec.id))
			continue
		}
		for _, e := range events {
			c.Events++
			if e.ComputeHash() != e.Hash {
				c.Problems = append(c.Problems, l.T("chain.edited", e.Seq))
				continue
			}
			if e.Kind != objections.EventObjectionVoided {
				var payload struct {
					ID     string `json:"id"`
					Number string `json:"number"`
				}
				if json.Unmarshal(e.Payload, &payload) != nil || payload.ID != rec.id || payload.Number != rec.number {
					c.Problems = append(c.Problems, l.T("chain.differs", e.Seq))
					continue
				}
			}
			if !rec.linked {
				continue
			}
			prevHash := objections.GenesisHash
			if e.Seq > 1 {
				prev, err := s.reg.Store().Events(ctx, e.Seq-2, 1)
				if err != nil {
					return c, err
				}
				if len(prev) != 1 || prev[0].Seq != e.Seq-1 {
					c.Problems = append(c.Problems, l.T("chain.gap", e.Seq))
					continue
				}
				prevHash = prev[0].Hash
			}
			if e.PrevHash != prevHash {
				c.Problems = append(c.Problems, l.T("chain.unlinked", e.Seq))
				continue
			}
			c.Linked++
		}
	}
	return c, nil
}
