// Package ari drives the ivr dialogue on Asterisk through ARI (the Asterisk
// REST Interface), with github.com/CyCoreSystems/ari/v5 v5.3.1 and its
// client/native. It may import ivr, prompts, objections, zap and ari/v5;
// provider types stop here, and ari/v5's large Client interface stays
// inside the package.
//
// # What it does
//
// One connection per Asterisk node (Config.URLs), each run on its own: a
// dead or slow node never holds up another node or the caller of Run. On
// StasisStart the channel gets one ivr dialogue on a goroutine of its own:
// it is answered if not Up, prompts play as one ARI playback of their sounds
// ("sound:verzet/nl/offer-1,…", installed by `verzet prompts install
// --asterisk-sounds`), or from verzet over HTTP when Config.MediaURL is set
// (MediaHandler; needs Asterisk's res_http_media_cache). Keys come from
// ChannelDtmfReceived; a key during a prompt stops it (barge-in). The call
// ends on ChannelHangupRequest or StasisEnd: a plain app never gets
// ChannelDestroyed. After the dialogue the channel is hung up, or, when the
// org's flow says "continue", handed back to the dialplan at the priority
// after Stasis() with VERZET_RESULT set to the outcome.
//
// # Context of a call
//
// From Stasis arguments (name=value, or a bare first argument as the org)
// and channel variables: VERZET_ORG, VERZET_AGENCY, VERZET_CAMPAIGN, VERZET_LEAD,
// VERZET_AGENT, VERZET_DIALER_CALL, VERZET_ANNOUNCED, VERZET_NUMBER,
// VERZET_LANG and VERZET_DIRECTION. Variables listed in ari.conf's
// channelvars arrive with StasisStart; each one missing costs a GET. The
// customer's number when VERZET_NUMBER is not set is described at
// ivrContext: the caller id on an inbound call; on an outbound call the
// caller id of the customer's channel too (Asterisk's Dial() puts the
// dialled number there), unless it equals the connected line (an Originate
// that set both to our presented number), when it is unknown.
//
// # Failures
//
// A websocket drop is re-dialled by ari/v5 itself (every second); the
// adapter sees each (re)connection, sets the event filter again and
// reconciles: channels still in the app resume their dialogue (a playback
// that ended in the gap is settled), dialogues whose channel left close
// their offer, channels without a dialogue get one (after a user event sent
// to our own app has come back, so that a StasisStart merely in flight is
// not mistaken for a lost one). A heartbeat (the same user event, every
// HeartbeatInterval) that fails twice gives the connection up, with its
// cause logged: the node unreachable (the user event could not be sent:
// refused, timed out) or the websocket half-open (sent, not echoed). A
// node that cannot be reached is probed (GET /asterisk/info) every
// RetryInterval, which does not grow, so that the app is registered again
// within about that long after Asterisk is back. ApplicationReplaced (a
// second websocket took the app) is logged loudly. A 404, 409 or 412 from
// a channel that hung up meanwhile ends the call quietly. Every REST call
// has a timeout. A key pressed just before a hang-up is handed to the
// dialogue before the hang-up is (bounded), so the objection stands.
//
// # ari/v5 v5.3.1 sharp edges and their guards
//
//   - native.Connect blocks until it connects, forever when Asterisk is
//     down: a REST probe goes first, Connect runs on a goroutine and is
//     waited for at most ConnectTimeout; a Connect still pending is reused,
//     not multiplied.
//   - Its HTTP client has no timeout: each client gets an http.Client of
//     ours (timeout, per-node pool) before Connect (internals.go).
//   - An event type it does not know (ChannelToneDetected, ChannelTransfer,
//     ApplicationRegistered, RESTResponse, …) crashes the process: its
//     reader hands stdbus a nil event, which stdbus dereferences. Two
//     guards: the application's event filter (PUT
//     /applications/{app}/eventFilter) allows only the types handled here,
//     set after every (re)connect because Asterisk clears it when the app
//     re-registers; and the client's bus is replaced by the adapter's own
//     (eventBus), which drops a nil event (counted in
//     Stats.EventsUndecodable; ari/v5 then re-dials, which is reconciled).
//     The filter exists from Asterisk 13.26 and 16.3 (so in every 17, 18,
//     20, 21, 22 and 23); on older Asterisk the PUT fails, is logged and
//     counted, and only the bus guard remains.
//   - A timestamp it cannot parse forces a reconnect and loses that event:
//     the reconnect is seen and reconciled like any other.
//   - Playback events carry only the playback key: each playback is staged
//     (its handle built), watched by id, then executed, so PlaybackStarted
//     arriving before the POST's answer is caught. They go to the call's
//     own queue, without a bound: a prompt of seven sounds that all fail
//     sends fourteen events at once, and the PlaybackFinished last.
//   - stdbus gives a subscription 100 events and drops the rest silently,
//     and a subscription not cancelled leaks: the adapter's bus replaces
//     stdbus (on the client's listen goroutine, before its reader starts)
//     and queues every event, in order and without a bound, for one router
//     goroutine per connection that does no I/O; there are no
//     subscriptions to leak. Stats.EventBacklogMax shows the deepest queue.
//     A periodic reconcile and a bound on every playback remain for events
//     lost in a websocket gap.
//   - ApplicationReplaced has no key, so stdbus delivers it to nobody; the
//     adapter's bus routes it: logged at ERROR, counted, and the app is
//     taken back only after ReplacedWait. A heartbeat finds half-open
//     connections, which say nothing at all.
//   - native.Client.Close races its own listen loop on an unguarded flag:
//     the listen loop is stopped through its cancel function instead.
//
// # What was played
//
// Asterisk plays each sound of a prompt as a segment: PlaybackStarted at
// its start, PlaybackContinuing at its end (PlaybackFinished after the
// last, after a stop, or on a hang-up), all stamped by Asterisk. The ms
// played that Play reports, and the offer evidence keeps, are these
// segments summed, by Asterisk's timestamps; after a stop (barge-in) or a
// hang-up Play waits up to a second for the PlaybackFinished that ends the
// last segment, and where an end never comes the adapter's clock ends it.
// The prompt's nominal length never counts as played.
//
// # When a prompt cannot be played
//
// A prompt Asterisk cannot play (a sound missing on the node, HTTP media
// without res_http_media_cache or out of reach) is not an offer. Asterisk
// 20 starts and ends such a segment in the same millisecond: with
// PlaybackFinished "failed" when it was the last, with PlaybackContinuing
// when more follow, the playback then ending "done" (checked on 20.20.1,
// aritest/testdata/real-events/10). Play stops the prompt at the first
// such segment and returns an ivr.PlayError naming it; a refused play
// request is one too. The dialogue then ends with outcome error and hands
// the call back (VERZET_RESULT=error) or hangs up, per org. After every
// (re)connection each node is asked whether it can play every prompt
// sound (check.go); what is missing is logged and in MediaProblems, which
// cmd shows on /readyz.
//
// # When an instance dies
//
// With Config.Peers, instances on one store write heartbeats, and a live
// one takes over the channels of one that stopped (takeover.go): a
// subscription to each channel, a stop of the playback left running,
// a move into our application; the offer starts again, following the
// interrupted one in the evidence. Playback ids are named after the
// instance, the channel and a count (call.playbackID) so that the
// instance taking over can stop them.
//
// Run's ctx ends intake: channels that arrive after it are handed back with
// VERZET_RESULT=refused and VERZET_REFUSED=shutdown, active dialogues may
// finish for Config.DrainTimeout, the rest are hung up.
package ari
