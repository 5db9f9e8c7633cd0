package ivr

import (
	"encoding"
	"encoding/json"
	"strconv"
	"strings"

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
		return State{}, objections.Invalid("state", clipValue(string(b)), "is not a dialogue state: %v", err)
	}
	return s, nil
}

// Phase and Profile are stored by name ("offer", "us"), so that reordering
// their constants cannot change what a stored call means. Records written
// before held the integers; legacyPhase and legacyProfile freeze what each
// integer meant then, and must never change.

func legacyPhase(n int64) (Phase, bool) {
	old := [...]Phase{0, PhaseOffer, PhaseInvalid, PhaseRepeat, PhaseRecording, PhaseConfirm, PhaseSorry, PhaseGoodbye, PhaseDone}
	if n < 0 || n >= int64(len(old)) {
		return 0, false
	}
	return old[n], true
}

func legacyProfile(n int64) (Profile, bool) {
	old := [...]Profile{0, ProfileNL, ProfileUS}
	if n < 0 || n >= int64(len(old)) {
		return 0, false
	}
	return old[n], true
}

// MarshalText implements encoding.TextMarshaler: the phase's name.
func (p Phase) MarshalText() ([]byte, error) {
	name, ok := phaseNames[p]
	if !ok {
		return nil, objections.Invalid("phase", strconv.Itoa(int(p)), "is not a dialogue phase")
	}
	return []byte(name), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; EINVALID for a name
// that is not a phase.
func (p *Phase) UnmarshalText(b []byte) error {
	for v, name := range phaseNames {
		if name == string(b) {
			*p = v
			return nil
		}
	}
	return objections.Invalid("phase", clipValue(string(b)), "is not a dialogue phase")
}

// UnmarshalJSON reads the name, or the integer of records written before
// phases were stored by name.
func (p *Phase) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, p, legacyPhase, "phase") }

// MarshalText implements encoding.TextMarshaler: "nl", "us", or "" for
// the unset profile.
func (p Profile) MarshalText() ([]byte, error) {
	switch p {
	case 0:
		return []byte{}, nil
	case ProfileNL, ProfileUS:
		return []byte(p.String()), nil
	}
	return nil, objections.Invalid("profile", strconv.Itoa(int(p)), "is not a profile")
}

// UnmarshalText implements encoding.TextUnmarshaler: "" is the unset
// profile, anything else as ParseProfile reads it.
func (p *Profile) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = 0
		return nil
	}
	v, err := ParseProfile(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// UnmarshalJSON reads the name, or the integer of records written before
// profiles were stored by name.
func (p *Profile) UnmarshalJSON(b []byte) error { return unmarshalEnum(b, p, legacyProfile, "profile") }

// unmarshalEnum decodes a JSON string with the enum's UnmarshalText, and a
// JSON number, the legacy form, with legacy. null changes nothing, as
// encoding/json does for other types.
func unmarshalEnum[T any, P interface {
	*T
	encoding.TextUnmarshaler
}](b []byte, p P, legacy func(int64) (T, bool), field string) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return p.UnmarshalText([]byte(s))
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if v, ok := legacy(n); ok {
			*p = v
			return nil
		}
	}
	return objections.Invalid(field, clipValue(string(b)), "is neither a %s name nor the number of one", field)
}

// clipValue shortens a stored value for an error message.
func clipValue(s string) string { return strings.ToValidUTF8(s[:min(len(s), 32)], "?") }
