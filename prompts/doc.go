// Package prompts is the prompt catalogue of the objection IVR: the texts
// and recordings a caller hears after a telemarketing call ("press 1 to no
// longer be called by <org> for marketing"), per language, with versions.
//
// The wording is compliance evidence (REQ-13): it must be configurable per
// tenant and language, versioned and short, and every offer record must be
// able to say exactly what the caller heard. So the package never hands out
// audio without the words it says and a hash over both.
//
// # Prompts and languages
//
// Every language has the prompts Offer, Confirm, Goodbye, Invalid, Repeat
// and Sorry (see ID). Dutch ("nl", DefaultLang) and English ("en") ship
// embedded. Adding a language is a data change: a new folder of files,
// either in the embedded catalogue or in an override directory passed to
// Load. Get does not fall back from one language to another; the IVR
// chooses.
//
// # Layout
//
//	{lang}/{id}.txt          prompt text, one line, with placeholders
//	{lang}/{id}.wav          its audio if the text has one spoken piece,
//	{lang}/{id}-1.wav …      else one file per spoken piece between placeholders
//	{lang}/org.txt, org.wav  generic wording for {org} ("deze organisatie")
//	{lang}/digit/0.wav … 9.wav  the keys, for {key_object} and {key_decline}
//	org/{orgid}.txt, .wav    optional: an organisation's name, as spoken
//
// Names starting with "." or "_" are ignored (drafts, editor files); a WAV
// no prompt uses, or any other folder, is an error, so that a left-over
// recording can never be mistaken for the current one.
//
// Placeholders are {org} (the organisation), {key_object} (default 1) and
// {key_decline} (default 2). The offer must contain {org} and {key_object},
// so that it always names the organisation and the key heard is always the
// key the IVR listens for. Other prompts may state things literally.
// Place {org} inside a sentence, since the generic wording is lower case.
//
// # Audio with a variable organisation name
//
// The organisation's name varies per call. So audio is composed: each prompt's
// recording is split at its placeholders, and Catalog.Compose joins the
// pieces with the organisation's name recording org/{orgid}.wav and the
// key digits. When an organisation has no name recording, the language's
// generic wording is played instead, and Playback.Text says so ("... door
// deze organisatie ..."), because the text must describe what was played,
// not what was meant. Playback.Hash covers the text and every sound played.
// Rendering a full recording per organisation would sound better but would
// multiply the catalogue by the number of organisations and tie every
// wording change to all of them; composing keeps one reviewed recording
// per prompt.
//
// Prompt.Render fills the placeholders with the organisation's display name
// instead, for review screens; Vars.Voice composes the prompt as text for a
// provider's own text-to-speech (Twilio <Say>), the name filled in, with a
// hash over the text and the voice.
//
// # Recordings kept outside the catalogue
//
// A Library puts Recordings on top of the catalogue: an organisation's name
// as spoken (ID OrgName; synthesised when the org is set, or recorded), and
// a prompt recorded as one take for one organisation or for all. verzet
// keeps them in its store, so every instance plays the same audio; the
// Library composes with them (Library.Compose) and serves their sounds
// (Library.Sound, named verzet/store/{hash}). A recording is played only
// while it says the words the call needs: name audio of an earlier name, or
// an offer recorded with other keys, is skipped. CleanAudio trims, checks
// and levels a recording; EncodeWAV writes it. Decoding recordings of other
// formats is prompts/beep's job, synthesis prompts/espeak's.
//
// # Versions
//
// Prompt.Version is the first 12 hex digits of Prompt.Hash, a SHA-256 over
// the text and the prompt's own audio bytes: any change to the wording or
// the recording changes it, and it is the same on every load of the same
// files. Store Playback's Version, Hash, Lang, ID and Text with the offer
// record.
//
// # Audio format and generation
//
// Every WAV is 8 kHz mono 16-bit PCM (ParseWAV checks it; DurationMS comes
// from it and lets the IVR report "ms played"). The embedded audio is made
// from the texts with espeak-ng and sox by
//
//	go generate ./prompts    # runs go run ./gen -dir catalog
//
// and committed, so users need no speech synthesiser. The generate step
// needs the Debian packages espeak-ng and sox. Catalog.Install writes the
// audio below Asterisk's sounds directory (verzet/{lang}/…); Catalog.Sound
// serves it by name, e.g. to Twilio.
//
// This package imports the standard library only and does not log; it
// returns errors (see the Err variables) and values.
package prompts
