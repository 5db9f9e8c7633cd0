package objections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// EventKind names what an event in the log records.
type EventKind string

// Event kinds.
const (
	EventObjectionRecorded EventKind = "objection.recorded"
	EventObjectionVoided   EventKind = "objection.voided"
	// EventOfferRecorded is an offer's final record: its outcome, when it
	// ended. A record started before (EventOfferStarted) is completed by
	// this event, whose payload is the whole record again.
	EventOfferRecorded EventKind = "offer.recorded"
	// EventOfferStarted is an offer's in_progress record, written when its
	// dialogue began (Store.StartOffer).
	EventOfferStarted EventKind = "offer.started"
)

// GenesisHash is the PrevHash of the first event.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one entry of the append-only log. Each event carries the hash of
// the one before it, so that the order "objection before any later call" can
// be shown and any edit, deletion or reordering breaks the chain.
type Event struct {
	Seq       int64     `json:"seq"` // 1, 2, 3, … without gaps
	Kind      EventKind `json:"kind"`
	Org       string    `json:"org"`
	SubjectID string    `json:"subject_id"` // objection or offer id
	At        time.Time `json:"at"`
	// Payload is the JSON of the record as it was written, byte for byte.
	Payload  json.RawMessage `json:"payload"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// NewEvent builds the event that follows prev (nil for the first) and
// computes its hash. Stores call it inside the transaction that holds the
// chain head, so that events are chained in commit order.
func NewEvent(prev *Event, kind EventKind, org, subject string, at time.Time, record any) (Event, error) {
	payload, err := json.Marshal(record)
	if err != nil {
		return Event{}, Internal("encode event payload", err)
	}
	e := Event{Seq: 1, Kind: kind, Org: org, SubjectID: subject, At: at.UTC().Truncate(time.Microsecond), Payload: payload, PrevHash: GenesisHash}
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
	return e, nil
}

// ComputeHash returns the SHA-256 over the event's fields and its PrevHash.
func (e Event) ComputeHash() string {
	h := sha256.New()
	for _, s := range []string{
		e.PrevHash, strconv.FormatInt(e.Seq, 10), string(e.Kind), e.Org, e.SubjectID,
		e.At.UTC().Format(time.RFC3339Nano),
	} {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	h.Write(e.Payload)
	return hex.EncodeToString(h.Sum(nil))
}

// ChainError names the first broken link of the log.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("event chain broken at seq %d: %s", e.Seq, e.Reason)
}

// EventReader pages through the log in sequence order.
type EventReader interface {
	// Events returns up to limit events with Seq > after, in order.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
}

// VerifyChain reads the whole log and checks every link. It returns the
// number of events checked and a *ChainError naming the first broken link.
func VerifyChain(ctx context.Context, r EventReader) (int64, error) {
	prev := GenesisHash
	var seq int64
	for {
		page, err := r.Events(ctx, seq, 1000)
		if err != nil {
			return seq, err
		}
		for _, e := range page {
			want := seq + 1
			switch {
			case e.Seq != want:
				return seq, &ChainError{Seq: want, Reason: fmt.Sprintf("missing: next event has seq %d", e.Seq)}
			case e.PrevHash != prev:
				return seq, &ChainError{Seq: e.Seq, Reason: "prev_hash does not match the hash of the event before"}
			case e.ComputeHash() != e.Hash:
				return seq, &ChainError{Seq: e.Seq, Reason: "content does not match its hash (edited)"}
			}
			prev, seq = e.Hash, e.Seq
		}
		if len(page) < 1000 {
			return seq, nil
		}
	}
}
