package review

import (
	"context"
	"net/url"
	"strconv"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Search that forgives: the number field of a search takes a whole number
// in any format, or a part of one (its last digits, or its beginning). A
// part finds the numbers of the records the user sees that match it
// (objections.NumberMatch, a bounded range on an index): one is searched
// at once; several are offered to choose from.

// candidate is a number a partial search found.
type candidate struct {
	E164, National string
	URL            string // the search for it
}

// numberSearch is what the number field of a search found.
type numberSearch struct {
	Typed string
	// Number is the E.164 number to select by: the one typed, or the one
	// candidate its part found.
	Number string
	// Partial is set when what was typed is a part of a number; Match
	// says which.
	Partial bool
	Match   objections.NumberMatch
	// Candidates are the numbers a part found when it found more than
	// one (Number is then empty and the search selects nothing).
	Candidates []candidate
}

// Ambiguous reports whether a part was typed that did not find exactly
// one number: the page offers the candidates, or says there are none.
func (n numberSearch) Ambiguous() bool { return n.Partial && n.Number == "" }

// resolveNumber reads the typed number for a user of scope searching org
// ("" for all): link is the search for one candidate. key is the message
// of a number that cannot be read.
func (s *Server) resolveNumber(ctx context.Context, typed, org string, scope access.Scope, link func(e164 string) string) (numberSearch, string, error) {
	ns := numberSearch{Typed: typed}
	if typed == "" {
		return ns, "", nil
	}
	nums := s.reg.Numbers()
	if n, err := nums.Normalize(typed); err == nil {
		ns.Number = n
		return ns, "", nil
	}
	m, ok := nums.Partial(typed)
	if !ok {
		return ns, "filter.badNumber", nil
	}
	m.Org, m.Scope, m.Limit = org, scope, maxCandidates
	found, err := s.records.NumberCandidates(ctx, m)
	if err != nil {
		return ns, "", err
	}
	ns.Partial, ns.Match = true, m
	if len(found) == 1 {
		ns.Number = found[0]
		return ns, "", nil
	}
	for _, n := range found {
		ns.Candidates = append(ns.Candidates, candidate{E164: n, National: nums.National(n), URL: link(n)})
	}
	return ns, "", nil
}

// maxCandidates bounds the numbers a part offers.
const maxCandidates = 50

// withQuery returns path with the query v, q set to number.
func withQuery(path string, v url.Values, number string) string {
	c := url.Values{}
	for k, vs := range v {
		c[k] = vs
	}
	c.Set("q", number)
	c.Del("page")
	return path + "?" + c.Encode()
}

// matchText says what a part matched: "ending in 5678", "starting with
// 06 1234" (as typed).
type matchText struct{ Text string }

func matchOf(l lexicon, ns numberSearch) matchText {
	if ns.Match.Suffix != "" {
		return matchText{l.T("search.endingIn", ns.Match.Suffix)}
	}
	return matchText{l.T("search.startingWith", ns.Typed)}
}

// candidateList is the choice a part offers.
type candidateList struct {
	Heading, Help, None string
	Items               []candidate
}

func candidatesOf(l lexicon, ns numberSearch) candidateList {
	kind, part := "starting", ns.Typed
	if ns.Match.Suffix != "" {
		kind, part = "ending", ns.Match.Suffix
	}
	return candidateList{Heading: l.T("search.candidates."+kind, part), Help: l.T("search.choose", len(ns.Candidates), maxCandidates),
		None: l.T("search.none."+kind, part), Items: ns.Candidates}
}

// pageLinks returns the links to the pages before and after page of a
// newest-first list at path with the filter q, which shows shown of total
// items from offset; "" where there is none.
func (s *Server) pageLinks(path string, q url.Values, page, offset, shown, total int) (prev, next string) {
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if page > 1 {
		prev = link(page - 1)
	}
	if offset+shown < total && offset+s.cfg.PageSize <= objections.MaxSearchOffset {
		next = link(page + 1)
	}
	return prev, next
}

// The partial templates' data: each gets its language with it.

type orgSelectView struct {
	L      lexicon
	Orgs   []objections.Org
	Chosen string
	Any    string // the message of the option for no org; "" for none
}

func orgSelectOf(l lexicon, orgs []objections.Org, chosen, anyKey string) orgSelectView {
	return orgSelectView{l, orgs, chosen, anyKey}
}

type searchedView struct {
	L                  lexicon
	Num                objections.Numbers
	Search             numberSearch
	First, Last, Total int
}

func searchedOf(l lexicon, num objections.Numbers, ns numberSearch, first, last, total int) searchedView {
	return searchedView{l, num, ns, first, last, total}
}

type pagerView struct {
	L          lexicon
	Prev, Next string
}

func pagerOf(l lexicon, prev, next string) pagerView { return pagerView{l, prev, next} }

// choose is s when ok, else "".
func choose(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

// textsView is a partial template's language and one or two texts.
type textsView struct {
	L    lexicon
	A, B string
}

func textsOf(l lexicon, a string) textsView        { return textsView{L: l, A: a} }
func datesOf(l lexicon, from, to string) textsView { return textsView{L: l, A: from, B: to} }
