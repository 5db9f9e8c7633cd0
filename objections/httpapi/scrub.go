package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// reasonInvalidNumber is the scrub's reason code for a line that holds no
// usable number. It is not a decision reason: the number was never looked
// up.
const reasonInvalidNumber = "invalid_number"

// scrubItem is one number of a scrub list and its answer.
type scrubItem struct {
	line   int    // line (CSV) or position (JSON), from 1
	raw    string // as given
	number string // E.164 when valid
	err    error  // why the line holds no usable number
	d      objections.Decision
}

// scrubChunk is a batch of a scrub list on its way through the pipeline.
type scrubChunk struct {
	items []scrubItem
	done  chan struct{} // closed when items are decided or err is set
	err   error         // the store failed: the scrub cannot go on
}

// scrubCounts is the answer of ?summary=1.
type scrubCounts struct {
	Org         string         `json:"org"`
	Total       int            `json:"total"`
	Callable    int            `json:"callable"`
	NotCallable int            `json:"not_callable"`
	Invalid     int            `json:"invalid"`
	Reasons     map[string]int `json:"reasons"`
}

// scrub answers POST /v1/scrub: a list of numbers in (text/csv, one a line
// with an optional header naming a "number" column, or a JSON array of
// strings), an answer per line out in the same order (CSV number,callable,
// basis,reason, or NDJSON by Accept), or only the counts per reason with
// ?summary=1. The list is read, decided and written in batches as it
// streams, so memory stays flat whatever its length. A line without a
// usable number is answered with reason invalid_number; it does not stop
// the scrub. A failure that does (the store goes away, the body is cut
// off or too large) after the answer has begun ends the response without
// its proper end, so that a client can never take a partial answer for a
// whole one.
func (s *Server) scrub(w http.ResponseWriter, r *http.Request, tok access.Token) {
	if err := knownParams(r, "org", "summary"); err != nil {
		s.writeError(w, r, err)
		return
	}
	org, err := s.requestOrg(r, tok)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.checkAccess(r.Context(), tok, org); err != nil {
		s.writeError(w, r, err)
		return
	}
	summary := false
	switch v := r.URL.Query().Get("summary"); v {
	case "", "0", "false":
	case "1", "true":
		summary = true
	default:
		s.writeError(w, r, errInvalid("summary", v, "must be 1 or 0"))
		return
	}
	media, err := mediaOf(r, "text/csv", "text/plain", "application/json")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ndjson := accepts(r, "application/x-ndjson") || accepts(r, "application/ndjson")

	// Read the list while answering it (HTTP/1.1 needs to be told; HTTP/2
	// always can). Without it, a long list would stall once the response
	// headers went out.
	_ = http.NewResponseController(w).EnableFullDuplex()

	ctx, cancel := context.WithCancel(r.Context())
	workers := s.cfg.ScrubWorkers
	jobs := make(chan *scrubChunk)
	// ordered holds the chunks in list order for the writer; its size
	// bounds how much of the list is in memory at once.
	ordered := make(chan *scrubChunk, 2*workers)
	var (
		wg      sync.WaitGroup
		readErr error
	)
	wg.Go(func() {
		defer close(jobs)
		defer close(ordered)
		readErr = s.readScrubList(ctx, r.Body, media, func(c *scrubChunk) bool {
			select {
			case ordered <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- c:
				return true
			case <-ctx.Done():
				c.err = ctx.Err()
				close(c.done)
				return false
			}
		})
	})
	for range workers {
		wg.Go(func() {
			for c := range jobs {
				c.err = s.decideChunk(ctx, org, c.items)
				close(c.done)
			}
		})
	}
	// On every way out: stop the reader and the workers, then wait for them.
	defer func() { cancel(); wg.Wait() }()

	out := &scrubWriter{w: w, ndjson: ndjson, summary: summary,
		counts: scrubCounts{Org: org, Reasons: map[string]int{}}}
	for c := range ordered {
		<-c.done
		if c.err != nil {
			cancel()
			s.scrubFailed(w, r, out, c.err)
			return
		}
		out.write(c.items)
		for i := range c.items {
			if c.items[i].err == nil {
				s.metrics.observeDecision(c.items[i].d)
			}
		}
	}
	wg.Wait() // readErr is set once the reader is done
	if readErr != nil {
		s.scrubFailed(w, r, out, readErr)
		return
	}
	if summary {
		writeJSON(w, http.StatusOK, out.counts)
		return
	}
	if err := out.finish(); err != nil {
		// The client went away; nothing more to tell it.
		return
	}
}

// scrubFailed ends a scrub that cannot go on: a problem document when
// nothing was sent yet; otherwise a last line saying why, and an aborted
// response (no proper end of the chunked body), so that the client sees a
// failed transfer rather than a short list.
func (s *Server) scrubFailed(w http.ResponseWriter, r *http.Request, out *scrubWriter, err error) {
	if !out.started {
		s.writeError(w, r, err)
		return
	}
	p := toProblem(err)
	if p.Status >= 500 {
		s.log.Error("scrub failed midway", zap.Int("status", p.Status), zap.Error(err))
	}
	out.fail(p)
	// http.ErrAbortHandler is net/http's one way, on HTTP/1.1 and HTTP/2
	// alike, to end a response that has begun without its proper end; the
	// server recovers it without logging. Not a panic for control flow
	// inside verzet: nothing of ours recovers it.
	panic(http.ErrAbortHandler)
}

// readScrubList reads the list in chunks of ScrubBatch items and hands each
// to emit, which returns false to stop. It returns the error that ended the
// list early (a malformed JSON body, a body over the limit, a read error).
func (s *Server) readScrubList(ctx context.Context, body io.Reader, media string, emit func(*scrubChunk) bool) error {
	size := s.cfg.ScrubBatch
	c := &scrubChunk{items: make([]scrubItem, 0, size), done: make(chan struct{})}
	add := func(it scrubItem) bool {
		c.items = append(c.items, it)
		if len(c.items) < size {
			return true
		}
		ok := emit(c)
		c = &scrubChunk{items: make([]scrubItem, 0, size), done: make(chan struct{})}
		return ok
	}
	var err error
	if media == "application/json" {
		err = readJSONList(body, add)
	} else {
		err = readCSVList(body, add)
	}
	if err == nil && ctx.Err() == nil && len(c.items) > 0 {
		emit(c)
	}
	return err
}

// readCSVList reads one number a line. A first line naming a "number"
// column is a header, and that column is read; otherwise the first column
// is.
func readCSVList(body io.Reader, add func(scrubItem) bool) error {
	lim := newLineLimit(body, maxBulkLineLen)
	cr := csv.NewReader(bufio.NewReaderSize(lim, 64<<10))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	col, first, prev := 0, true, 0
	for {
		rec, err := readCSVLine(cr, lim, prev, "the scrub")
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			var pe *csv.ParseError
			var oe *objections.Error
			switch {
			case errors.As(err, &mbe), errors.As(err, &oe):
				return err
			case errors.As(err, &pe):
				prev = pe.Line
				if !add(scrubItem{line: pe.Line, err: errInvalid("number", "", "line is not valid CSV: "+pe.Err.Error())}) {
					return nil
				}
				continue
			}
			return errInvalid("body", "", "cannot be read: "+err.Error())
		}
		line, _ := cr.FieldPos(0)
		prev = line
		if first {
			first = false
			if h := headerColumn(rec); h >= 0 {
				col = h
				continue
			}
		}
		raw := ""
		if col < len(rec) {
			raw = strings.TrimSpace(rec[col])
		}
		if !add(scrubItem{line: line, raw: strings.Clone(echoInput(raw))}) {
			return nil
		}
	}
}

// headerColumn returns the index of the "number" column when rec is a
// header line, -1 otherwise.
func headerColumn(rec []string) int {
	for i, f := range rec {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")), "number") {
			return i
		}
	}
	return -1
}

// readJSONList reads a JSON array of strings, one at a time.
func readJSONList(body io.Reader, add func(scrubItem) bool) error {
	lim := newLineLimit(body, maxBulkLineLen)
	dec := json.NewDecoder(bufio.NewReaderSize(lim, 64<<10))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errInvalid("body", "", "must be a JSON array of phone numbers")
	}
	// Each element gets its budget before dec.More, which may read ahead
	// to find it.
	lim.next()
	pos := 1
	for ; dec.More(); pos++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, errLineTooLong) || len(raw) > lim.max {
			return tooLong(pos, lim.max, "the scrub")
		} else if err != nil {
			return jsonError(err)
		}
		it := scrubItem{line: pos}
		if err := json.Unmarshal(raw, &it.raw); err != nil {
			v := string(raw)
			if len(v) > 64 {
				v = v[:64] + "…"
			}
			it.raw, it.err = v, errInvalid("number", v, "must be a JSON string")
		}
		it.raw = echoInput(strings.TrimSpace(it.raw))
		if !add(it) {
			return nil
		}
		lim.next()
	}
	if _, err := dec.Token(); errors.Is(err, errLineTooLong) {
		return tooLong(pos, lim.max, "the scrub")
	} else if err != nil {
		return jsonError(err)
	}
	return nil
}

// decideChunk normalises the chunk's numbers and decides each, reading the
// facts of all of them at once when the store can.
func (s *Server) decideChunk(ctx context.Context, org string, items []scrubItem) error {
	nums := s.reg.Numbers()
	valid := make([]string, 0, len(items))
	idx := make([]int, 0, len(items))
	for i := range items {
		it := &items[i]
		if it.err != nil {
			continue
		}
		if it.number, it.err = nums.NormalizeFast(it.raw); it.err == nil {
			valid = append(valid, it.number)
			idx = append(idx, i)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	start := time.Now()
	var facts []objections.Facts
	if s.batch != nil {
		var err error
		if facts, err = s.batch.FactsBatch(ctx, org, valid); err != nil {
			return err
		}
	} else {
		facts = make([]objections.Facts, len(valid))
		for i, n := range valid {
			f, err := s.store.Facts(ctx, org, n, "")
			if err != nil {
				return err
			}
			facts[i] = f
		}
	}
	now := s.reg.Now()
	for j, i := range idx {
		items[i].d = decideNow(facts[j], valid[j], "", now)
	}
	s.metrics.decisionLatency.WithLabelValues("scrub_batch").Observe(time.Since(start).Seconds())
	return nil
}

// scrubWriter writes the answer lines (or only counts them).
type scrubWriter struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	cw      *csv.Writer
	ndjson  bool
	summary bool
	started bool
	counts  scrubCounts
}

func (o *scrubWriter) start() {
	if o.started {
		return
	}
	o.started = true
	if o.ndjson {
		o.w.Header().Set("Content-Type", "application/x-ndjson")
	} else {
		o.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
	o.w.WriteHeader(http.StatusOK)
	o.bw = bufio.NewWriterSize(o.w, 64<<10)
	if !o.ndjson {
		o.cw = csv.NewWriter(o.bw)
		_ = o.cw.Write([]string{"number", "callable", "basis", "reason"})
	}
}

// scrubLine is one NDJSON answer line.
type scrubLine struct {
	Line     int      `json:"line"`
	Input    string   `json:"input"`
	Number   string   `json:"number,omitempty"`
	Callable bool     `json:"callable"`
	Basis    string   `json:"basis"`
	Reasons  []string `json:"reasons"`
	Error    *problem `json:"error,omitempty"`
}

func (o *scrubWriter) write(items []scrubItem) {
	for i := range items {
		it := &items[i]
		basis, reasons := string(objections.BasisNone), []string{reasonInvalidNumber}
		if it.err == nil {
			basis, reasons = string(it.d.Basis), make([]string, len(it.d.Reasons))
			for k, r := range it.d.Reasons {
				reasons[k] = string(r)
			}
		}
		o.count(it, reasons[0])
		if o.summary {
			continue
		}
		o.start()
		if o.ndjson {
			l := scrubLine{Line: it.line, Input: it.raw, Number: it.number, Callable: it.err == nil && it.d.Callable,
				Basis: basis, Reasons: reasons}
			if it.err != nil {
				p := toProblem(it.err)
				p.Line, l.Number = it.line, ""
				l.Error = &p
			}
			b, _ := json.Marshal(l)
			_, _ = o.bw.Write(append(b, '\n'))
			continue
		}
		// Every cell is defused, valid or not: libphonenumber reads a
		// number out of "=WEBSERVICE(0612345678)".
		num := objections.CSVSafe(it.raw)
		_ = o.cw.Write([]string{num, strconv.FormatBool(it.err == nil && it.d.Callable), basis, reasons[0]})
	}
	if o.started {
		o.flush()
	}
}

func (o *scrubWriter) count(it *scrubItem, reason string) {
	o.counts.Total++
	o.counts.Reasons[reason]++
	switch {
	case it.err != nil:
		o.counts.Invalid++
	case it.d.Callable:
		o.counts.Callable++
	default:
		o.counts.NotCallable++
	}
}

func (o *scrubWriter) flush() {
	if o.cw != nil {
		o.cw.Flush()
	}
	_ = o.bw.Flush()
	_ = http.NewResponseController(o.w).Flush()
}

// finish ends a complete answer; an empty list is a header alone.
func (o *scrubWriter) finish() error {
	o.start()
	o.flush()
	if o.cw != nil {
		return o.cw.Error()
	}
	return nil
}

// fail writes the line that says why the answer stops here.
func (o *scrubWriter) fail(p problem) {
	if o.ndjson {
		b, _ := json.Marshal(struct {
			Error problem `json:"error"`
		}{p})
		_, _ = o.bw.Write(append(b, '\n'))
	} else {
		_ = o.cw.Write([]string{"", "", "", "error: " + p.Detail})
	}
	o.flush()
}

// maxEcho is how many characters of a line the scrub's answer repeats.
// No phone number is longer (objections.Numbers refuses more than 64
// bytes), so cutting a line here, as it is read, changes no answer.
const maxEcho = 64

// echoInput is raw cut to maxEcho characters, with "…" when it was cut.
func echoInput(raw string) string {
	i := 0
	for n := 0; n < maxEcho && i < len(raw); n++ {
		_, size := utf8.DecodeRuneInString(raw[i:])
		i += size
	}
	if i == len(raw) {
		return raw
	}
	return raw[:i] + "…"
}
