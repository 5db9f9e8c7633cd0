package spool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verzet/verzet/objections"
)

// File names inside the spool folder.
const (
	logName  = "spool.log"
	lockName = "lock"
)

// ErrClosed is in the chain of the error every method returns after Close.
var ErrClosed = errors.New("spool is closed")

// errLocked is what lockFile returns when the spool is held elsewhere.
var errLocked = errors.New("locked by another open spool")

// CorruptError is a record in the middle of the log that cannot be read: a
// bad checksum, bad JSON, or a sequence number out of order, with good
// records after it. That is damage, not a crash in the middle of an append
// (which can only hit the last record), so the spool refuses to guess and
// names the place. ErrorCode reports it as EINTERNAL. Until an operator has
// looked at the file and moved it aside, the spool cannot be opened.
type CorruptError struct {
	Path   string
	Offset int64 // byte offset of the damaged record in the file
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("spool log %s: corrupt record at offset %d: %v", e.Path, e.Offset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Spool is a durable, append-only queue of key presses in one folder. It is
// safe for concurrent use. Open it once per folder: a second Open of the same
// folder fails while the first is open (on Unix, across processes too).
type Spool struct {
	// Now stamps Entry.SpooledAt; nil means time.Now. Set it before the
	// first Append.
	Now func() time.Time

	dir  string
	path string
	lock *os.File

	// replayMu lets one Replay run at a time, so that two never deliver the
	// same entries side by side. It is taken before mu, never after.
	replayMu sync.Mutex

	mu   sync.Mutex
	f    *os.File // spool.log, O_APPEND
	size int64    // length of the log: the end of its last whole record
	// lastSeq is the Seq of the last entry appended (or, after compaction,
	// the marker's): the next Append gets lastSeq+1.
	lastSeq uint64
	// doneSeq is the last entry delivered to a target, and doneOff the
	// offset just after its record: where the pending entries start.
	doneSeq uint64
	doneOff int64
	// markSeq is the Seq in the done marker on disk (markSeq <= doneSeq).
	markSeq uint64
	torn    int64
	// broken is set when the log on disk may no longer match size (a failed
	// fsync, or a failed write that could not be undone). Appends fail
	// until the spool is opened again, which reads the truth from disk.
	broken error
	closed bool
	// kick wakes Run after an Append. Size 1: one pending wake-up covers
	// any number of appends, and Append never blocks on it.
	kick chan struct{}
}

// Open opens the spool in folder dir, creating the folder (mode 0700, the
// log holds phone numbers) and its files when missing. It reads the whole
// log: a last record that was cut off by a crash is dropped (TornTail says
// how many bytes) and the file truncated before it; a damaged record
// anywhere else is a *CorruptError naming its offset. Open starts no
// goroutines.
//
// ECONFLICT when another open Spool holds dir; EUNAVAILABLE when the folder
// or files cannot be created or read; EINTERNAL (a *CorruptError, or a
// damaged done marker) when their content is damaged.
func Open(dir string) (*Spool, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, objections.Invalid("dir", dir, "is empty")
	}
	if err := mkdirDurable(dir); err != nil {
		return nil, objections.Unavailable("create spool folder", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, objections.Unavailable("open spool lock", err)
	}
	if err := lockFile(lock); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(lock, 32))
		_ = lock.Close()
		if errors.Is(err, errLocked) {
			by := "another process, or an Open without Close"
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				by = "process " + pid
			}
			return nil, &objections.Error{Code: objections.ECONFLICT, Field: "dir", Value: dir,
				Message: "is in use by another open spool (" + by + ")"}
		}
		return nil, objections.Unavailable("lock spool", err)
	}
	// The lock file names its holder, for the message above.
	if err := lock.Truncate(0); err == nil {
		_, _ = lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	s := &Spool{dir: dir, path: filepath.Join(dir, logName), lock: lock, kick: make(chan struct{}, 1)}
	if err := s.load(); err != nil {
		_ = s.closeFiles()
		return nil, err
	}
	return s, nil
}

// load reads the marker and the log and sets the state from them.
func (s *Spool) load() error {
	_ = os.Remove(filepath.Join(s.dir, markerTemp)) // a replacement a crash cut short
	mark, err := readMarker(s.dir)
	if err != nil {
		return err
	}
	s.markSeq, s.doneSeq, s.lastSeq = mark, mark, mark

	_, statErr := os.Stat(s.path)
	created := errors.Is(statErr, fs.ErrNotExist)
	s.f, err = os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return objections.Unavailable("open spool log", err)
	}
	if created {
		if err := syncDir(s.dir); err != nil {
			return objections.Unavailable("sync spool folder", err)
		}
	}

	sc := newScanner(s.f, 0)
	var prev uint64
	for {
		e, off, err := sc.next()
		if err == io.EOF {
			break
		}
		var rerr *recordError
		switch {
		case errors.As(err, &rerr) && rerr.Last:
			return s.dropTail(rerr.Off)
		case rerr != nil:
			return s.corrupt(off, err)
		case err != nil:
			return objections.Unavailable("read spool log", err)
		}
		if prev != 0 && e.Seq != prev+1 {
			return s.corrupt(off, fmt.Errorf("entry has seq %d after seq %d", e.Seq, prev))
		}
		if prev == 0 && e.Seq > mark+1 {
			// The log starts after the marker (the marker was deleted or
			// is older than the log): what is in the log is pending.
			s.doneSeq = e.Seq - 1
		}
		prev = e.Seq
		s.size = sc.off
		s.lastSeq = max(s.lastSeq, e.Seq)
		if e.Seq <= mark {
			s.doneOff = sc.off
		}
	}
	// Everything replayed already (the last Replay stopped before it could
	// compact): compact now.
	if s.size > 0 && s.markSeq >= s.lastSeq {
		return s.compactLocked()
	}
	return nil
}

func (s *Spool) corrupt(off int64, err error) error {
	var rerr *recordError
	if errors.As(err, &rerr) {
		err = rerr.Err
	}
	return &CorruptError{Path: s.path, Offset: off, Err: err}
}

// dropTail cuts the log at off, the start of a record that a crash left
// incomplete, so that the next append does not land after its remains.
func (s *Spool) dropTail(off int64) error {
	fi, err := s.f.Stat()
	if err != nil {
		return objections.Unavailable("stat spool log", err)
	}
	if err := s.f.Truncate(off); err != nil {
		return objections.Unavailable("drop torn tail of spool log", err)
	}
	if err := s.f.Sync(); err != nil {
		return objections.Unavailable("sync spool log", err)
	}
	s.torn = fi.Size() - off
	if s.size > 0 && s.markSeq >= s.lastSeq {
		return s.compactLocked()
	}
	return nil
}

// mkdirDurable creates dir and its missing parents, and fsyncs the parent
// of each folder it created so that the new names survive a crash.
func mkdirDurable(dir string) error {
	var missing []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		_, err := os.Stat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// AppendObjection appends o and returns once it is on disk (written and
// fsync'd). Only then may the caller hear the confirmation.
//
// o must be prepared as Register.Record prepares it, with its ID and
// ReceivedAt (the moment of the key press, which stays its legal time), and
// carry an IdempotencyKey or a Provider and CallRef: replay relies on the
// store recognising a repeat by them, which is what makes a second replay,
// or a provider retry spooled twice, record nothing new. EINVALID otherwise;
// EUNAVAILABLE when the disk write fails (then the key press is not kept:
// the caller must not confirm it).
func (s *Spool) AppendObjection(o objections.Objection) error {
	if err := checkObjection(o); err != nil {
		return err
	}
	return s.append(Entry{Kind: KindObjection, Objection: &o})
}

// AppendOffer appends the offer evidence o and returns once it is on disk.
// o must be prepared (Offer.Prepare) with an ID; the store recognises a
// repeat by its Provider and CallRef. EINVALID, EUNAVAILABLE as for
// AppendObjection.
func (s *Spool) AppendOffer(o objections.Offer) error {
	if err := checkOffer(o); err != nil {
		return err
	}
	return s.append(Entry{Kind: KindOffer, Offer: &o})
}

// checkObjection rejects what the store would refuse on every replay: such
// an entry would block the entries behind it forever.
func checkObjection(o objections.Objection) error {
	switch {
	case o.ID == "":
		return objections.Invalid("id", o.ID, "is empty: spool a prepared objection")
	case o.ReceivedAt.IsZero():
		return objections.Invalid("received_at", "", "is zero: spool a prepared objection")
	case o.Org == "":
		return objections.Invalid("org", o.Org, "is empty")
	case o.Status != objections.StatusActive && o.Status != objections.StatusPendingNumber:
		return objections.Invalid("status", string(o.Status), "must be active or pending_number")
	case o.Status == objections.StatusActive && o.Number == "":
		return objections.Invalid("number", o.Number, "is empty for an active objection")
	case o.IdempotencyKey == "" && (o.Provider == "" || o.CallRef == ""):
		return objections.Invalid("idempotency_key", o.IdempotencyKey,
			"is empty and so is provider or call_ref: the store could not tell a replay from a new objection")
	}
	return nil
}

func checkOffer(o objections.Offer) error {
	switch {
	case o.ID == "":
		return objections.Invalid("id", o.ID, "is empty: spool a prepared offer")
	case o.Org == "":
		return objections.Invalid("org", o.Org, "is empty")
	case o.Provider == "" || o.CallRef == "":
		return objections.Invalid("call_ref", o.CallRef, "and provider are required: the store recognises a repeated offer by them")
	case !o.Outcome.Valid():
		return objections.Invalid("outcome", string(o.Outcome), "is not a known outcome")
	}
	return nil
}

// append gives e the next Seq, writes its record and fsyncs the log. Appends
// are serialised: each record is written and synced before the next one
// starts, so a crash can only ever cut the last record, which Open then
// recognises as a torn tail. (Group commit would write several records per
// fsync, and a crash could then damage one in the middle of the file.)
func (s *Spool) append(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(fmt.Sprintf("append %s", e.Kind)); err != nil {
		return err
	}
	e.Seq = s.lastSeq + 1
	e.SpooledAt = s.now()
	b, err := encodeRecord(e)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(b); err != nil {
		// Take a partial record back off, or later records would follow
		// it and make it damage in the middle of the file.
		if terr := s.f.Truncate(s.size); terr != nil {
			s.broken = fmt.Errorf("undo partial write: %w", terr)
		}
		return objections.Unavailable("write spool log", err)
	}
	if err := s.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages;
		// what is on disk is unknown until the file is read again.
		s.broken = fmt.Errorf("fsync: %w", err)
		return objections.Unavailable("sync spool log", err)
	}
	s.size += int64(len(b))
	s.lastSeq = e.Seq
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

func (s *Spool) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// usable reports why the spool cannot be used, if it cannot. s.mu is held.
func (s *Spool) usable(doing string) error {
	switch {
	case s.closed:
		return objections.Unavailable(doing, ErrClosed)
	case s.broken != nil:
		return objections.Unavailable(doing+": spool log needs reopening", s.broken)
	}
	return nil
}

// Pending returns the number of entries not yet replayed.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.lastSeq - s.doneSeq)
}

// TornTail returns how many bytes of a record cut off by a crash Open
// dropped from the end of the log (0 when none). Such a record was never
// acknowledged to its caller; the caller of Open may want to log it.
func (s *Spool) TornTail() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.torn
}

// Dir returns the spool's folder.
func (s *Spool) Dir() string { return s.dir }

// Close closes the log and releases the folder. Entries not yet replayed
// stay on disk for the next Open. A Replay still running fails with
// ErrClosed; Close after Close returns nil.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.closeFiles(); err != nil {
		return objections.Unavailable("close spool", err)
	}
	return nil
}

func (s *Spool) closeFiles() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
	}
	if s.lock != nil {
		if lerr := s.lock.Close(); err == nil {
			err = lerr
		}
	}
	return err
}
