package prompts

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// textPrompt returns a Prompt with only its text parsed, for Render tests.
func textPrompt(tb testing.TB, text string) Prompt {
	tb.Helper()
	segs, err := parseText(text)
	if err != nil {
		tb.Fatalf("parseText(%q): %v", text, err)
	}
	return Prompt{ID: Offer, Lang: "nl", Text: text, segs: segs, orgText: "deze organisatie"}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		text string
		vars Vars
		want string
	}{
		{"no placeholders", "Dank u wel.", Vars{Org: "X"}, "Dank u wel."},
		{"org and default keys", "Niet meer door {org}? Druk {key_object}, anders {key_decline}.",
			Vars{Org: "Voorbeeld Goede Doelen"}, "Niet meer door Voorbeeld Goede Doelen? Druk 1, anders 2."},
		{"custom keys", "Druk {key_object} of {key_decline}.", Vars{KeyObject: "9", KeyDecline: "0"}, "Druk 9 of 0."},
		{"empty org uses generic wording", "Niet meer door {org}.", Vars{}, "Niet meer door deze organisatie."},
		{"org ID does not change the text", "Door {org}.", Vars{OrgID: "voorbeeld", Org: "Voorbeeld"}, "Door Voorbeeld."},
		{"placeholders only", "{org}{key_object}{key_decline}", Vars{Org: "A"}, "A12"},
		{"repeated placeholder", "{org}, ja {org}.", Vars{Org: "B"}, "B, ja B."},
		{"non-ASCII text", "Één keer: {org} – druk {key_object}.", Vars{Org: "Café Ö"}, "Één keer: Café Ö – druk 1."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := textPrompt(t, tc.text).Render(tc.vars); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", "empty"},
		{"blank", "  \t ", "empty"},
		{"two lines", "Dank u.\nTot ziens.", "more than one line"},
		{"carriage return", "Dank u.\rTot ziens.", "more than one line"},
		{"invalid UTF-8", "Dank \xff u", "UTF-8"},
		{"too long", strings.Repeat("a", maxTextRunes+1), "at most 300"},
		{"unknown placeholder", "Door {naam}.", "unknown placeholder {naam}"},
		{"empty placeholder", "Door {}.", "unknown placeholder {}"},
		{"upper case placeholder", "Door {ORG}.", "unknown placeholder {ORG}"},
		{"unclosed", "Door {org.", "unmatched {"},
		{"nested", "Door {{org}}.", "unmatched {"},
		{"stray close", "Door org}.", "unmatched }"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseText(tc.text)
			if !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseText error = %v, want ErrInvalidText containing %q", err, tc.want)
			}
		})
	}
}

func TestFragmentNames(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"one piece", "Dank u wel.", []string{"offer"}},
		{"split at org", "Door {org} gebeld.", []string{"offer-1", "offer-2"}},
		{"punctuation only after placeholder", "Door {org}.", []string{"offer"}},
		{"placeholder first", "{org} belt niet.", []string{"offer"}},
		{"only placeholders", "{org}, {key_object}.", []string{}},
		{"offer shape", "Door {org} gebeld? Druk {key_object}. Druk {key_decline} als u wel wilt.",
			[]string{"offer-1", "offer-2", "offer-3", "offer-4"}},
		{"digits count as spoken", "{org} 112 {key_object}", []string{"offer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, err := parseText(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := fragmentNames(Offer, segs); !slices.Equal(got, tc.want) {
				t.Errorf("fragmentNames = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVarsKeys(t *testing.T) {
	tests := []struct {
		name        string
		vars        Vars
		wantObject  string
		wantDecline string
		wantErr     error
	}{
		{"defaults", Vars{}, "1", "2", nil},
		{"custom", Vars{KeyObject: "9", KeyDecline: "0"}, "9", "0", nil},
		{"only decline set", Vars{KeyDecline: "3"}, "1", "3", nil},
		{"same key", Vars{KeyObject: "2"}, "", "", ErrInvalidKey},
		{"star", Vars{KeyObject: "*"}, "", "", ErrInvalidKey},
		{"hash", Vars{KeyDecline: "#"}, "", "", ErrInvalidKey},
		{"two digits", Vars{KeyObject: "12"}, "", "", ErrInvalidKey},
		{"letter", Vars{KeyObject: "A"}, "", "", ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			object, decline, err := tc.vars.keys()
			if object != tc.wantObject || decline != tc.wantDecline || !errors.Is(err, tc.wantErr) {
				t.Errorf("keys() = %q, %q, %v; want %q, %q, %v", object, decline, err, tc.wantObject, tc.wantDecline, tc.wantErr)
			}
		})
	}
}
