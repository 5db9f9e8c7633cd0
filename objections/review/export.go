package review

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Exports people open in a spreadsheet. The UI's CSV is written for the
// reader: headers and values (source, status, outcome, yes/no) in the
// UI's language, times in Europe/Amsterdam with their offset, numbers
// also as the supervisor writes them. Two flavours, both offered on the
// page: "excel", separated by semicolons and starting with a UTF-8 byte
// order mark, which is what a spreadsheet set to Dutch expects (the
// first choice in Dutch), and "csv", comma-separated without a mark (the
// first choice in English). The API's exports keep their documented,
// machine-readable format (objections.ExportHeader).

// exportFormat is how a CSV export is written.
type exportFormat struct {
	Comma rune
	BOM   bool
}

var (
	formatExcel = exportFormat{Comma: ';', BOM: true}
	formatCSV   = exportFormat{Comma: ','}
)

// exportFormatOf reads ?format=, defaulting by language; ok is false for
// an unknown one.
func exportFormatOf(l lexicon, v string) (exportFormat, bool) {
	switch v {
	case "excel":
		return formatExcel, true
	case "csv":
		return formatCSV, true
	case "":
		if l.Lang == "nl" {
			return formatExcel, true
		}
		return formatCSV, true
	}
	return exportFormat{}, false
}

// exportLinks are the two export links of a page: the language's first
// choice and the other.
type exportLinks struct {
	Primary, PrimaryText, Secondary, SecondaryText string
}

func exportOf(l lexicon, base string) exportLinks {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	excel := exportLinks{Primary: base + sep + "format=excel", PrimaryText: l.T("export.excel"),
		Secondary: base + sep + "format=csv", SecondaryText: l.T("export.csvOther")}
	if l.Lang == "nl" {
		return excel
	}
	return exportLinks{Primary: excel.Secondary, PrimaryText: l.T("export.csv"), Secondary: excel.Primary, SecondaryText: l.T("export.excelOther")}
}

// exportWriter writes the rows of one export.
type exportWriter struct {
	l  lexicon
	cw *csv.Writer
}

// startExport sends the headers of a CSV download named name (without
// extension) and the header row, and returns the writer of the rows.
func startExport(w http.ResponseWriter, l lexicon, f exportFormat, name string, now time.Time, columns []string) *exportWriter {
	file := name + "-" + now.In(objections.Amsterdam()).Format("20060102-1504") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	h.Set("Cache-Control", "no-store")
	if f.BOM {
		_, _ = io.WriteString(w, "\uFEFF") // a failed write shows in cw.Error
	}
	cw := csv.NewWriter(w)
	cw.Comma = f.Comma
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = l.T("csv." + c)
	}
	_ = cw.Write(head)
	return &exportWriter{l: l, cw: cw}
}

// row writes one row; every cell goes through objections.CSVSafe.
func (e *exportWriter) row(cells ...string) {
	for i := range cells {
		cells[i] = objections.CSVSafe(cells[i])
	}
	_ = e.cw.Write(cells)
}

// flush sends what is buffered; false when the client is gone.
func (e *exportWriter) flush() bool {
	e.cw.Flush()
	return e.cw.Error() == nil
}

// exportTime is t in Europe/Amsterdam with its offset, "" when unset.
func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(objections.Amsterdam()).Format("2006-01-02 15:04:05 -07:00")
}

func (e *exportWriter) yesNo(b bool) string {
	if b {
		return e.l.T("yes")
	}
	return e.l.T("no")
}

// objectionColumns are the columns of the UI's objection export.
var objectionColumns = []string{"received_at", "number", "number_e164", "raw_number", "org", "agency", "agency_unlisted",
	"campaign_ref", "source", "status", "voided_at", "voided_by", "void_reason", "person_id", "note", "actor",
	"provider", "call_ref", "dialer_call_ref", "lead_ref", "agent_ref", "offer_id", "id"}

func (e *exportWriter) objection(nums objections.Numbers, o objections.Objection) {
	var voidedAt, voidedBy, reason string
	if o.Void != nil {
		voidedAt, voidedBy, reason = exportTime(o.Void.At), o.Void.Actor, o.Void.Reason
	}
	e.row(exportTime(o.ReceivedAt), nums.National(o.Number), o.Number, o.RawNumber, o.Org, o.Agency, e.yesNo(o.AgencyUnlisted),
		o.CampaignRef, e.l.T("source."+string(o.Source)), e.l.T("status."+string(o.Status)), voidedAt, voidedBy, reason,
		o.PersonID, o.Note, o.Actor, o.Provider, o.CallRef, o.DialerCallRef, o.LeadRef, o.AgentRef, o.OfferID, o.ID)
}

// offerColumns are the columns of the UI's call export.
var offerColumns = []string{"started_at", "ended_at", "number", "number_e164", "org", "agency", "campaign_ref", "agent_ref",
	"outcome", "keys", "played", "barge_in", "announced", "ended_by", "language", "prompt_id", "prompt_version",
	"objection_id", "provider", "call_ref", "dialer_call_ref", "lead_ref", "presented_number", "prompt_hash", "id"}

func (e *exportWriter) offer(nums objections.Numbers, o objections.Offer) {
	keys := make([]string, len(o.Keys))
	for i, k := range o.Keys {
		keys[i] = k.Digit + " " + k.At.In(objections.Amsterdam()).Format("15:04:05.000")
	}
	endedBy := ""
	if o.EndedBy != "" {
		endedBy = e.l.T("endedBy." + o.EndedBy)
	}
	e.row(exportTime(o.StartedAt), exportTime(o.EndedAt), nums.National(o.Number), o.Number, o.Org, o.Agency, o.CampaignRef,
		o.AgentRef, e.l.T("outcome."+string(o.Outcome)), strings.Join(keys, ", "), e.l.Seconds(o.PlayedMS), e.yesNo(o.BargeIn),
		e.yesNo(o.Announced), endedBy, o.Language, o.PromptID, o.PromptVersion, o.ObjectionID, o.Provider, o.CallRef,
		o.DialerCallRef, o.LeadRef, o.PresentedNumber, o.PromptHash, o.ID)
}

// exportCalls streams the calls of the current filter that the user sees,
// oldest first, in pages; audited with its filter before the first byte.
func (s *Server) exportCalls(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerFrom(ctx)
	l := s.lexicon(r)
	form := readCallForm(r.URL.Query())
	d := callsData{Form: form, Outcomes: allOutcomes}
	format, ok := exportFormatOf(l, r.URL.Query().Get("format"))
	if !ok {
		d.Error = l.T("export.badFormat", r.URL.Query().Get("format"))
	}
	f, found, err := s.readCallFilter(ctx, r, &d)
	if err != nil {
		s.fail(w, r, "find numbers", err)
		return
	}
	if d.Error == "" && !found {
		d.Error = l.T("filter.ambiguous", form.Q)
	}
	if d.Error != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "calls", s.newPage(r, "calls.title", "calls", d))
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditExport, "calls", describeOfferFilter(f), v.User.Orgs.AuditOrgs(f.Org)); err != nil {
		s.fail(w, r, "audit export", err)
		return
	}
	ew := startExport(w, l, format, "verzet-calls", s.cfg.Now(), offerColumns)
	nums := s.reg.Numbers()
	f.Limit = 1000
	n := 0
	for {
		page, err := s.reg.Store().Offers(ctx, f)
		if err != nil {
			// Headers are sent: the truncated file is all the client gets.
			s.log.Error("export calls", zap.Int("rows", n), zap.Error(err))
			return
		}
		for _, o := range page {
			ew.offer(nums, o)
			n++
		}
		if !ew.flush() || len(page) < f.PageLimit() {
			return
		}
		f.After = page[len(page)-1].ID
	}
}

// describeOfferFilter says what a call export held, for the audit log.
func describeOfferFilter(f objections.OfferFilter) string {
	var since, until string
	if !f.Since.IsZero() {
		since = f.Since.UTC().Format(time.RFC3339)
	}
	if !f.Until.IsZero() {
		until = f.Until.UTC().Format(time.RFC3339)
	}
	d := auditKV("number", f.Number, "org", f.Org, "campaign", f.Campaign, "outcome", string(f.Outcome), "agent", f.Agent,
		"since", since, "until", until)
	if d == "" {
		return "all calls"
	}
	return d
}
