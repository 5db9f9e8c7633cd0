// Package ivr is the telephony-independent post-call dialogue: offer the
// right to object, collect one key, record the objection durably, confirm and
// hang up. It knows nothing of Twilio or Asterisk; the adapters in telephony/
// drive it. It may import objections, objections/spool and prompts only.
package ivr
