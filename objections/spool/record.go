package spool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/verzet/verzet/objections"
)

// Kind says what an Entry holds.
type Kind string

// Kinds of entry.
const (
	KindObjection Kind = "objection"
	KindOffer     Kind = "offer"
)

// Entry is one spooled key press: an objection or the offer evidence of a
// call, exactly as the caller handed it to Append, with the sequence number
// and time the spool gave it.
type Entry struct {
	// Seq numbers entries 1, 2, 3, … in the order they were appended. It
	// never restarts, also not after the log is compacted.
	Seq       uint64                `json:"seq"`
	Kind      Kind                  `json:"kind"`
	Objection *objections.Objection `json:"objection,omitempty"`
	Offer     *objections.Offer     `json:"offer,omitempty"`
	// SpooledAt is when the entry was appended (Spool.Now). It is not
	// evidence: the objection's own ReceivedAt is.
	SpooledAt time.Time `json:"spooled_at"`
}

// maxRecord bounds one record on disk. A prepared objection or offer is a
// few KiB at most (a 4,000-character note, 64 keys); the bound keeps a
// damaged file from making the reader buffer without limit.
const maxRecord = 1 << 20

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A record is one line:
//
//	<CRC-32C> <length> <JSON of the Entry>\n
//
// CRC-32C and length are 8 lower-case hex digits each; the length counts
// the JSON bytes, and the checksum covers the length field, its space and
// the JSON. encoding/json never writes a raw newline, so the file reads as
// one record per line (less and grep work during an outage), but the reader
// goes by the length: it knows where a record must end, so a damaged record
// in the middle of the file cannot pass for a torn last one.
const (
	crcLen    = 8
	headerLen = crcLen + 1 + 8 + 1 // "cccccccc llllllll "
)

// encodeRecord returns e as one record. EINVALID when it does not fit in
// maxRecord.
func encodeRecord(e Entry) ([]byte, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return nil, objections.Internal("encode spool entry", err)
	}
	if headerLen+len(js)+1 > maxRecord {
		return nil, objections.Invalid(string(e.Kind), fmt.Sprintf("%d bytes", len(js)), "is larger than a spool record may be (%d bytes)", maxRecord)
	}
	b := make([]byte, headerLen, headerLen+len(js)+1)
	b = append(b, js...)
	b = append(b, '\n')
	copy(b[crcLen+1:], fmt.Appendf(nil, "%08x ", len(js)))
	copy(b, fmt.Appendf(nil, "%08x ", crc32.Checksum(b[crcLen+1:headerLen+len(js)], castagnoli)))
	return b, nil
}

// errIncomplete means the bytes end before the record does.
var errIncomplete = errors.New("record is incomplete")

// parseHeader returns the length of the record that starts with h
// (headerLen bytes), newline included.
func parseHeader(h []byte) (int, error) {
	_, okc := parseHex32(h[:crcLen])
	n, okn := parseHex32(h[crcLen+1 : headerLen-1])
	if !okc || !okn || h[crcLen] != ' ' || h[headerLen-1] != ' ' {
		return 0, fmt.Errorf("record does not start with a checksum and a length: %q", h)
	}
	if n > maxRecord-headerLen-1 { // checked before int(n), which may be 32 bits
		return 0, fmt.Errorf("record length %d is more than %d", n, maxRecord-headerLen-1)
	}
	return headerLen + int(n) + 1, nil
}

// decodeRecord decodes the record at the start of b and returns it with its
// length in bytes, newline included. It returns errIncomplete when b ends
// before the record, and another error when the record is damaged.
func decodeRecord(b []byte) (Entry, int, error) {
	if len(b) < headerLen {
		return Entry{}, 0, errIncomplete
	}
	total, err := parseHeader(b[:headerLen])
	if err != nil {
		return Entry{}, 0, err
	}
	if len(b) < total {
		return Entry{}, 0, errIncomplete
	}
	e, err := decodeWhole(b[:total])
	return e, total, err
}

// decodeWhole decodes a record of the length its header gives.
func decodeWhole(b []byte) (Entry, error) {
	want, _ := parseHex32(b[:crcLen])
	if got := crc32.Checksum(b[crcLen+1:len(b)-1], castagnoli); got != want {
		return Entry{}, fmt.Errorf("checksum mismatch: record says %08x, content has %08x", want, got)
	}
	if b[len(b)-1] != '\n' {
		return Entry{}, errors.New("record does not end with a newline")
	}
	var e Entry
	if err := json.Unmarshal(b[headerLen:len(b)-1], &e); err != nil {
		return Entry{}, fmt.Errorf("decode entry: %w", err)
	}
	if err := e.check(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// check reports an entry whose fields do not fit together. A record with a
// good checksum was written by this package, so this catches bugs and
// foreign files rather than damage.
func (e Entry) check() error {
	if e.Seq == 0 {
		return errors.New("entry has seq 0")
	}
	switch {
	case e.Kind == KindObjection && e.Objection != nil && e.Offer == nil:
	case e.Kind == KindOffer && e.Offer != nil && e.Objection == nil:
	default:
		return fmt.Errorf("entry %d of kind %q does not hold exactly one %s", e.Seq, e.Kind, e.Kind)
	}
	return nil
}

func parseHex32(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// recordError is a record that cannot be read, at offset Off of the log.
// Last says that it can be the torn end of the file: its length runs
// exactly to the end of the file, or past it with no newline in what is
// there, or (when its header is unreadable) nothing but one line follows.
// A crash in the middle of an append leaves exactly that, so Open drops such
// a record instead of failing.
type recordError struct {
	Off  int64
	Last bool
	Err  error
}

func (e *recordError) Error() string { return fmt.Sprintf("offset %d: %v", e.Off, e.Err) }
func (e *recordError) Unwrap() error { return e.Err }

// scanner reads records one by one from a log (or a section of one).
type scanner struct {
	r   *bufio.Reader
	off int64 // offset of the next record
	buf []byte
}

func newScanner(r io.Reader, off int64) *scanner {
	return &scanner{r: bufio.NewReaderSize(r, 64<<10), off: off}
}

// next returns the next entry and the offset of the record that held it.
// io.EOF at a clean end; *recordError for a record that cannot be read; any
// other error is the reader's.
func (sc *scanner) next() (Entry, int64, error) {
	off := sc.off
	h, err := sc.r.Peek(headerLen)
	switch {
	case len(h) == 0 && err == io.EOF:
		return Entry{}, off, io.EOF
	case len(h) < headerLen && err == io.EOF:
		sc.off += int64(len(h))
		return Entry{}, off, &recordError{Off: off, Last: bytes.IndexByte(h, '\n') < 0, Err: errIncomplete}
	case err != nil:
		return Entry{}, off, err
	}
	total, herr := parseHeader(h)
	if herr != nil {
		// The extent of the record is unknown. A torn append is one
		// record, whose JSON holds no newline: it is last if at most its
		// own newline follows.
		last, err := sc.restIsOneLine()
		if err != nil {
			return Entry{}, off, err
		}
		return Entry{}, off, &recordError{Off: off, Last: last, Err: herr}
	}
	sc.buf = append(sc.buf[:0], make([]byte, total)...)
	n, err := io.ReadFull(sc.r, sc.buf)
	sc.off += int64(n)
	switch {
	case err == io.ErrUnexpectedEOF:
		// A torn append stops before the record's newline, and its JSON
		// holds none; a newline in what is there means the length is
		// wrong, which is damage.
		return Entry{}, off, &recordError{Off: off, Last: bytes.IndexByte(sc.buf[:n], '\n') < 0, Err: errIncomplete}
	case err != nil:
		return Entry{}, off, err
	}
	e, derr := decodeWhole(sc.buf)
	if derr != nil {
		_, perr := sc.r.Peek(1)
		return Entry{}, off, &recordError{Off: off, Last: perr == io.EOF, Err: derr}
	}
	return e, off, nil
}

// restIsOneLine consumes the rest of the input and reports whether it holds
// no newline but, at most, its last byte.
func (sc *scanner) restIsOneLine() (bool, error) {
	for seen := false; ; {
		b, err := sc.r.ReadSlice('\n')
		sc.off += int64(len(b))
		switch {
		case err == io.EOF:
			return !(seen && len(b) > 0), nil
		case err == bufio.ErrBufferFull:
			if seen {
				return false, nil
			}
		case err != nil:
			return false, err
		default:
			if seen {
				return false, nil
			}
			seen = true
		}
	}
}
