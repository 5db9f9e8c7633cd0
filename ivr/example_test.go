package ivr_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/verzet/verzet/ivr"
	"github.com/verzet/verzet/prompts"
)

// The machine is pure: feed it events, get actions. This is the whole
// "press 1" path of the Dutch profile.
func ExampleMachine_Next() {
	m := ivr.NewMachine(ivr.DefaultFlow(), ivr.Context{Org: "acme", Number: "+31612345678", Provider: "twilio", CallRef: "CA1", Language: "nl"})
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var s ivr.State
	for _, e := range []ivr.Event{
		{Kind: ivr.EvStart, At: at},
		{Kind: ivr.EvDigit, At: at.Add(2 * time.Second), Digit: "1"}, // barge-in
		{Kind: ivr.EvPromptEnded, At: at.Add(2 * time.Second), Prompt: prompts.Offer, PlayedMS: 2000},
		{Kind: ivr.EvRecorded, At: at.Add(2 * time.Second), ObjectionID: "obj-1"}, // durable
		{Kind: ivr.EvPromptEnded, At: at.Add(9 * time.Second), Prompt: prompts.Confirm, PlayedMS: 7000},
	} {
		var acts []ivr.Action
		s, acts = m.Next(s, e)
		for _, a := range acts {
			fmt.Println(strings.TrimSpace(a.Kind.String() + " " + string(a.Prompt)))
		}
	}
	fmt.Println(s.Outcome, s.OfferMS)
	// Output:
	// play offer
	// collect
	// stop offer
	// record
	// play confirm
	// close
	// hangup
	// objected 2000
}
