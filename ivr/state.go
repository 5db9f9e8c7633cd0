package ivr

import (
	"encoding/json"

	"github.com/verzet/verzet/objections"
)

// MarshalState encodes a state for storage between webhooks.
func MarshalState(s State) ([]byte, error) { return marshalState(s) }

func marshalState(s State) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, objections.Internal("encode dialogue state", err)
	}
	return b, nil
}

// UnmarshalState decodes a stored state; EINVALID when it is not one.
func UnmarshalState(b []byte) (State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, objections.Invalid("state", string(b[:min(len(b), 32)]), "is not a dialogue state: %v", err)
	}
	return s, nil
}
