package objections

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// How people write and look for numbers: a supervisor types what the
// customer says, often only its last digits ("the number ending in
// 5678") or its beginning, and reads numbers the way they are written at
// home (06 1234 5678), while the register keeps E.164.

// National writes an E.164 number the way it is written in the
// normaliser's region: 06 1234 5678, 020 555 0123; a number of another
// country in its international form (+32 470 12 34 56). A number it
// cannot read is returned as it is.
func (n Numbers) National(e164 string) string {
	pn, err := phonenumbers.Parse(e164, n.region())
	if err != nil || e164 == "" {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(pn) != n.region() {
		return phonenumbers.Format(pn, phonenumbers.INTERNATIONAL)
	}
	s := phonenumbers.Format(pn, phonenumbers.NATIONAL)
	// Dutch mobile numbers are written 06 1234 5678, not 06 12345678.
	if rest, ok := strings.CutPrefix(s, "06 "); ok && n.region() == "NL" && len(rest) == 8 && strings.Trim(rest, "0123456789") == "" {
		s = "06 " + rest[:4] + " " + rest[4:]
	}
	return s
}

func (n Numbers) region() string {
	if n.Region == "" {
		return DefaultRegion
	}
	return n.Region
}

// MinPartialDigits is the fewest digits a partial number needs: fewer
// match too many numbers to be a search.
const MinPartialDigits = 4

// NumberMatch selects the numbers of the register that end in Suffix
// (digits), or begin with Prefix (an E.164 beginning, "+31612"): the
// candidates for a partial number a supervisor typed.
type NumberMatch struct {
	Suffix string
	Prefix string
	// Org and Scope restrict the records searched, as in ObjectionFilter.
	Org   string
	Scope []string
	Limit int // default 20, at most 100
}

// PageLimit returns the effective number of candidates of m.
func (m NumberMatch) PageLimit() int {
	switch {
	case m.Limit <= 0:
		return 20
	case m.Limit > 100:
		return 100
	}
	return m.Limit
}

// Range returns the bounds lo <= v < hi of the column a store searches:
// the number reversed for a suffix (reversed reports it), else the number.
// Both are in byte order, so a store compares them with a binary
// collation; every character is a digit or '+', and the byte after the
// last one of lo bounds the range.
func (m NumberMatch) Range() (lo, hi string, reversed bool) {
	lo, reversed = m.Prefix, false
	if m.Suffix != "" {
		b := []byte(m.Suffix)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		lo, reversed = string(b), true
	}
	if lo == "" {
		return "", "", reversed
	}
	return lo, lo[:len(lo)-1] + string(lo[len(lo)-1]+1), reversed
}

// Partial reads what a supervisor typed as a partial number: the last
// digits ("5678", at least MinPartialDigits), or a beginning written with
// a country code ("+31 6 1234", "0031 6 1234") or nationally ("06 1234",
// read in the normaliser's region). ok is false for anything else: a
// number too short, letters, or a number with more digits than E.164
// allows. Spaces, dots, dashes and brackets are ignored, as is "(0)".
func (n Numbers) Partial(typed string) (m NumberMatch, ok bool) {
	s := strings.Replace(strings.TrimSpace(typed), "(0)", "", 1)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case strings.ContainsRune(" .-()/", r):
		default:
			return NumberMatch{}, false
		}
	}
	d := b.String()
	var prefix string
	switch {
	case strings.HasPrefix(d, "+"):
		prefix = d
	case strings.HasPrefix(d, "00"):
		prefix = "+" + d[2:]
	case strings.HasPrefix(d, "0"):
		cc := phonenumbers.GetCountryCodeForRegion(n.region())
		if cc == 0 {
			return NumberMatch{}, false
		}
		prefix = "+" + itoa(cc) + d[1:]
	default:
		if len(d) < MinPartialDigits || len(d) > 15 {
			return NumberMatch{}, false
		}
		return NumberMatch{Suffix: d}, true
	}
	// A beginning needs the country code and a few digits more: "+31612"
	// ("0612" in NL), not "+316".
	if len(prefix) < 6 || len(prefix) > 16 {
		return NumberMatch{}, false
	}
	return NumberMatch{Prefix: prefix}, true
}
