// Package twilio is the Twilio Programmable Voice adapter: it drives the ivr
// dialogue over Twilio's stateless webhooks and TwiML.
//
// Handler serves the webhooks (POST /twilio/voice, /twilio/gather,
// /twilio/status) and the prompt audio its TwiML plays (GET
// /prompts/{lang}/{name}.wav). Each webhook is verified with twilio-go's
// client.RequestValidator before any value is read; the dialogue is
// ivr.Dialogue.Turn, one step per webhook; the call's record lives in the
// store (Calls) keyed by CallSid, so any instance takes any webhook, and a
// retried webhook is answered again without recording anything twice.
//
// Handoff moves a live call into the dialogue through the REST API
// (UpdateCall). Twilio's side of a call — signed requests, <Gather>,
// <Redirect>, status callbacks — is played by package twiliotest, for
// demos, smoke tests and the load benchmark.
//
// Provider types stop here: the package imports ivr, prompts, objections,
// zap and twilio-go only, never another adapter or a concrete store.
// deploy/twilio/README.md describes the wiring on Twilio's side.
package twilio
