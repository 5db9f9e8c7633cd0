// Package twiliotest plays Twilio's side of a call to verzet's Twilio
// webhooks, for demos (verzet simulate twilio), smoke tests, integrators'
// own checks, the adapter's tests and the load benchmark.
//
// Simulator runs one Call: it posts the voice webhook signed as Twilio
// signs it (Sign), follows <Gather> with scripted keys, <Redirect> and
// <Hangup/>, fetches the <Play> audio for its length, and sends the status
// callback; the Transcript says what was asked and answered. ParseTwiML
// reads a TwiML document into its verbs.
//
// It is not part of the production adapter (package twilio, which only
// verifies signatures). It imports the standard library, objections (for
// EINVALID errors) and prompts (to read WAV lengths), and never twilio
// itself, so that twilio's in-package tests can use it.
package twiliotest
