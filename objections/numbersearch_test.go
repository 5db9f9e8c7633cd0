package objections_test

import (
	"testing"

	"github.com/verzet/verzet/objections"
)

func TestNational(t *testing.T) {
	nl := objections.Numbers{Region: "NL"}
	for _, tc := range []struct{ in, want string }{
		{"+31612345678", "06 1234 5678"},
		{"+31205550123", "020 555 0123"},
		{"+31800123456", "0800 123456"},
		{"+32470123456", "+32 470 12 34 56"},
		{"", ""},
		{"not a number", "not a number"},
	} {
		if got := nl.National(tc.in); got != tc.want {
			t.Errorf("National(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := (objections.Numbers{Region: "BE"}).National("+32470123456"); got != "0470 12 34 56" {
		t.Errorf("a Belgian number in BE = %q", got)
	}
}

func TestPartial(t *testing.T) {
	nl := objections.Numbers{Region: "NL"}
	for _, tc := range []struct {
		typed          string
		ok             bool
		suffix, prefix string
	}{
		{"5678", true, "5678", ""},
		{" 56-78 ", true, "5678", ""},
		{"345678", true, "345678", ""},
		{"678", false, "", ""},
		{"06 1234", true, "", "+3161234"},
		{"0612", true, "", "+31612"},
		{"061", false, "", ""},
		{"+31 6 12", true, "", "+31612"},
		{"+31 (0)6 12", true, "", "+31612"},
		{"0031 6 12", true, "", "+31612"},
		{"+316", false, "", ""},
		{"06 1234 abcd", false, "", ""},
		{"1234567890123456", false, "", ""},
		{"", false, "", ""},
	} {
		m, ok := nl.Partial(tc.typed)
		if ok != tc.ok || m.Suffix != tc.suffix || m.Prefix != tc.prefix {
			t.Errorf("Partial(%q) = %+v %v, want %q %q %v", tc.typed, m, ok, tc.suffix, tc.prefix, tc.ok)
		}
	}
}

func TestNumberMatchRange(t *testing.T) {
	for _, tc := range []struct {
		m          objections.NumberMatch
		lo, hi     string
		onReversed bool
	}{
		{objections.NumberMatch{Suffix: "5678"}, "8765", "8766", true},
		{objections.NumberMatch{Suffix: "9765"}, "5679", "567:", true},
		{objections.NumberMatch{Prefix: "+31612"}, "+31612", "+31613", false},
		{objections.NumberMatch{Prefix: "+31619"}, "+31619", "+3161:", false},
	} {
		lo, hi, rev := tc.m.Range()
		if lo != tc.lo || hi != tc.hi || rev != tc.onReversed {
			t.Errorf("%+v: %q %q %v, want %q %q %v", tc.m, lo, hi, rev, tc.lo, tc.hi, tc.onReversed)
		}
		if !(lo < hi) {
			t.Errorf("%+v: empty range", tc.m)
		}
	}
}
