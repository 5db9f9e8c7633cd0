package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/verzet/verzet/objections"
)

// usec renders a timestamptz as microseconds since the epoch (exact: epoch
// is numeric), which FactsOne turns back into UTC times without parsing.
func usec(col string) string { return `(extract(epoch FROM ` + col + `) * 1000000)::bigint` }

// factsOneSQL builds the single statement of FactsOne; match is the
// number (or number or person) condition of Facts.
func factsOneSQL(match, omatch string) string {
	return `SELECT
	(SELECT json_build_array(id, name, sector, relation_term_months, term_justification, language, auto_created,
			` + usec("created_at") + `, ` + usec("updated_at") + `, ivr, kind, agencies)
		FROM orgs WHERE id = $1),
	(SELECT json_agg(json_build_array(o.id, o.org, o.number, o.raw_number, o.person_id, ` + usec("o.received_at") + `,
			o.source, o.provider, coalesce(o.call_ref, ''), o.dialer_call_ref, o.campaign_ref, o.lead_ref, o.agent_ref,
			o.offer_id, o.note, o.actor, coalesce(o.idempotency_key, ''), o.status, v.actor, v.reason, ` + usec("v.at") + `,
			coalesce(o.agency, ''), o.agency_unlisted) ORDER BY o.id)
		FROM (SELECT * FROM objections WHERE org = $1 AND ` + match + `
			UNION ALL SELECT * FROM objections WHERE agency = $1 AND ` + match + `) o
		LEFT JOIN objection_voids v ON v.objection_id = o.id),
	(SELECT json_agg(json_build_array(id, org, number, person_id, channel, ` + usec("given_at") + `, ` + usec("withdrawn_at") + `,
			source, evidence_ref, ` + usec("created_at") + `) ORDER BY given_at, id)
		FROM consents WHERE org = $1 AND ` + match + `),
	(SELECT json_agg(json_build_array(id, org, number, person_id, kind, to_char(peildatum, 'YYYY-MM-DD'), source,
			` + usec("created_at") + `) ORDER BY id)
		FROM relations WHERE org = $1 AND ` + match + `),
	coalesce((SELECT seq FROM event_head), 0)`
}

var (
	factsOneByNumber = factsOneSQL(`number = $2`, `o.number = $2`)
	factsOneByPerson = factsOneSQL(`(number = $2 OR person_id = $3)`, `(o.number = $2 OR o.person_id = $3)`)
)

// FactsOne returns exactly what Facts returns, read with one statement
// instead of four. Its statement is the body of FactsMany, which the
// dial-time check of objections/httpapi uses; FactsOne is the same read
// for a single question (and the benchmarks' per-check baseline, beside
// which the batched read is measured). The rows come back as JSON
// arrays, times as microseconds; the list version (the event log head's
// seq) comes as a fifth column. One statement is one snapshot, taken when
// it starts: every write committed before the call is seen, and the facts
// are exactly those of the list version.
func (s *Store) FactsOne(ctx context.Context, org, number, person string) (objections.Facts, error) {
	sql, args := factsOneByNumber, []any{org, nullable(number)}
	if person != "" {
		sql, args = factsOneByPerson, append(args, person)
	}
	var (
		orgRow, objRows, conRows, relRows []byte
		version                           int64
	)
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&orgRow, &objRows, &conRows, &relRows, &version); err != nil {
		return objections.Facts{}, translate("read facts", err)
	}
	f, err := decodeFactsOne(org, orgRow, objRows, conRows, relRows)
	if err != nil {
		return objections.Facts{}, objections.Internal("read facts", err)
	}
	f.ListVersion = version
	return f, nil
}

func decodeFactsOne(org string, orgRow, objRows, conRows, relRows []byte) (objections.Facts, error) {
	var f objections.Facts
	if orgRow == nil {
		f.Org = objections.DefaultOrg(org, time.Time{})
	} else {
		r, err := jsonRow(orgRow)
		if err != nil {
			return f, err
		}
		o := objections.Org{ID: r.str(0), Name: r.str(1), Sector: objections.Sector(r.str(2)), RelationTermMonths: int(r.int(3)),
			TermJustification: r.str(4), Language: r.str(5), AutoCreated: r.bool(6), CreatedAt: r.time(7), UpdatedAt: r.time(8),
			Kind: objections.OrgKind(r.str(10)), Agencies: objections.SplitIDs(r.str(11))}
		if ivr := r.str(9); ivr != "" {
			if err := json.Unmarshal([]byte(ivr), &o.IVR); err != nil {
				return f, err
			}
		}
		if r.err != nil {
			return f, r.err
		}
		f.Org = o
	}
	rows, err := jsonRows(objRows)
	if err != nil {
		return f, err
	}
	for _, r := range rows {
		o := objections.Objection{ID: r.str(0), Org: r.str(1), Number: r.str(2), RawNumber: r.str(3), PersonID: r.str(4),
			ReceivedAt: r.time(5), Source: objections.Source(r.str(6)), Provider: r.str(7), CallRef: r.str(8),
			DialerCallRef: r.str(9), CampaignRef: r.str(10), LeadRef: r.str(11), AgentRef: r.str(12), OfferID: r.str(13),
			Note: r.str(14), Actor: r.str(15), IdempotencyKey: r.str(16), Status: objections.Status(r.str(17)),
			Agency: r.str(21), AgencyUnlisted: r.bool(22)}
		if !r.null(20) {
			o.Status = objections.StatusVoided
			o.Void = &objections.Void{ObjectionID: o.ID, Actor: r.str(18), Reason: r.str(19), At: r.time(20)}
		}
		if r.err != nil {
			return f, r.err
		}
		f.Objections = append(f.Objections, o)
	}
	if rows, err = jsonRows(conRows); err != nil {
		return f, err
	}
	for _, r := range rows {
		c := objections.Consent{ID: r.str(0), Org: r.str(1), Number: r.str(2), PersonID: r.str(3),
			Channel: objections.ConsentChannel(r.str(4)), GivenAt: r.time(5), Source: r.str(7), EvidenceRef: r.str(8), CreatedAt: r.time(9)}
		if !r.null(6) {
			w := r.time(6)
			c.WithdrawnAt = &w
		}
		if r.err != nil {
			return f, r.err
		}
		f.Consents = append(f.Consents, c)
	}
	if rows, err = jsonRows(relRows); err != nil {
		return f, err
	}
	for _, r := range rows {
		rel := objections.Relation{ID: r.str(0), Org: r.str(1), Number: r.str(2), PersonID: r.str(3),
			Kind: objections.RelationKind(r.str(4)), Source: r.str(6), CreatedAt: r.time(7)}
		if rel.Peildatum, err = time.Parse("2006-01-02", r.str(5)); err != nil {
			return f, err
		}
		if r.err != nil {
			return f, r.err
		}
		f.Relations = append(f.Relations, rel)
	}
	return f, nil
}

// jrow is one JSON array row of scalars; its accessors record the first
// type error. The arrays come from json_build_array over our own columns:
// strings, numbers, booleans and nulls only, which parseArray reads
// without reflection (encoding/json into []any cost a fifth of a check).
type jrow struct {
	v   []any
	err error
}

func jsonRow(b []byte) (*jrow, error) {
	v, rest, err := parseArray(b)
	if err == nil && len(bytes.TrimSpace(rest)) != 0 {
		err = fmt.Errorf("trailing data after a row")
	}
	return &jrow{v: v}, err
}

func jsonRows(b []byte) ([]*jrow, error) {
	if b == nil {
		return nil, nil
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' {
		return nil, fmt.Errorf("rows are not a JSON array")
	}
	b = bytes.TrimSpace(b[1:])
	var out []*jrow
	for len(b) > 0 && b[0] != ']' {
		v, rest, err := parseArray(b)
		if err != nil {
			return nil, err
		}
		out = append(out, &jrow{v: v})
		b = bytes.TrimSpace(rest)
		if len(b) > 0 && b[0] == ',' {
			b = bytes.TrimSpace(b[1:])
		}
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("rows end early")
	}
	return out, nil
}

// parseArray reads one JSON array of scalars from the start of b: strings
// as string, numbers as json.Number, true/false as bool, null as nil.
func parseArray(b []byte) ([]any, []byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return nil, nil, fmt.Errorf("row is not a JSON array")
	}
	b = b[1:]
	var out []any
	for {
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil, nil, fmt.Errorf("row ends early")
		}
		if b[0] == ']' {
			return out, b[1:], nil
		}
		if len(out) > 0 {
			if b[0] != ',' {
				return nil, nil, fmt.Errorf("row: want a comma")
			}
			b = bytes.TrimSpace(b[1:])
		}
		var v any
		switch {
		case len(b) == 0:
			return nil, nil, fmt.Errorf("row ends early")
		case b[0] == '"':
			end, escaped := 1, false
			for ; end < len(b) && b[end] != '"'; end++ {
				if b[end] == '\\' {
					escaped = true
					end++
				}
			}
			if end >= len(b) {
				return nil, nil, fmt.Errorf("row: unterminated string")
			}
			if escaped || !utf8.Valid(b[1:end]) {
				var str string
				if err := json.Unmarshal(b[:end+1], &str); err != nil {
					return nil, nil, err
				}
				v = str
			} else {
				v = string(b[1:end])
			}
			b = b[end+1:]
		case bytes.HasPrefix(b, []byte("null")):
			v, b = nil, b[4:]
		case bytes.HasPrefix(b, []byte("true")):
			v, b = true, b[4:]
		case bytes.HasPrefix(b, []byte("false")):
			v, b = false, b[5:]
		default:
			end := 0
			for end < len(b) && (b[end] == '-' || b[end] == '+' || b[end] == '.' || b[end] == 'e' || b[end] == 'E' || (b[end] >= '0' && b[end] <= '9')) {
				end++
			}
			if end == 0 {
				return nil, nil, fmt.Errorf("row: unexpected %q", b[0])
			}
			v, b = json.Number(b[:end]), b[end:]
		}
		out = append(out, v)
	}
}

func (r *jrow) at(i int) any {
	if i >= len(r.v) {
		r.fail(fmt.Errorf("row has %d columns, want %d", len(r.v), i+1))
		return nil
	}
	return r.v[i]
}

func (r *jrow) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *jrow) null(i int) bool { return r.at(i) == nil }

func (r *jrow) str(i int) string {
	switch v := r.at(i).(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		r.fail(fmt.Errorf("column %d: %T, want a string", i, v))
		return ""
	}
}

func (r *jrow) int(i int) int64 {
	n, ok := r.at(i).(json.Number)
	if !ok {
		r.fail(fmt.Errorf("column %d: %T, want a number", i, r.at(i)))
		return 0
	}
	v, err := n.Int64()
	if err != nil {
		r.fail(err)
	}
	return v
}

func (r *jrow) bool(i int) bool {
	b, ok := r.at(i).(bool)
	if !ok {
		r.fail(fmt.Errorf("column %d: %T, want a bool", i, r.at(i)))
	}
	return b
}

// time reads microseconds since the epoch as a UTC time.
func (r *jrow) time(i int) time.Time { return time.UnixMicro(r.int(i)).UTC() }
