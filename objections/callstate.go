package objections

import (
	"strconv"
	"time"
)

// CallState is the state a webhook-driven adapter keeps for one live call
// between two webhooks, so that any instance can take the next one. Data is
// the adapter's own encoding (for Twilio: the dialogue state and its
// webhook bookkeeping); the store keeps it opaque.
//
// Writes use optimistic concurrency: a CallState is created with Version 1,
// and every later save carries the previous Version + 1. A save whose
// previous version is no longer the stored one lost a race and is ECONFLICT:
// the caller loads again and redoes its step.
//
// CallStates are working data, not evidence: they hold the customer number
// only while the call runs, and serve purges them a day after their last
// update (the offer and the objection are the evidence).
type CallState struct {
	Provider  string    `json:"provider"` // "twilio"
	Ref       string    `json:"ref"`      // the provider's call reference (CallSid)
	Version   int64     `json:"version"`
	Data      []byte    `json:"data"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxCallStateData bounds CallState.Data.
const MaxCallStateData = 256 << 10

// Validate checks st before a save. EINVALID names the field.
func (st CallState) Validate() error {
	switch {
	case st.Provider == "":
		return Invalid("provider", st.Provider, "is empty")
	case len(st.Provider) > MaxRef:
		return Invalid("provider", st.Provider[:32]+"…", "is longer than %d characters", MaxRef)
	case st.Ref == "":
		return Invalid("ref", st.Ref, "is empty")
	case len(st.Ref) > MaxRef:
		return Invalid("ref", st.Ref[:32]+"…", "is longer than %d characters", MaxRef)
	case st.Version < 1:
		return Invalid("version", strconv.FormatInt(st.Version, 10), "must be 1 (create) or the stored version + 1")
	case len(st.Data) > MaxCallStateData:
		return Invalid("data", strconv.Itoa(len(st.Data))+" bytes", "is larger than %d bytes", MaxCallStateData)
	}
	return nil
}

// CheckStorable validates st (Validate) and fills what a store needs: a
// zero UpdatedAt is the current time, and nil Data is empty (the column is
// NOT NULL). Times become StoredTime.
func (st *CallState) CheckStorable() error {
	if err := st.Validate(); err != nil {
		return err
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = time.Now()
	}
	st.UpdatedAt = StoredTime(st.UpdatedAt)
	if st.Data == nil {
		st.Data = []byte{}
	}
	return nil
}

// CallStateExists is the ECONFLICT of creating st (Version 1) when another
// writer created the call's state first.
func CallStateExists(st CallState) error {
	return Errorf(ECONFLICT, "create call state %s: another writer created it first", st.Ref)
}

// CallStateMoved is the ECONFLICT of saving st when the stored version is
// stored, not st.Version-1: another writer saved first.
func CallStateMoved(st CallState, stored int64) error {
	return Errorf(ECONFLICT, "save call state %s version %d: stored version is %d", st.Ref, st.Version, stored)
}
