package ivr

import (
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/prompts"
)

// Profile chooses the rules a dialogue follows.
type Profile int

// Profiles. The zero value is not a profile, so an unset profile is caught.
const (
	// ProfileNL: offer, one key, record, confirm, hang up (docs/compliance.md REQ-3, REQ-6).
	ProfileNL Profile = iota + 1
	// ProfileUS: the opt-out key is accepted from the first second, the
	// number is recorded and the call ends at once, with no confirmation
	// step (docs/compliance.md US-1, US-3).
	ProfileUS
)

func (p Profile) String() string {
	switch p {
	case ProfileNL:
		return "nl"
	case ProfileUS:
		return "us"
	}
	return "unset"
}

// ParseProfile reads "nl" or "us".
func ParseProfile(s string) (Profile, error) {
	switch s {
	case "nl", "NL", "":
		return ProfileNL, nil
	case "us", "US":
		return ProfileUS, nil
	}
	return 0, objections.Invalid("profile", s, "must be nl or us")
}

// Flow is the per-org configuration of the dialogue. It serialises to
// JSON, so that the webhook-driven Twilio adapter can pin it for the whole
// call; durations are in nanoseconds there.
type Flow struct {
	Profile    Profile       `json:"profile"`
	KeyObject  string        `json:"key_object"`   // default "1"
	KeyDecline string        `json:"key_decline"`  // default "2"; "" in ProfileUS means no decline key
	Timeout    time.Duration `json:"timeout"`      // wait for a key after the offer ends; default 6 s
	MaxInvalid int           `json:"max_invalid"`  // re-offers after an invalid key; default 2
	MaxNoInput int           `json:"max_no_input"` // repeats of the offer when no key comes; default 1
	Debounce   time.Duration `json:"debounce"`     // the same digit again within this is one press; default 300 ms
	// Continue, when true, leaves the call to the dialplan after the
	// dialogue instead of hanging up (Asterisk only).
	Continue bool `json:"continue,omitempty"`
	// HangupOnError, when true, hangs up a call whose offer could not be
	// made (a prompt failed to play); by default it is handed back to the
	// dialplan (Asterisk: VERZET_RESULT=error). Never left in silence.
	HangupOnError bool `json:"hangup_on_error,omitempty"`
	// OrgName is the display name the prompts say (the advertiser's, also
	// on an agency's call); "" says the generic wording ("deze
	// organisatie"). Pinned with the flow, so a rename mid-call does not
	// change what the offer says when it is repeated.
	OrgName string `json:"org_name,omitempty"`
	// Voices are the org's text-to-speech voices per language (Twilio;
	// objections.ParseVoices reads them); Voice is the one this call
	// speaks with, chosen by the adapter: "" plays audio.
	Voices string `json:"voices,omitempty"`
	Voice  string `json:"voice,omitempty"`
}

// DefaultFlow is the Dutch default dialogue.
func DefaultFlow() Flow {
	return Flow{Profile: ProfileNL, KeyObject: "1", KeyDecline: "2", Timeout: 6 * time.Second,
		MaxInvalid: 2, MaxNoInput: 1, Debounce: 300 * time.Millisecond}
}

// withDefaults fills the zero fields of f.
func (f Flow) withDefaults() Flow {
	d := DefaultFlow()
	if f.Profile == 0 {
		f.Profile = d.Profile
	}
	if f.KeyObject == "" {
		f.KeyObject = d.KeyObject
	}
	if f.KeyDecline == "" && f.Profile == ProfileNL {
		f.KeyDecline = d.KeyDecline
	}
	if f.Timeout <= 0 {
		f.Timeout = d.Timeout
	}
	if f.MaxInvalid < 0 {
		f.MaxInvalid = 0
	} else if f.MaxInvalid == 0 {
		f.MaxInvalid = d.MaxInvalid
	}
	if f.MaxNoInput < 0 {
		f.MaxNoInput = 0
	} else if f.MaxNoInput == 0 {
		f.MaxNoInput = d.MaxNoInput
	}
	if f.Debounce <= 0 {
		f.Debounce = d.Debounce
	}
	return f
}

// Validate checks f. EINVALID names the field.
func (f Flow) Validate() error {
	f = f.withDefaults()
	if !isKey(f.KeyObject) {
		return objections.Invalid("key_object", f.KeyObject, "must be one DTMF key 0-9, * or #")
	}
	if f.KeyDecline != "" && (!isKey(f.KeyDecline) || f.KeyDecline == f.KeyObject) {
		return objections.Invalid("key_decline", f.KeyDecline, "must be one DTMF key 0-9, * or #, other than the objection key")
	}
	if f.Timeout > time.Minute {
		return objections.Invalid("timeout", f.Timeout.String(), "must be at most one minute")
	}
	return nil
}

func isKey(s string) bool { return len(s) == 1 && objections.ValidDigit(s) }

// Context is what the adapter knows about the call, handed in at the start.
type Context struct {
	Org string
	// Agency is the agency (call centre) that made the call for Org, when
	// one did: the objection and the offer name it, and the objection is
	// on the agency's own list too.
	Agency string
	// Number is the customer's number: for an outbound telemarketing call the
	// dialled number (from the dialer's data when given), for an inbound one
	// the caller. Empty when unknown or withheld: the objection is then kept
	// against the dialer references with status pending_number.
	Number          string
	PresentedNumber string // the caller id the customer saw
	PersonID        string
	Language        string
	Provider        string // "twilio", "ari"
	CallRef         string // CallSid, channel id
	DialerCallRef   string
	CampaignRef     string
	LeadRef         string
	AgentRef        string
	// Announced is true when the agent announced the option during the
	// conversation (REQ-4).
	Announced bool
}

// Source is the objection source for the context's provider.
func (c Context) Source() objections.Source {
	switch c.Provider {
	case "twilio":
		return objections.SourceIVRTwilio
	case "ari":
		return objections.SourceIVRARI
	}
	return objections.SourceAPI
}

// Phase is where the dialogue is.
type Phase int

// Phases. The zero value means "not started".
const (
	PhaseOffer     Phase = iota + 1 // the offer is playing or the key is awaited
	PhaseInvalid                    // "that key is not valid" is playing
	PhaseRepeat                     // the repeat intro is playing
	PhaseRecording                  // the objection is being written
	PhaseConfirm                    // the confirmation is playing
	PhaseSorry                      // the store and the spool failed: apology playing
	PhaseGoodbye                    // goodbye is playing
	PhaseDone                       // the offer is closed
)

var phaseNames = map[Phase]string{0: "new", PhaseOffer: "offer", PhaseInvalid: "invalid", PhaseRepeat: "repeat",
	PhaseRecording: "recording", PhaseConfirm: "confirm", PhaseSorry: "sorry", PhaseGoodbye: "goodbye", PhaseDone: "done"}

func (p Phase) String() string { return phaseNames[p] }

// State is the whole dialogue state. It is a plain value that serialises to
// JSON, so the webhook-driven Twilio adapter can keep it in the store between
// requests.
type State struct {
	Phase   Phase            `json:"phase"`
	OfferID string           `json:"offer_id"`
	Started time.Time        `json:"started"`
	Playing prompts.ID       `json:"playing,omitempty"` // prompt playing, "" when none
	Keys    []objections.Key `json:"keys"`
	Invalid int              `json:"invalid"`  // invalid keys so far
	NoInput int              `json:"no_input"` // timeouts so far
	// OfferMS is how long the offer prompt played in total (all repeats).
	OfferMS int64 `json:"offer_ms"`
	BargeIn bool  `json:"barge_in"`
	// PromptVersion and PromptHash identify the offer as played; the runner
	// sets them from the catalogue when it composes the offer.
	PromptVersion string `json:"prompt_version,omitempty"`
	PromptHash    string `json:"prompt_hash,omitempty"`
	// Pending is the outcome decided while a last prompt still plays.
	Pending     objections.Outcome `json:"pending,omitempty"`
	Outcome     objections.Outcome `json:"outcome,omitempty"`
	ObjectionID string             `json:"objection_id,omitempty"`
	Spooled     bool               `json:"spooled,omitempty"`
	HungUp      bool               `json:"hung_up,omitempty"`
	EndedBy     string             `json:"ended_by,omitempty"`
	Ended       time.Time          `json:"ended"`
	// LateKey is true once a late objection key asked for the objection to
	// be recorded after the offer was closed (see EvLateDigit).
	LateKey bool `json:"late_key,omitempty"`
	// Reason says why the outcome is error (EvPromptFailed).
	Reason string `json:"reason,omitempty"`
}

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	EvStart        EventKind = iota + 1
	EvDigit                  // a DTMF key; Digit holds it
	EvPromptEnded            // a prompt finished or was stopped; Prompt, PlayedMS
	EvTimeout                // no key within the flow's timeout after the prompt ended
	EvHangup                 // the caller (or the network) ended the call; PlayedMS of the prompt cut off
	EvRecorded               // the objection is durable; ObjectionID, Spooled
	EvRecordFailed           // neither the store nor the spool took it
	// EvLateDigit is a key pressed before the call ended but reported after
	// its end was applied: a Twilio gather webhook overtaken by the status
	// callback. Digit holds it. Before the end it is an ordinary key.
	EvLateDigit
	// EvPromptFailed is a prompt the provider could not play (a sound
	// missing on the node, a play request refused); Prompt, PlayedMS of
	// what did play, and Reason. Before the caller chose, the offer was
	// not made: the outcome is error.
	EvPromptFailed
)

// ReasonRecordFailed is the reason of an offer whose objection key press
// neither the store nor the spool took (outcome error).
const ReasonRecordFailed = "record_failed: neither the store nor the spool took the objection"

// NoteLateKey is the note on an objection recorded from a late key.
const NoteLateKey = "objection key received after the call had ended"

// Event is one input to the machine.
type Event struct {
	Kind        EventKind
	At          time.Time
	Digit       string
	Prompt      prompts.ID // EvPromptEnded: which prompt
	PlayedMS    int64
	ObjectionID string
	Spooled     bool
	By          string // EvHangup: who ended the call (default caller)
	Reason      string // EvPromptFailed: why, e.g. "playback_failed: sound:verzet/nl/offer-1 not found"
}

// ActionKind says what the runner must do.
type ActionKind int

// Action kinds.
const (
	ActPlay     ActionKind = iota + 1 // play Prompt; a key stops it when BargeIn
	ActStop                           // stop the prompt playing (barge-in)
	ActCollect                        // wait Timeout for a key, after the prompt ends
	ActRecord                         // record Objection durably, then report EvRecorded
	ActClose                          // write the Offer evidence
	ActHangup                         // end the call
	ActContinue                       // leave the call to the dialplan
)

var actionNames = map[ActionKind]string{ActPlay: "play", ActStop: "stop", ActCollect: "collect", ActRecord: "record",
	ActClose: "close", ActHangup: "hangup", ActContinue: "continue"}

func (k ActionKind) String() string { return actionNames[k] }

// Action is one output of the machine.
type Action struct {
	Kind      ActionKind
	Prompt    prompts.ID
	BargeIn   bool
	Timeout   time.Duration
	Objection objections.Objection
	Offer     objections.Offer
}

// Machine is the dialogue definition: one per org flow. It is pure — Next
// does no I/O and starts no goroutines — so both runners (the ARI event loop
// and the Twilio webhooks) drive the same dialogue.
type Machine struct {
	flow Flow
	ctx  Context
}

// NewMachine returns the dialogue for one call.
func NewMachine(flow Flow, c Context) *Machine {
	return &Machine{flow: flow.withDefaults(), ctx: c}
}

// Flow returns the machine's flow with defaults applied.
func (m *Machine) Flow() Flow { return m.flow }

// Context returns the call context.
func (m *Machine) Context() Context { return m.ctx }

// Next applies one event to the state and returns the new state and what to
// do. Events that mean nothing in the current phase (a key during the
// confirmation, a second hang-up) change nothing but are kept as evidence
// where they are keys.
func (m *Machine) Next(s State, e Event) (State, []Action) {
	if s.Phase == PhaseDone {
		return m.afterEnd(s, e)
	}
	switch e.Kind {
	case EvStart:
		if s.Phase != 0 {
			return s, nil
		}
		s.Phase, s.Started, s.OfferID = PhaseOffer, e.At, objections.NewID(e.At)
		s.Keys = []objections.Key{}
		return m.playOffer(s)
	case EvDigit, EvLateDigit:
		return m.digit(s, e)
	case EvPromptEnded:
		return m.promptEnded(s, e)
	case EvPromptFailed:
		return m.promptFailed(s, e)
	case EvTimeout:
		if s.Phase != PhaseOffer || s.Playing != "" {
			return s, nil
		}
		s.NoInput++
		if s.NoInput > m.flow.MaxNoInput {
			return m.goodbye(s, objections.OutcomeNoInput)
		}
		s.Phase, s.Playing = PhaseRepeat, prompts.Repeat
		return s, []Action{{Kind: ActPlay, Prompt: prompts.Repeat, BargeIn: true}}
	case EvHangup:
		return m.hangup(s, e)
	case EvRecorded:
		if s.Phase != PhaseRecording {
			return s, nil
		}
		s.ObjectionID, s.Spooled = e.ObjectionID, e.Spooled
		if s.HungUp || m.flow.Profile == ProfileUS {
			return m.close(s, objections.OutcomeObjected, e.At)
		}
		s.Phase, s.Playing, s.Pending = PhaseConfirm, prompts.Confirm, objections.OutcomeObjected
		return s, []Action{{Kind: ActPlay, Prompt: prompts.Confirm}}
	case EvRecordFailed:
		if s.Phase != PhaseRecording {
			return s, nil
		}
		s.Reason = ReasonRecordFailed
		if s.HungUp {
			return m.close(s, objections.OutcomeError, e.At)
		}
		s.Phase, s.Playing, s.Pending = PhaseSorry, prompts.Sorry, objections.OutcomeError
		return s, []Action{{Kind: ActPlay, Prompt: prompts.Sorry}}
	}
	return s, nil
}

// afterEnd handles what comes after the offer was closed: nothing changes,
// except that a late objection key stands (docs/compliance.md §5.8). A caller who
// pressed it and hung up at once can have the end of the call applied
// first; the objection is recorded, once, though the offer's evidence was
// closed without the key.
func (m *Machine) afterEnd(s State, e Event) (State, []Action) {
	switch {
	case e.Kind == EvLateDigit && e.Digit == m.flow.KeyObject && s.ObjectionID == "":
		s.LateKey = true
		o := m.objection(s)
		o.Note = NoteLateKey
		return s, []Action{{Kind: ActRecord, Objection: o}}
	case e.Kind == EvRecorded && s.LateKey && s.ObjectionID == "":
		s.ObjectionID, s.Spooled = e.ObjectionID, e.Spooled
	}
	return s, nil
}

func (m *Machine) playOffer(s State) (State, []Action) {
	s.Phase, s.Playing = PhaseOffer, prompts.Offer
	return s, []Action{{Kind: ActPlay, Prompt: prompts.Offer, BargeIn: true}, {Kind: ActCollect, Timeout: m.flow.Timeout}}
}

func (m *Machine) digit(s State, e Event) (State, []Action) {
	if s.Phase == 0 {
		return s, nil
	}
	// One press, however the provider repeats it (Asterisk may report a key
	// once per RTP event burst; a finger may bounce).
	if n := len(s.Keys); n > 0 && s.Keys[n-1].Digit == e.Digit && e.At.Sub(s.Keys[n-1].At) < m.flow.Debounce {
		return s, nil
	}
	// Keep each valid DTMF key as evidence ("12" at once is two keys, and
	// an invalid answer); anything else is noise and only counts as invalid.
	for _, r := range e.Digit {
		if d := string(r); objections.ValidDigit(d) && len(s.Keys) < 64 {
			s.Keys = append(s.Keys, objections.Key{Digit: d, At: e.At})
		}
	}
	switch s.Phase {
	case PhaseOffer, PhaseInvalid, PhaseRepeat:
	default:
		return s, nil // the choice is made; later keys are evidence only
	}
	var acts []Action
	if s.Playing != "" {
		// Barge-in: the key stops the prompt. Its played ms arrive with the
		// EvPromptEnded that the stop produces, after the machine moved on.
		s.BargeIn = true
		acts = append(acts, Action{Kind: ActStop, Prompt: s.Playing})
		s.Playing = ""
	}
	switch e.Digit {
	case m.flow.KeyObject:
		s.Phase = PhaseRecording
		return s, append(acts, Action{Kind: ActRecord, Objection: m.objection(s)})
	case m.flow.KeyDecline:
		if m.flow.KeyDecline != "" {
			ns, more := m.goodbye(s, objections.OutcomeDeclined)
			return ns, append(acts, more...)
		}
	}
	s.Invalid++
	if s.Invalid > m.flow.MaxInvalid {
		ns, more := m.goodbye(s, objections.OutcomeInvalidInput)
		return ns, append(acts, more...)
	}
	s.Phase, s.Playing = PhaseInvalid, prompts.Invalid
	return s, append(acts, Action{Kind: ActPlay, Prompt: prompts.Invalid, BargeIn: true})
}

func (m *Machine) promptEnded(s State, e Event) (State, []Action) {
	if s.HungUp {
		return s, nil // the hang-up already counted what was played
	}
	if e.Prompt == prompts.Offer {
		s.OfferMS += e.PlayedMS
	}
	if s.Playing == "" || e.Prompt != s.Playing {
		// The end of a prompt stopped by barge-in: the machine moved on.
		return s, nil
	}
	s.Playing = ""
	switch s.Phase {
	case PhaseOffer:
		return s, nil // the collect timer runs now
	case PhaseInvalid, PhaseRepeat:
		return m.playOffer(s)
	case PhaseConfirm, PhaseGoodbye, PhaseSorry:
		return m.close(s, s.Pending, e.At)
	}
	return s, nil
}

// promptFailed applies a prompt that could not be played. Before the
// caller chose (the offer, the repeat, "not a valid key") the offer was
// not made: the outcome is error, with the reason, and the call is handed
// back to the dialplan or hung up (Flow.HangupOnError), not left waiting
// in silence for a key. After the choice (confirmation, goodbye, apology)
// the outcome stands; only the words after it were not heard.
func (m *Machine) promptFailed(s State, e Event) (State, []Action) {
	if s.HungUp {
		return s, nil
	}
	if e.Prompt == prompts.Offer {
		s.OfferMS += e.PlayedMS
	}
	if s.Playing == "" || e.Prompt != s.Playing {
		return s, nil // stopped by a key before it failed: the machine moved on
	}
	s.Playing = ""
	switch s.Phase {
	case PhaseOffer, PhaseInvalid, PhaseRepeat:
		s.Reason = e.Reason
		s.Phase, s.Outcome, s.Ended = PhaseDone, objections.OutcomeError, e.At
		if s.EndedBy == "" {
			s.EndedBy = objections.EndedBySystem
		}
		end := Action{Kind: ActContinue}
		if m.flow.HangupOnError {
			end = Action{Kind: ActHangup}
		}
		return s, []Action{{Kind: ActClose, Offer: m.offer(s)}, end}
	case PhaseConfirm, PhaseGoodbye, PhaseSorry:
		return m.close(s, s.Pending, e.At)
	}
	return s, nil
}

func (m *Machine) goodbye(s State, o objections.Outcome) (State, []Action) {
	s.Phase, s.Playing, s.Pending = PhaseGoodbye, prompts.Goodbye, o
	return s, []Action{{Kind: ActPlay, Prompt: prompts.Goodbye}}
}

func (m *Machine) hangup(s State, e Event) (State, []Action) {
	if s.HungUp {
		return s, nil
	}
	s.HungUp, s.EndedBy = true, e.By
	if s.EndedBy == "" {
		s.EndedBy = objections.EndedByCaller
	}
	if s.Playing == prompts.Offer {
		s.OfferMS += e.PlayedMS
	}
	s.Playing = ""
	switch s.Phase {
	case 0:
		s.Phase, s.Started, s.OfferID, s.Keys = PhaseOffer, e.At, objections.NewID(e.At), []objections.Key{}
		return m.close(s, objections.OutcomeHangupDuringPrompt, e.At)
	case PhaseRecording:
		// The key press stands: the write goes on and closes the offer.
		return s, nil
	case PhaseConfirm, PhaseGoodbye, PhaseSorry:
		return m.close(s, s.Pending, e.At)
	}
	return m.close(s, objections.OutcomeHangupDuringPrompt, e.At)
}

func (m *Machine) close(s State, o objections.Outcome, at time.Time) (State, []Action) {
	s.Phase, s.Outcome, s.Playing, s.Ended = PhaseDone, o, "", at
	if s.EndedBy == "" {
		s.EndedBy = objections.EndedBySystem
	}
	acts := []Action{{Kind: ActClose, Offer: m.offer(s)}}
	switch {
	case s.HungUp:
	case m.flow.Continue:
		acts = append(acts, Action{Kind: ActContinue})
	default:
		acts = append(acts, Action{Kind: ActHangup})
	}
	return s, acts
}

func (m *Machine) objection(s State) objections.Objection {
	c := m.ctx
	o := objections.Objection{
		Org: c.Org, Agency: c.Agency, RawNumber: c.Number, PersonID: c.PersonID, Source: c.Source(), Provider: c.Provider, CallRef: c.CallRef,
		DialerCallRef: c.DialerCallRef, CampaignRef: c.CampaignRef, LeadRef: c.LeadRef, AgentRef: c.AgentRef,
		OfferID: s.OfferID, Actor: "ivr",
	}
	if c.CallRef != "" {
		// The call reference makes a provider's retry, and the spool's
		// replay, the same objection.
		o.IdempotencyKey = c.Provider + ":" + c.CallRef
	}
	return o
}

// offer builds the evidence record; the runner adds the prompt's version,
// hash and language from the catalogue.
func (m *Machine) offer(s State) objections.Offer {
	c := m.ctx
	return objections.Offer{
		ID: s.OfferID, Org: c.Org, Agency: c.Agency, Number: c.Number, PresentedNumber: c.PresentedNumber, Provider: c.Provider, CallRef: c.CallRef,
		DialerCallRef: c.DialerCallRef, CampaignRef: c.CampaignRef, LeadRef: c.LeadRef, AgentRef: c.AgentRef, Announced: c.Announced,
		PromptID: string(prompts.Offer), PromptVersion: s.PromptVersion, PromptHash: s.PromptHash, Language: c.Language, PlayedMS: s.OfferMS, BargeIn: s.BargeIn,
		Keys: append([]objections.Key{}, s.Keys...), Outcome: s.Outcome, EndedBy: s.EndedBy,
		StartedAt: s.Started, EndedAt: s.Ended, ObjectionID: s.ObjectionID, Reason: s.Reason,
	}
}
