package ivr

import (
	"time"

	"github.com/verzet/verzet/objections"
)

// FlowFor returns the dialogue flow an org's settings ask for, with the
// defaults for everything they leave out.
func FlowFor(o objections.Org) Flow {
	s := o.IVR
	f := Flow{KeyObject: s.KeyObject, KeyDecline: s.KeyDecline, Timeout: time.Duration(s.TimeoutMS) * time.Millisecond,
		MaxInvalid: s.MaxInvalid, MaxNoInput: s.MaxNoInput, Continue: s.AfterDialogue == "continue",
		HangupOnError: s.OnError == "hangup"}
	if s.Profile == "us" {
		f.Profile = ProfileUS
	}
	// An org nobody set up has its id as name: the prompts say the generic
	// wording rather than an id.
	if !o.AutoCreated && o.Name != o.ID {
		f.OrgName = o.Name
	}
	f.Voices = s.TwilioVoices
	return f.withDefaults()
}
