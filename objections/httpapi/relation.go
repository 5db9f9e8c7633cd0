package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// relationIn is one customer relation as PUT /v1/relations takes it.
type relationIn struct {
	Org       string `json:"org"`
	Number    string `json:"number"`
	Person    string `json:"person"`
	Kind      string `json:"kind"`
	Peildatum string `json:"peildatum"`
	Source    string `json:"source"`
}

func (in relationIn) relation() (objections.Relation, error) {
	p, err := time.Parse("2006-01-02", strings.TrimSpace(in.Peildatum))
	if err != nil {
		return objections.Relation{}, errInvalid("peildatum", in.Peildatum, "must be a date YYYY-MM-DD")
	}
	return objections.Relation{Org: in.Org, Number: in.Number, PersonID: in.Person,
		Kind: objections.RelationKind(in.Kind), Peildatum: p, Source: in.Source}, nil
}

// consentIn is one consent as PUT /v1/consents takes it.
type consentIn struct {
	Org         string `json:"org"`
	Number      string `json:"number"`
	Person      string `json:"person"`
	Channel     string `json:"channel"`
	GivenAt     string `json:"given_at"`
	WithdrawnAt string `json:"withdrawn_at"`
	Source      string `json:"source"`
	EvidenceRef string `json:"evidence_ref"`
}

func (in consentIn) consent() (objections.Consent, error) {
	given, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(in.GivenAt))
	if err != nil {
		return objections.Consent{}, errInvalid("given_at", in.GivenAt, "must be an RFC 3339 time (2026-03-01T09:00:00Z)")
	}
	c := objections.Consent{Org: in.Org, Number: in.Number, PersonID: in.Person, Channel: objections.ConsentChannel(in.Channel),
		GivenAt: given, Source: in.Source, EvidenceRef: in.EvidenceRef}
	if w := strings.TrimSpace(in.WithdrawnAt); w != "" {
		t, err := time.Parse(time.RFC3339Nano, w)
		if err != nil {
			return objections.Consent{}, errInvalid("withdrawn_at", in.WithdrawnAt, "must be an RFC 3339 time or empty")
		}
		c.WithdrawnAt = &t
	}
	return c, nil
}

var (
	relationColumns = []string{"org", "number", "person", "kind", "peildatum", "source"}
	consentColumns  = []string{"org", "number", "person", "channel", "given_at", "withdrawn_at", "source", "evidence_ref"}
)

// putRelations answers PUT /v1/relations: one relation as a JSON object
// (answered with the relation as stored), or many as NDJSON or CSV with a
// header (answered with counts and the first errors by line).
func (s *Server) putRelations(w http.ResponseWriter, r *http.Request, tok access.Token) {
	scope := s.bulkScope(r, tok)
	put := func(ctx context.Context, in relationIn) (any, error) {
		rel, err := in.relation()
		if err != nil {
			return nil, err
		}
		if rel.Org, err = scope.org(ctx, rel.Org); err != nil {
			return nil, err
		}
		stored, err := s.reg.PutRelation(ctx, rel)
		if err != nil {
			return nil, err
		}
		return viewRelation(stored), nil
	}
	bulkPut(s, w, r, relationColumns, put, func(rec map[string]string) relationIn {
		return relationIn{Org: rec["org"], Number: rec["number"], Person: rec["person"], Kind: rec["kind"],
			Peildatum: rec["peildatum"], Source: rec["source"]}
	})
}

// putConsents answers PUT /v1/consents like putRelations.
func (s *Server) putConsents(w http.ResponseWriter, r *http.Request, tok access.Token) {
	scope := s.bulkScope(r, tok)
	put := func(ctx context.Context, in consentIn) (any, error) {
		c, err := in.consent()
		if err != nil {
			return nil, err
		}
		if c.Org, err = scope.org(ctx, c.Org); err != nil {
			return nil, err
		}
		stored, err := s.reg.PutConsent(ctx, c)
		if err != nil {
			return nil, err
		}
		return viewConsent(stored), nil
	}
	bulkPut(s, w, r, consentColumns, put, func(rec map[string]string) consentIn {
		return consentIn{Org: rec["org"], Number: rec["number"], Person: rec["person"], Channel: rec["channel"],
			GivenAt: rec["given_at"], WithdrawnAt: rec["withdrawn_at"], Source: rec["source"], EvidenceRef: rec["evidence_ref"]}
	})
}

// bulkOrgs decides the org of each relation or consent one request
// writes: the line's org, else ?org=, else the token's one org or the
// configured default; and whether the token may write for it (its own
// orgs only: an agency does not write an advertiser's relations or
// consents). For a scoped token, an org it reaches but nobody set up is a
// 404 naming only orgs it sees; the answer is kept for the request.
type bulkOrgs struct {
	s     *Server
	tok   access.Token
	query string

	mu    sync.Mutex
	known map[string]error
}

func (s *Server) bulkScope(r *http.Request, tok access.Token) *bulkOrgs {
	return &bulkOrgs{s: s, tok: tok, query: r.URL.Query().Get("org"), known: map[string]error{}}
}

// org returns the org of a line that named org ("" for none).
func (b *bulkOrgs) org(ctx context.Context, org string) (string, error) {
	if strings.TrimSpace(org) == "" {
		org = b.query
	}
	if strings.TrimSpace(org) == "" && b.tok.Orgs.All() {
		// The record's own check names the missing org.
		return b.s.cfg.DefaultOrg, nil
	}
	org, err := b.s.orgOrDefault(org, b.tok)
	if err != nil || b.tok.Orgs.All() {
		return org, err
	}
	if err := writeAccess(b.tok, org); err != nil {
		return "", err
	}
	b.mu.Lock()
	err, seen := b.known[org]
	b.mu.Unlock()
	if !seen {
		_, err = b.s.knownOrg(ctx, b.tok, org)
		if c := objections.ErrorCode(err); c == objections.EUNAVAILABLE || c == objections.EINTERNAL {
			return "", err
		}
		b.mu.Lock()
		b.known[org] = err
		b.mu.Unlock()
	}
	return org, err
}

// bulkResult answers a bulk import.
type bulkResult struct {
	Stored int       `json:"stored"`
	Failed int       `json:"failed"`
	Errors []problem `json:"errors"`
	// ErrorsOmitted counts failed lines beyond the first maxBulkErrors.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
}

const (
	maxBulkErrors  = 100
	bulkWorkers    = 8
	maxBulkLineLen = 64 << 10
)

// bulkJob is one line of a bulk import.
type bulkJob[T any] struct {
	line int
	in   T
	err  error // the line could not be read
}

// bulkPut runs one JSON object, or an NDJSON or CSV stream of them,
// through put. Streams are read line by line and written by a few workers,
// so memory stays flat; a bad line is counted and reported with its line
// number, and the rest goes on. Puts are idempotent (the same relation or
// consent is one record), so a client may send a failed import again.
func bulkPut[T any](s *Server, w http.ResponseWriter, r *http.Request, columns []string,
	put func(context.Context, T) (any, error), fromCSV func(map[string]string) T) {
	if err := knownParams(r, "org"); err != nil {
		s.writeError(w, r, err)
		return
	}
	media, err := mediaOf(r, "application/json", "application/x-ndjson", "application/ndjson", "text/csv")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if media == "application/json" {
		// One object is bounded like every JSON body, not like a stream.
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.BodyLimit)
		var in T
		if err := decodeJSON(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := put(r.Context(), in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// One line queued per worker keeps the workers busy while the reader
	// parses, and memory bounded.
	jobs := make(chan bulkJob[T], bulkWorkers)
	send := func(j bulkJob[T]) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var (
		mu       sync.Mutex
		res      = bulkResult{Errors: []problem{}}
		wg       sync.WaitGroup
		storeErr error // the store failed: the import stops
	)
	fail := func(line int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if code := objections.ErrorCode(err); code == objections.EINTERNAL || code == objections.EUNAVAILABLE {
			if storeErr == nil {
				storeErr = err
				cancel()
			}
			return
		}
		res.Failed++
		if len(res.Errors) == maxBulkErrors {
			res.ErrorsOmitted++
			return
		}
		p := toProblem(err)
		p.Line = line
		res.Errors = append(res.Errors, p)
	}
	for range bulkWorkers {
		wg.Go(func() {
			for j := range jobs {
				if j.err != nil {
					fail(j.line, j.err)
					continue
				}
				if ctx.Err() != nil {
					continue // the import stopped; drain
				}
				if _, err := put(ctx, j.in); err != nil {
					fail(j.line, err)
					continue
				}
				mu.Lock()
				res.Stored++
				mu.Unlock()
			}
		})
	}
	var readErr error
	if media == "text/csv" {
		readErr = readBulkCSV(r.Body, columns, fromCSV, send)
	} else {
		readErr = readBulkNDJSON(r.Body, send)
	}
	close(jobs)
	wg.Wait()
	if storeErr != nil {
		s.log.Error("bulk import stopped", zapRoute(r), zapErr(storeErr))
		p := toProblem(storeErr)
		s.writeError(w, r, &apiError{status: p.Status, code: p.Code,
			detail: fmt.Sprintf("%s; the import stopped after %d lines were stored and %d failed: send it again (puts are idempotent)",
				p.Detail, res.Stored, res.Failed)})
		return
	}
	if readErr != nil {
		var mbe *http.MaxBytesError
		if errors.As(readErr, &mbe) {
			s.writeError(w, r, &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
				detail: fmt.Sprintf("the body is larger than %d bytes; the %d lines before the limit were stored and %d failed",
					mbe.Limit, res.Stored, res.Failed)})
			return
		}
		if res.Stored == 0 && res.Failed == 0 {
			s.writeError(w, r, readErr)
			return
		}
		fail(0, readErr)
	}
	writeJSON(w, http.StatusOK, res)
}

func readBulkNDJSON[T any](body io.Reader, send func(bulkJob[T]) bool) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxBulkLineLen)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var in T
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		err := dec.Decode(&in)
		if err == nil && dec.More() {
			err = errInvalid("line", "", "must hold one JSON object")
		} else if err != nil {
			err = jsonError(err)
		}
		if !send(bulkJob[T]{line: line, in: in, err: err}) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return errInvalid("line", fmt.Sprint(line+1), fmt.Sprintf("is longer than %d bytes; the import stopped there", maxBulkLineLen))
		}
		return errInvalid("body", "", "cannot be read: "+err.Error())
	}
	return nil
}

func readBulkCSV[T any](body io.Reader, columns []string, fromCSV func(map[string]string) T, send func(bulkJob[T]) bool) error {
	lim := newLineLimit(body, maxBulkLineLen)
	cr := csv.NewReader(bufio.NewReaderSize(lim, 64<<10))
	cr.FieldsPerRecord = -1
	header, err := readCSVLine(cr, lim, 0, "the import")
	if errors.Is(err, io.EOF) {
		return errInvalid("body", "", "is empty: send a header line ("+strings.Join(columns, ",")+") and records")
	}
	if err != nil {
		return csvError(err)
	}
	names := make([]string, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range columns {
			if h == c {
				known = true
			}
		}
		if !known {
			return errInvalid("header", h, "is not a column; the columns are "+strings.Join(columns, ", "))
		}
		names[i] = h
	}
	prev := 1
	for {
		rec, err := readCSVLine(cr, lim, prev, "the import")
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				prev = pe.Line
				if !send(bulkJob[T]{line: pe.Line, err: errInvalid("line", fmt.Sprint(pe.Line), "is not valid CSV: "+pe.Err.Error())}) {
					return nil
				}
				continue
			}
			return csvError(err)
		}
		line, _ := cr.FieldPos(0)
		prev = line
		m := make(map[string]string, len(names))
		for i, v := range rec {
			if i < len(names) {
				m[names[i]] = strings.TrimSpace(v)
			}
		}
		if len(rec) > len(names) {
			if !send(bulkJob[T]{line: line, err: errInvalid("line", fmt.Sprint(line), fmt.Sprintf("has %d fields; the header has %d", len(rec), len(names)))}) {
				return nil
			}
			continue
		}
		if !send(bulkJob[T]{line: line, in: fromCSV(m)}) {
			return nil
		}
	}
}

func csvError(err error) error {
	var mbe *http.MaxBytesError
	var oe *objections.Error
	if errors.As(err, &mbe) || errors.As(err, &oe) {
		return err
	}
	return errInvalid("body", "", "is not valid CSV: "+err.Error())
}
