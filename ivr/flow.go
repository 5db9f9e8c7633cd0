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
	return f.withDefaults()
}
