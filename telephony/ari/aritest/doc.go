// Package aritest is a fake Asterisk for tests and demos: the ARI REST
// resources a Stasis IVR uses, under /ari, and the events websocket at
// /ari/events, shaped after Asterisk's own declaration (rest-api/api-docs of
// Asterisk 22) and after frames captured from Asterisk 20 with real SIP
// calls. The real github.com/CyCoreSystems/ari/v5 client (client/native)
// works against it unchanged; so should any ARI client.
//
// What it models, because real Asterisk does it and adapters trip on it:
//
//   - POST parameters come as a JSON body or as query parameters (a query
//     "media" value is a comma-separated list; a body string is one URI).
//   - Errors are JSON {"message": …} with the status of the declaration:
//     404 for a channel or playback that is gone, 409 for a channel that
//     left Stasis.
//   - A playback is 201 "queued"; PlaybackStarted may reach the websocket
//     before the HTTP response; a hang-up fails the running playback; a
//     second playback on a channel queues behind the first.
//   - Several media play back to back as segments, as res_stasis_playback.c
//     does (capture 10): each segment has a PlaybackStarted of its own and
//     ends with a PlaybackContinuing (media_uri the segment, next_media_uri
//     the next), the last with PlaybackFinished. A missing sound starts and
//     ends in the same millisecond and the playback goes on with the next
//     media; a missing last sound ends it "failed". HTTP media
//     (sound:http://…) fail the same way without res_http_media_cache.so
//     (Options.Modules, GET /asterisk/modules/{name}).
//   - GET /sounds/{id} answers from Asterisk's sound index, which takes the
//     folders at the top of the sounds directory for languages
//     (Options.SoundDirs): "sound:verzet/nl/offer-1" is "nl/offer-1" in
//     language "verzet" there.
//   - POST /applications/{app}/subscription?eventSource=channel:{id} gives
//     an application the events of a channel another one holds (keys,
//     playbacks, hang-up, ChannelDestroyed); POST /channels/{id}/move
//     waits for the channel's playback to end, then StasisEnd to the old
//     application and StasisStart, with the move's arguments, to the new
//     one (capture 09). A channel whose application lost its websocket
//     stays in Stasis, its playback playing on.
//   - Timestamps are the fake's clock when the event is sent (Options.Now),
//     as Asterisk stamps its own: a segment's events are as far apart as
//     the segment played.
//   - Hang-ups: ChannelVarset noise (RTP statistics), ChannelHangupRequest
//     ({"cause":32,"soft":true} when the app hung up, no cause when the
//     caller did), PlaybackFinished "failed", StasisEnd — and no
//     ChannelDestroyed, which a plain app never gets.
//   - The application's event filter (PUT /applications/{app}/eventFilter)
//     is applied to every event and reset whenever the app registers again.
//   - A second websocket for the same app takes it over: the first gets
//     ApplicationReplaced and nothing after it. Events for an app with no
//     websocket are lost, as Asterisk's "missed message".
//   - Timestamps use ARI's layout, 2006-01-02T15:04:05.000-0700.
//
// Tests drive it as the network and the caller would: StartCall, Press,
// HangUp; CutOff (the clients of one ari.conf user gone, as a killed
// instance); DropWebsockets, MuteWebsockets (half-open), RefuseWebsockets,
// Restart, Stop/Start (connection refused while stopped), SetLatency (a
// slow node); Emit/EmitRaw for frames of their own
// (an unknown event type, a bad timestamp). Requests are recorded. DeadURL
// and Blackhole give nodes that refuse or never answer.
//
// cmd: go run ./telephony/ari/aritest/fakeari serves it on a port, with
// scripted calls, for trying `verzet serve` end to end.
//
// aritest uses only the standard library.
package aritest
