package aritest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Call describes a channel entering Stasis.
type Call struct {
	// ID is the channel id; default one like Asterisk's uniqueid.
	ID string
	// Args are the Stasis() arguments after the app name.
	Args []string
	// Vars are dialplan variables set before Stasis() (Set()), readable
	// with GET /channels/{id}/variable and, when listed in
	// Options.ChannelVars, in every snapshot.
	Vars map[string]string
	// Caller and Connected are the caller id and connected line numbers.
	Caller, CallerName, Connected string
	// State is the channel state at StasisStart (default "Up").
	State string
	// Context and Exten are the dialplan location (default verzet-handoff, s).
	Context, Exten string
}

// ChannelInfo is what a test can check about a channel.
type ChannelInfo struct {
	ID, State        string
	InStasis, Alive  bool
	Answered         bool
	HungUpBy         string // "", "app" (DELETE /channels/{id}) or "caller"
	HangupReason     string // reason of the app's hang-up
	Continued        bool
	ContinueContext  string
	ContinueExten    string
	ContinuePriority int
	Played           [][]string // media of every play request, in order
	Playing          string     // id of the playback in progress, if any
	PlayingMedia     string     // the media URI it plays now
	Vars             map[string]string
	// App is the Stasis application that holds the channel (after a move,
	// the one it moved to).
	App string
}

type channel struct {
	id, name, state    string
	app                string
	dialplanApp        string // the application Stasis() named: app_data keeps it after a move
	moves              []move // moves waiting for the channel's playbacks to end
	args               []string
	caller, callerName string
	connected          string
	vars               map[string]string
	created            time.Time
	context, exten     string
	inStasis, answered bool
	hungUpBy, reason   string
	continued          bool
	contCtx, contExten string
	contPrio           int
	played             [][]string
	current            *playback
	queue              []*playback
	alive              bool
	dialplanArgs       []string // the arguments Stasis() gave
}

// move is a POST /channels/{id}/move waiting for its turn: Asterisk runs a
// channel's commands in order on the channel's thread, and a playback is
// one command from its first sound to its last.
type move struct {
	app  string
	args []string
}

type playback struct {
	id, channel string
	media       []string
	idx         int
	state       string
	timer       *time.Timer
}

// StartCall puts a new channel into Stasis(app) and sends StasisStart. It
// fails with ErrNotRegistered when no websocket holds the app, which is
// when Asterisk's Stasis() sets STASISSTATUS=FAILED.
func (a *Asterisk) StartCall(appName string, c Call) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.apps[appName]
	if ap == nil || ap.conn == nil {
		return "", ErrNotRegistered
	}
	a.seq++
	id := c.ID
	if id == "" {
		id = fmt.Sprintf("%d.%d", a.epoch, a.seq)
	}
	if _, ok := a.channels[id]; ok {
		return "", fmt.Errorf("aritest: channel %s exists", id)
	}
	ch := &channel{id: id, name: fmt.Sprintf("PJSIP/trunk-%08x", a.seq), state: c.State, app: appName, args: slices.Clone(c.Args),
		caller: c.Caller, callerName: c.CallerName, connected: c.Connected, vars: maps.Clone(c.Vars), created: a.opts.Now(),
		context: c.Context, exten: c.Exten, inStasis: true, alive: true, dialplanApp: appName}
	if ch.state == "" {
		ch.state = "Up"
	}
	if ch.vars == nil {
		ch.vars = map[string]string{}
	}
	if ch.context == "" {
		ch.context = "verzet-handoff"
	}
	if ch.exten == "" {
		ch.exten = "s"
	}
	if ch.args == nil {
		ch.args = []string{}
	}
	ch.dialplanArgs = ch.args
	a.channels[id] = ch
	a.emitLocked(appName, map[string]any{"type": "StasisStart", "args": ch.args, "channel": a.snapLocked(ch)})
	return id, nil
}

// Press sends one ChannelDtmfReceived per digit, as RFC 2833 keys arrive.
func (a *Asterisk) Press(id, digits string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.channels[id]
	if ch == nil || !ch.inStasis {
		return fmt.Errorf("aritest: channel %s not in Stasis", id)
	}
	for _, d := range digits {
		a.emitChanLocked(ch, map[string]any{"type": "ChannelDtmfReceived", "digit": string(d), "duration_ms": 280, "channel": a.snapLocked(ch)})
	}
	return nil
}

// HangUp is the caller hanging up (a BYE): the events of a real hang-up
// reach the app, and the channel is gone.
func (a *Asterisk) HangUp(id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.channels[id]
	if ch == nil {
		return fmt.Errorf("aritest: no channel %s", id)
	}
	a.hangupLocked(ch, "caller", "")
	return nil
}

// Channel returns what a test can check about a channel, hung up or not.
func (a *Asterisk) Channel(id string) (ChannelInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch := a.channels[id]
	if ch == nil {
		ch = a.goneLocked(id)
		if ch == nil {
			return ChannelInfo{}, false
		}
	}
	info := ChannelInfo{ID: ch.id, State: ch.state, InStasis: ch.inStasis, Alive: ch.alive, Answered: ch.answered,
		HungUpBy: ch.hungUpBy, HangupReason: ch.reason, Continued: ch.continued, ContinueContext: ch.contCtx,
		ContinueExten: ch.contExten, ContinuePriority: ch.contPrio, Vars: maps.Clone(ch.vars), App: ch.app}
	for _, m := range ch.played {
		info.Played = append(info.Played, slices.Clone(m))
	}
	if pb := ch.current; pb != nil {
		info.Playing, info.PlayingMedia = pb.id, pb.media[pb.idx]
	}
	return info, true
}

// Channels lists the ids of channels alive, in Stasis or in the dialplan.
func (a *Asterisk) Channels() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.channels))
}

// goneLocked returns a hung-up channel kept for assertions.
func (a *Asterisk) goneLocked(id string) *channel {
	if a.dead == nil {
		return nil
	}
	return a.dead[id]
}

func (a *Asterisk) snapLocked(ch *channel) map[string]any {
	appData := ch.dialplanApp
	if len(ch.dialplanArgs) > 0 {
		appData += "," + strings.Join(ch.dialplanArgs, ",")
	}
	m := map[string]any{
		"id": ch.id, "name": ch.name, "state": ch.state, "protocol_id": "aritest-" + ch.id,
		"caller":      map[string]string{"name": ch.callerName, "number": ch.caller},
		"connected":   map[string]string{"name": "", "number": ch.connected},
		"accountcode": "",
		"dialplan": map[string]any{"context": ch.context, "exten": ch.exten, "priority": 2,
			"app_name": "Stasis", "app_data": appData},
		"creationtime": ch.created.Format(DateFormat),
		"language":     "en",
	}
	if len(a.opts.ChannelVars) > 0 {
		cv := map[string]string{}
		for _, n := range a.opts.ChannelVars {
			cv[n] = ch.vars[n]
		}
		m["channelvars"] = cv
	}
	return m
}

func pbJSON(pb *playback) map[string]any {
	m := map[string]any{"id": pb.id, "media_uri": pb.media[min(pb.idx, len(pb.media)-1)], "target_uri": "channel:" + pb.channel,
		"language": "en", "state": pb.state}
	if pb.idx+1 < len(pb.media) {
		m["next_media_uri"] = pb.media[pb.idx+1]
	}
	return m
}

// rtpVarset are the variables chan_sip sets on every hang-up (noise an
// adapter must ignore).
var rtpVarset = []string{"RTPAUDIOQOS", "RTPAUDIOQOSJITTER", "RTPAUDIOQOSLOSS", "RTPAUDIOQOSRTT", "RTPAUDIOQOSMES"}

func (a *Asterisk) hangupLocked(ch *channel, by, reason string) {
	if ch.inStasis {
		snap := a.snapLocked(ch)
		for _, v := range rtpVarset {
			a.emitChanLocked(ch, map[string]any{"type": "ChannelVarset", "variable": v, "value": "ssrc=1;rxcount=0;txcount=0", "channel": snap})
		}
		hr := map[string]any{"type": "ChannelHangupRequest", "channel": snap}
		if by == "app" {
			hr["cause"], hr["soft"] = 32, true
		}
		a.emitChanLocked(ch, hr)
	}
	a.endPlaybacksLocked(ch, "failed")
	ch.moves = nil
	if ch.inStasis {
		a.emitLocked(ch.app, map[string]any{"type": "StasisEnd", "channel": a.snapLocked(ch)})
	}
	// Only an application subscribed to the channel itself hears of its
	// destruction (ari-real-events 06): a plain Stasis app does not.
	for _, name := range a.subscribersLocked(ch) {
		a.emitLocked(name, map[string]any{"type": "ChannelDestroyed", "cause": 16, "cause_txt": "Normal Clearing", "channel": a.snapLocked(ch)})
		delete(a.apps[name].subs, ch.id)
	}
	ch.inStasis, ch.alive, ch.hungUpBy, ch.reason = false, false, by, reason
	delete(a.channels, ch.id)
	if a.dead == nil {
		a.dead = map[string]*channel{}
	}
	if len(a.dead) > 100000 {
		clear(a.dead)
	}
	a.dead[ch.id] = ch
}

func (a *Asterisk) startLocked(ch *channel, pb *playback) {
	ch.current = pb
	pb.idx = 0
	a.segmentLocked(ch, pb)
}

// segmentLocked plays media pb.idx as res_stasis_playback does: each media
// URI of a playback is a segment with a PlaybackStarted of its own, and a
// missing sound starts and fails in the same millisecond.
func (a *Asterisk) segmentLocked(ch *channel, pb *playback) {
	pb.state = "playing"
	a.emitChanLocked(ch, map[string]any{"type": "PlaybackStarted", "playback": pbJSON(pb)})
	d, ok := a.opts.SoundDuration(pb.media[pb.idx])
	if m := pb.media[pb.idx]; (strings.HasPrefix(m, "sound:http://") || strings.HasPrefix(m, "sound:https://")) && !a.moduleLocked(mediaCacheModule) {
		ok = false // no HTTP media without res_http_media_cache
	}
	if !ok {
		a.segmentEndLocked(ch, pb, "failed")
		return
	}
	pb.timer = time.AfterFunc(d, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if ch.current == pb && pb.state == "playing" {
			a.segmentEndLocked(ch, pb, "done")
		}
	})
}

// segmentEndLocked ends the segment playing: a PlaybackContinuing and the
// next segment follow, failed or not; after the last one the playback
// finishes with state.
func (a *Asterisk) segmentEndLocked(ch *channel, pb *playback, state string) {
	if pb.idx+1 == len(pb.media) {
		a.finishLocked(ch, pb, state, true)
		return
	}
	pb.state = "continuing"
	a.emitChanLocked(ch, map[string]any{"type": "PlaybackContinuing", "playback": pbJSON(pb)})
	pb.idx++
	a.segmentLocked(ch, pb)
}

// endPlaybacksLocked ends the channel's running playback with state and
// drops its queued ones: the channel is leaving Stasis.
func (a *Asterisk) endPlaybacksLocked(ch *channel, state string) {
	if ch.current != nil {
		a.finishLocked(ch, ch.current, state, false)
	}
	for _, pb := range ch.queue {
		delete(a.playbacks, pb.id)
	}
	ch.queue = nil
}

func (a *Asterisk) finishLocked(ch *channel, pb *playback, state string, next bool) {
	if pb.timer != nil {
		pb.timer.Stop()
	}
	pb.state = state
	a.emitChanLocked(ch, map[string]any{"type": "PlaybackFinished", "playback": pbJSON(pb)})
	delete(a.playbacks, pb.id)
	if ch.current == pb {
		ch.current = nil
	}
	if next && len(ch.queue) > 0 {
		n := ch.queue[0]
		ch.queue = ch.queue[1:]
		a.startLocked(ch, n)
		return
	}
	if next {
		a.movesLocked(ch)
	}
}

// onChannel serves a request on the channel {id} under the fake's lock, or
// writes the error Asterisk would: 404 when it is gone, 409 when it left
// Stasis (if stasis is required).
func (a *Asterisk) onChannel(stasis bool, h func(http.ResponseWriter, *http.Request, params, *channel)) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		a.mu.Lock()
		defer a.mu.Unlock()
		ch := a.channels[r.PathValue("id")]
		switch {
		case ch == nil:
			writeError(w, http.StatusNotFound, "Channel not found")
		case stasis && !ch.inStasis:
			writeError(w, http.StatusConflict, "Channel not in Stasis application")
		default:
			h(w, r, p, ch)
		}
	}
}

// required answers 400 with msg when the parameter name is missing or
// empty, before the resource is looked at, as Asterisk does.
func required(name, msg string, h func(http.ResponseWriter, *http.Request, params)) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		if v := p.list(name); len(v) == 0 || slices.Contains(v, "") {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
		h(w, r, p)
	}
}

func (a *Asterisk) listChannels(w http.ResponseWriter, r *http.Request, p params) {
	a.mu.Lock()
	defer a.mu.Unlock()
	writeJSON(w, http.StatusOK, sortedJSON(a.channels, a.snapLocked))
}

func (a *Asterisk) getChannel(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	writeJSON(w, http.StatusOK, a.snapLocked(ch))
}

func (a *Asterisk) hangupChannel(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	reason := p.str("reason")
	if reason == "" {
		reason = p.str("reason_code")
	}
	a.hangupLocked(ch, "app", reason)
	w.WriteHeader(http.StatusNoContent)
}

func (a *Asterisk) answer(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	ch.answered = true
	if ch.state != "Up" {
		ch.state = "Up"
		a.emitChanLocked(ch, map[string]any{"type": "ChannelStateChange", "channel": a.snapLocked(ch)})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *Asterisk) play(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	media := p.list("media")
	id := r.PathValue("pb")
	if id == "" {
		id = p.str("playbackId")
	}
	if id == "" {
		a.pbSeq++
		id = fmt.Sprintf("pb-%d-%d", a.epoch, a.pbSeq)
	}
	if _, ok := a.playbacks[id]; ok {
		writeError(w, http.StatusConflict, "Playback ID already in use")
		return
	}
	pb := &playback{id: id, channel: ch.id, media: media, state: "queued"}
	a.playbacks[id] = pb
	ch.played = append(ch.played, slices.Clone(media))
	resp := pbJSON(pb)
	// Asterisk publishes PlaybackStarted from the channel's thread: it may
	// reach the websocket before this response. The fake does it first.
	if ch.current == nil {
		a.startLocked(ch, pb)
	} else {
		ch.queue = append(ch.queue, pb)
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (a *Asterisk) continueChannel(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	ch.continued, ch.contCtx, ch.contExten, ch.moves = true, p.str("context"), p.str("extension"), nil
	fmt.Sscan(p.str("priority"), &ch.contPrio)
	a.endPlaybacksLocked(ch, "done")
	a.emitLocked(ch.app, map[string]any{"type": "StasisEnd", "channel": a.snapLocked(ch)})
	ch.inStasis = false
	w.WriteHeader(http.StatusNoContent)
}

func (a *Asterisk) getVariable(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	name := p.str("variable")
	v, ok := ch.vars[name]
	if !ok {
		writeError(w, http.StatusNotFound, "Provided variable was not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"value": v})
}

func (a *Asterisk) setVariable(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	name := p.str("variable")
	ch.vars[name] = p.str("value")
	w.WriteHeader(http.StatusNoContent)
}

// onPlayback serves a request on the playback {id} under the fake's lock,
// or answers 404 when it is over.
func (a *Asterisk) onPlayback(h func(http.ResponseWriter, *http.Request, params, *playback)) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if pb := a.playbacks[r.PathValue("id")]; pb != nil {
			h(w, r, p, pb)
			return
		}
		writeError(w, http.StatusNotFound, "Playback not found")
	}
}

func (a *Asterisk) getPlayback(w http.ResponseWriter, r *http.Request, p params, pb *playback) {
	writeJSON(w, http.StatusOK, pbJSON(pb))
}

func (a *Asterisk) stopPlayback(w http.ResponseWriter, r *http.Request, p params, pb *playback) {
	ch := a.channels[pb.channel]
	switch {
	case ch != nil && ch.current == pb:
		a.finishLocked(ch, pb, "done", true)
	case ch != nil:
		ch.queue = slices.DeleteFunc(ch.queue, func(q *playback) bool { return q == pb })
		delete(a.playbacks, pb.id)
	default:
		delete(a.playbacks, pb.id)
	}
	w.WriteHeader(http.StatusNoContent)
}

// emitChanLocked sends an event of channel ch to the application that
// holds it in Stasis and to every other application subscribed to it
// (POST /applications/{app}/subscription?eventSource=channel:{id}), once
// each: events Asterisk publishes on the channel's topic (playbacks, keys,
// hang-up requests, variables, state).
func (a *Asterisk) emitChanLocked(ch *channel, ev map[string]any) {
	sent := map[string]bool{}
	if ch.inStasis {
		sent[ch.app] = true
		a.emitLocked(ch.app, maps.Clone(ev))
	}
	for _, name := range a.subscribersLocked(ch) {
		if !sent[name] {
			sent[name] = true
			a.emitLocked(name, maps.Clone(ev))
		}
	}
}

// subscribersLocked lists the applications subscribed to ch explicitly.
func (a *Asterisk) subscribersLocked(ch *channel) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(a.apps)) {
		if a.apps[name].subs[ch.id] {
			out = append(out, name)
		}
	}
	return out
}

// moveChannel is POST /channels/{id}/move: the channel leaves its Stasis
// application for another, with new arguments (Asterisk 13.26, 16.3 and
// later). Asterisk queues it behind the channel's running playback, which
// plays to its end first; then the old application gets StasisEnd and the
// new one StasisStart. A target that is not registered with a websocket
// leaves the channel where it is (ApplicationMoveFailed to its
// application, which ari/v5 cannot decode: the event filter drops it).
func (a *Asterisk) moveChannel(w http.ResponseWriter, r *http.Request, p params, ch *channel) {
	var args []string
	for _, s := range strings.Split(p.str("appArgs"), ",") {
		if s != "" {
			args = append(args, s)
		}
	}
	ch.moves = append(ch.moves, move{app: p.str("app"), args: args})
	if ch.current == nil && len(ch.queue) == 0 {
		a.movesLocked(ch)
	}
	w.WriteHeader(http.StatusNoContent)
}

// movesLocked runs the moves waiting on ch, in order.
func (a *Asterisk) movesLocked(ch *channel) {
	for len(ch.moves) > 0 && ch.inStasis {
		m := ch.moves[0]
		ch.moves = ch.moves[1:]
		if ap := a.apps[m.app]; ap == nil || ap.conn == nil {
			a.emitLocked(ch.app, map[string]any{"type": "ApplicationMoveFailed", "channel": a.snapLocked(ch), "destination": m.app, "args": slices.Clone(m.args)})
			continue
		}
		a.emitLocked(ch.app, map[string]any{"type": "StasisEnd", "channel": a.snapLocked(ch)})
		ch.app, ch.args = m.app, m.args
		if ch.args == nil {
			ch.args = []string{}
		}
		a.emitLocked(ch.app, map[string]any{"type": "StasisStart", "args": slices.Clone(ch.args), "channel": a.snapLocked(ch)})
	}
}
