package spool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/verzet/verzet/objections"
)

// seedRecords returns a few whole records to start the fuzzers from.
func seedRecords(tb testing.TB) [][]byte {
	tb.Helper()
	o := testObjection(1)
	o.Note = "caller said: \"stop\"\n<twice> & more"
	entries := []Entry{
		{Seq: 1, Kind: KindObjection, Objection: &o, SpooledAt: t0},
		{Seq: 2, Kind: KindOffer, Offer: new(testOffer(1, o.ID)), SpooledAt: t0},
		{Seq: 3, Kind: KindObjection, Objection: &objections.Objection{ID: "x"}},
	}
	var recs [][]byte
	for _, e := range entries {
		b, err := encodeRecord(e)
		if err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, b)
	}
	return recs
}

// FuzzDecode checks the record decoder on any bytes: it never panics, never
// claims more bytes than it was given, and whatever it accepts encodes to a
// record that decodes to the same entry.
func FuzzDecode(f *testing.F) {
	recs := seedRecords(f)
	for _, r := range recs {
		f.Add(r)
		f.Add(r[:len(r)/2])
		f.Add(r[:len(r)-1])
	}
	f.Add(bytes.Join(recs, nil))
	f.Add(rawRecord(`{"seq":1,"kind":"offer","offer":{}}`))
	f.Add(rawRecord(`{"seq":1,"kind":"objection","objection":{},"offer":{}}`))
	f.Add(rawRecord(`null`))
	f.Add([]byte("00000000 00000000 \n"))
	f.Add([]byte("ffffffff 000fffff {}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if n < headerLen+1 || n > len(b) || b[n-1] != '\n' {
			t.Fatalf("decodeRecord accepted %d of %d bytes", n, len(b))
		}
		if err := e.check(); err != nil {
			t.Fatalf("decodeRecord returned an entry that fails check: %v", err)
		}
		enc, err := encodeRecord(e)
		if objections.ErrorCode(err) == objections.EINVALID {
			return // JSON escaping made it larger than a record may be
		}
		if err != nil {
			t.Fatalf("encode a decoded entry: %v", err)
		}
		e2, n2, err := decodeRecord(enc)
		if err != nil || n2 != len(enc) {
			t.Fatalf("decode of re-encoded entry: %d of %d, %v", n2, len(enc), err)
		}
		enc2, err := encodeRecord(e2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// FuzzOpen checks recovery on any log content: Open never panics; it fails
// only with a *CorruptError inside the file, and when it succeeds the log it
// leaves opens again cleanly with the same entries pending.
func FuzzOpen(f *testing.F) {
	recs := seedRecords(f)
	log := bytes.Join(recs, nil)
	f.Add(log)
	f.Add(log[:len(log)-7])
	f.Add(append(append([]byte(nil), log...), 0, 0, 0))
	f.Add(append(append([]byte(nil), recs[0]...), "garbage\n"...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, logName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset < 0 || ce.Offset >= int64(len(b)) {
				t.Fatalf("Open = %v, want a *CorruptError inside the %d bytes", err, len(b))
			}
			return
		}
		pending, torn := s.Pending(), s.TornTail()
		if pending > bytes.Count(b, []byte{'\n'}) || torn > int64(len(b)) {
			t.Fatalf("Pending %d, TornTail %d from %d bytes", pending, torn, len(b))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s, err = Open(dir)
		if err != nil {
			t.Fatalf("reopen after recovery: %v", err)
		}
		defer s.Close()
		if s.Pending() != pending || s.TornTail() != 0 {
			t.Fatalf("reopen: Pending %d, TornTail %d; want %d, 0", s.Pending(), s.TornTail(), pending)
		}
	})
}
