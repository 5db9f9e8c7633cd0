package objections

import (
	"slices"
	"testing"
	"time"
)

func TestCSVSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"+31612345678", "+31612345678"},
		{"+31 (0)6-1234 5678", "+31 (0)6-1234 5678"},
		{"-", "-"},
		{"=1+1", "'=1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+cmd|' /c calc'!A0", "'+cmd|' /c calc'!A0"},
		{"-2+3", "-2+3"},
		{"-x", "'-x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"spring", "spring"},
	} {
		if got := CSVSafe(tc.in); got != tc.want {
			t.Errorf("CSVSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExportRow(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 123000000, time.UTC)
	o := Objection{ID: "01KJPWD6M1753ZJ2RH6KSYZ54B", Org: "acme", Number: "+31612345678", RawNumber: "06 1234 5678",
		PersonID: "p1", Source: SourceAPI, Provider: "api", CallRef: "c1", DialerCallRef: "d1", CampaignRef: "=spring",
		LeadRef: "l1", AgentRef: "a1", OfferID: "o1", ReceivedAt: at, Status: StatusVoided, Note: "@note",
		Void: &Void{Actor: "sam", Reason: "+wrong", At: at.Add(time.Hour)}, Agency: "callcenter1", AgencyUnlisted: true}
	want := []string{"01KJPWD6M1753ZJ2RH6KSYZ54B", "acme", "+31612345678", "06 1234 5678", "p1", "api", "api", "c1",
		"d1", "'=spring", "l1", "a1", "o1", "2026-03-01T08:00:00.123Z", "voided", "2026-03-01T09:00:00.123Z", "sam",
		"'+wrong", "'@note", "callcenter1", "true"}
	if got := ExportRow(o); !slices.Equal(got, want) {
		t.Fatalf("ExportRow =\n%q\nwant\n%q", got, want)
	}
	if len(ExportHeader()) != len(want) {
		t.Fatalf("header has %d columns, a row %d", len(ExportHeader()), len(want))
	}
	// Not voided: the void columns are empty.
	o.Void, o.Status = nil, StatusActive
	row := ExportRow(o)
	if row[14] != "active" || row[15] != "" || row[16] != "" || row[17] != "" {
		t.Fatalf("active row = %q", row)
	}
	// Without an agency: the agency is empty, the flag false.
	o.Agency, o.AgencyUnlisted = "", false
	if row := ExportRow(o); row[19] != "" || row[20] != "false" {
		t.Fatalf("row without an agency = %q", row)
	}
}

func TestOfferExportRow(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	o := Offer{ID: "01KJPWD6M1753ZJ2RH6KSYZ54C", Org: "acme", Number: "+31612345678", PresentedNumber: "+31201234567",
		Provider: "twilio", CallRef: "CA1", DialerCallRef: "d1", CampaignRef: "spring", LeadRef: "-lead", AgentRef: "a1",
		Announced: true, PromptID: "offer", PromptVersion: "3", Language: "nl", PromptHash: "sha256:ab", PlayedMS: 4200,
		BargeIn: true, Keys: []Key{{Digit: "1", At: at.Add(3 * time.Second)}, {Digit: "#", At: at.Add(4500 * time.Millisecond)}},
		Outcome: OutcomeObjected, EndedBy: EndedByCaller, StartedAt: at, EndedAt: at.Add(10 * time.Second), ObjectionID: "01X"}
	want := []string{"01KJPWD6M1753ZJ2RH6KSYZ54C", "acme", "+31612345678", "+31201234567", "twilio", "CA1", "d1",
		"spring", "'-lead", "a1", "true", "2026-03-01T08:00:00Z", "2026-03-01T08:00:10Z", "offer", "3", "nl", "sha256:ab",
		"4200", "true", "1@2026-03-01T08:00:03Z #@2026-03-01T08:00:04.5Z", "objected", "caller", "01X"}
	if got := OfferExportRow(o); !slices.Equal(got, want) {
		t.Fatalf("OfferExportRow =\n%q\nwant\n%q", got, want)
	}
	if len(OfferExportHeader()) != len(want) {
		t.Fatalf("header has %d columns, a row %d", len(OfferExportHeader()), len(want))
	}
	// No keys, no end: empty cells, not a zero time.
	row := OfferExportRow(Offer{ID: "x", StartedAt: at, Outcome: OutcomeNoInput})
	if row[12] != "" || row[19] != "" || row[17] != "0" || row[10] != "false" {
		t.Fatalf("bare offer row = %q", row)
	}
}
