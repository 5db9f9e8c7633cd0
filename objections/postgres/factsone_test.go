package postgres

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestParseArrayMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`["a", 1, -2.5e3, true, false, null, "", "x\"y\\z\u00e9\n", "日本"]`,
		`[]`, `[ "a" , "b" ]`, `[1]`,
	} {
		got, rest, err := parseArray([]byte(in))
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: %v %q", in, err, rest)
		}
		var want []any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if n, ok := got[i].(json.Number); ok {
				f, _ := n.Float64()
				got[i] = f
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{``, `[`, `["a`, `["a" "b"]`, `[x]`, `{}`} {
		if _, _, err := parseArray([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	rows, err := jsonRows([]byte(`[["a", null], ["b", 2]]`))
	if err != nil || len(rows) != 2 || rows[1].str(0) != "b" || rows[1].int(1) != 2 || !rows[0].null(1) {
		t.Fatalf("rows = %v, %v", rows, err)
	}
}

// Whatever encoding/json reads as an array of scalars, parseArray reads the
// same (the arrays come from PostgreSQL's json_build_array).
func FuzzParseArray(f *testing.F) {
	for _, s := range []string{`["a", 1, -2.5e3, true, false, null]`, `["x\"y\\z\u00e9\n"]`, `[]`, `[ 1 , "2" ]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want []any
		if json.Unmarshal([]byte(in), &want) != nil {
			return
		}
		for _, v := range want {
			switch v.(type) {
			case []any, map[string]any:
				return
			}
		}
		got, rest, err := parseArray([]byte(in))
		if err != nil || len(bytesTrim(rest)) != 0 {
			t.Fatalf("%q: %v, rest %q", in, err, rest)
		}
		for i := range got {
			if n, ok := got[i].(json.Number); ok {
				f, _ := n.Float64()
				got[i] = f
			}
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("%q: %#v, want %#v", in, got, want)
		}
	})
}

func bytesTrim(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	return s
}
