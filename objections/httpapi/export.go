package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// exportObjections answers GET /v1/objections/export: every objection the
// filters of GET /v1/objections select, oldest first, as CSV (the columns
// of objections.ExportHeader, as the supervisor UI and `verzet objections
// export` write them) or, for Accept: application/x-ndjson, one list item
// a line. The export is audited, with its filter, before it is read.
func (s *Server) exportObjections(w http.ResponseWriter, r *http.Request, tok access.Token) {
	f, err := s.objectionFilter(r, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, access.AuditExport, "objections", auditDetail("format", exportFormat(r),
		"org", f.Org, "number", f.Number, "campaign", f.Campaign, "source", string(f.Source), "status", string(f.Status),
		"since", auditTime(f.Since), "until", auditTime(f.Until)), tok.Orgs.AuditOrgs(f.Org)); err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Limit = s.cfg.ExportPage
	streamExport(s, w, r, exportShape[objections.Objection]{
		name:   "objections",
		size:   f.PageLimit(),
		header: objections.ExportHeader(),
		row:    objections.ExportRow,
		item:   func(o objections.Objection) any { return viewObjection(o) },
		id:     func(o objections.Objection) string { return o.ID },
		page: func(ctx context.Context, after string) ([]objections.Objection, error) {
			f.After = after
			return s.store.Objections(ctx, f)
		},
	})
}

// exportOffers answers GET /v1/offers/export: every offer the filters of
// GET /v1/offers select, oldest first, as CSV (objections.OfferExportHeader)
// or NDJSON. The export is audited, with its filter, before it is read.
func (s *Server) exportOffers(w http.ResponseWriter, r *http.Request, tok access.Token) {
	f, err := s.offerFilter(r, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.audit(r, tok, access.AuditExport, "offers", auditDetail("format", exportFormat(r),
		"org", f.Org, "number", f.Number, "campaign", f.Campaign, "outcome", string(f.Outcome),
		"since", auditTime(f.Since), "until", auditTime(f.Until)), tok.Orgs.AuditOrgs(f.Org)); err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Limit = s.cfg.ExportPage
	streamExport(s, w, r, exportShape[objections.Offer]{
		name:   "offers",
		size:   f.PageLimit(),
		header: objections.OfferExportHeader(),
		row:    objections.OfferExportRow,
		item:   func(o objections.Offer) any { return o },
		id:     func(o objections.Offer) string { return o.ID },
		page: func(ctx context.Context, after string) ([]objections.Offer, error) {
			f.After = after
			return s.store.Offers(ctx, f)
		},
	})
}

// exportWriteWindow is how long one page of an export may take to write.
// The server's WriteTimeout bounds a whole response; an export of millions
// of records may take longer than that, so each page gets its own window:
// a client that stops reading still times out.
const exportWriteWindow = time.Minute

// exportShape is what streamExport needs to know of one kind of record.
type exportShape[T any] struct {
	name   string // in the file name: verzet-NAME-20260301-0900.csv
	size   int    // the page size page asks for
	header []string
	row    func(T) []string
	item   func(T) any    // the NDJSON line: the list route's item
	id     func(T) string // the cursor after a record
	// page reads the records after the one with id after ("" from the
	// first), at most size of them.
	page func(ctx context.Context, after string) ([]T, error)
}

// streamExport writes every record of x, page by page as the store gives
// them, so that memory stays flat whatever the export's length. A store
// error before the first byte is a problem document; one after it ends the
// response with a line saying why and an aborted transfer, so that a
// client can never take a partial file for a whole one.
func streamExport[T any](s *Server, w http.ResponseWriter, r *http.Request, x exportShape[T]) {
	ctx := r.Context()
	ndjson := exportFormat(r) == "ndjson"
	list, err := x.page(ctx, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ext, ct := ".csv", "text/csv; charset=utf-8"
	if ndjson {
		ext, ct = ".ndjson", "application/x-ndjson"
	}
	name := "verzet-" + x.name + "-" + s.now().In(objections.Amsterdam()).Format("20060102-1504") + ext
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	var cw *csv.Writer
	if !ndjson {
		cw = csv.NewWriter(bw)
		_ = cw.Write(x.header)
	}
	rows := 0
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
		for _, v := range list {
			if ndjson {
				b, _ := json.Marshal(x.item(v))
				_, _ = bw.Write(append(b, '\n'))
			} else {
				_ = cw.Write(x.row(v))
			}
		}
		rows += len(list)
		if cw != nil {
			cw.Flush()
		}
		if err := bw.Flush(); err != nil {
			// The client went away, or stopped reading: nothing more to
			// tell it, and no proper end either.
			panic(http.ErrAbortHandler)
		}
		_ = rc.Flush()
		if len(list) < x.size {
			return
		}
		if list, err = x.page(ctx, x.id(list[len(list)-1])); err != nil {
			break
		}
	}
	p := toProblem(err)
	if p.Status >= 500 && ctx.Err() == nil {
		s.log.Error("export failed midway", zapRoute(r), zap.Int("rows", rows),
			zap.Int("status", p.Status), zap.Error(err))
	}
	if ndjson {
		b, _ := json.Marshal(struct {
			Error problem `json:"error"`
		}{p})
		_, _ = bw.Write(append(b, '\n'))
	} else {
		// One field where a row has many: a CSV reader that checks the
		// field count stops here too.
		_ = cw.Write([]string{"error: " + p.Detail})
		cw.Flush()
	}
	_ = bw.Flush()
	_ = rc.Flush()
	// As in scrubFailed: net/http's one way to end a begun response
	// without its proper end. Nothing of ours recovers it.
	panic(http.ErrAbortHandler)
}
