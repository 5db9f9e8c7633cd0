package aritest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"go.uber.org/goleak"
	"golang.org/x/net/websocket"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const user, pass = "u", "p"

func captures(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("testdata/real-events/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	return out
}

// TestCapturesDecode: every frame Asterisk 20 sent decodes with ari/v5.
func TestCapturesDecode(t *testing.T) {
	for name, lines := range captures(t) {
		for i, l := range lines {
			if _, err := ariv5.DecodeEvent([]byte(l)); err != nil {
				t.Errorf("%s:%d: %v", name, i+1, err)
			}
		}
	}
}

// listener is a raw events websocket, as Asterisk's frames arrive.
type listener struct {
	t  *testing.T
	ws *websocket.Conn
}

func listen(t *testing.T, a *aritest.Asterisk, app string) *listener {
	t.Helper()
	cfg, err := websocket.NewConfig("ws://"+a.Addr()+"/ari/events?app="+app, "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	before := a.Registrations()
	ws, err := websocket.DialConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ctx, cancel := aritest.Context(t)
	defer cancel()
	if err := a.WaitRegistrations(ctx, before+1); err != nil {
		t.Fatal(err)
	}
	return &listener{t: t, ws: ws}
}

// frames reads until a frame of type last arrives.
func (l *listener) frames(last string) []map[string]any {
	l.t.Helper()
	var out []map[string]any
	_ = l.ws.SetReadDeadline(aritest.Deadline(l.t))
	for {
		var b []byte
		if err := websocket.Message.Receive(l.ws, &b); err != nil {
			l.t.Fatalf("after %d frames: %v", len(out), err)
		}
		if _, err := ariv5.DecodeEvent(b); err != nil {
			l.t.Fatalf("ari/v5 cannot decode %s: %v", b, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, m)
		if m["type"] == last {
			return out
		}
	}
}

func types(frames []map[string]any) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f["type"].(string))
	}
	return out
}

func captureFrames(t *testing.T, file string) []map[string]any {
	var out []map[string]any
	for _, l := range captures(t)[file] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func rest(t *testing.T, a *aritest.Asterisk, method, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, a.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// sameShape checks a fake frame against a captured one: same top-level
// fields, same channel and playback fields.
func sameShape(t *testing.T, fake, real map[string]any) {
	t.Helper()
	if !slices.Equal(keys(fake), keys(real)) {
		t.Errorf("%s: fields %v, Asterisk sends %v", real["type"], keys(fake), keys(real))
	}
	for _, sub := range []string{"channel", "playback"} {
		f, _ := fake[sub].(map[string]any)
		r, _ := real[sub].(map[string]any)
		if r == nil {
			continue
		}
		if !slices.Equal(keys(f), keys(r)) {
			t.Errorf("%s.%s: fields %v, Asterisk sends %v", real["type"], sub, keys(f), keys(r))
		}
	}
}

// sameAsCapture checks frames from the fake against a capture: the same
// types in the same order, each of the same shape.
func sameAsCapture(t *testing.T, got []map[string]any, file string) {
	t.Helper()
	want := captureFrames(t, file)
	if !slices.Equal(types(got), types(want)) {
		t.Fatalf("frames %v\nAsterisk %v", types(got), types(want))
	}
	for i := range got {
		sameShape(t, got[i], want[i])
	}
}

// TestCallerHangupLikeAsterisk drives the fake as capture 03 was made (no
// filter; the offer plays; the caller hangs up) and compares the frames.
func TestCallerHangupLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass,
		SoundDuration: func(string) (time.Duration, bool) { return time.Minute, true }})
	l := listen(t, a, "verzet")
	id, err := a.StartCall("verzet", aritest.Call{Caller: "sipp", CallerName: "sipp"})
	if err != nil {
		t.Fatal(err)
	}
	rest(t, a, "POST", "/channels/"+id+"/play/pb-1?media=sound:verzet/nl/offer", "")
	if err := a.HangUp(id); err != nil {
		t.Fatal(err)
	}
	got := l.frames("StasisEnd")
	sameAsCapture(t, got, "03-caller-hangs-up-during-offer.jsonl")
	if pb := got[len(got)-2]["playback"].(map[string]any); pb["state"] != "failed" {
		t.Errorf("playback cut by the hang-up: %v", pb["state"])
	}
}

// TestAppFlowLikeAsterisk drives the fake as capture 01 was made (filter
// set; offer; key 1; DELETE playback; confirm; DELETE channel).
func TestAppFlowLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass,
		SoundDuration: func(string) (time.Duration, bool) { return time.Minute, true }})
	l := listen(t, a, "verzet")
	filter := `{"allowed":[{"type":"StasisStart"},{"type":"StasisEnd"},{"type":"ChannelDtmfReceived"},{"type":"ChannelHangupRequest"},{"type":"PlaybackStarted"},{"type":"PlaybackFinished"}]}`
	if resp := rest(t, a, "PUT", "/applications/verzet/eventFilter", filter); resp.StatusCode != 200 {
		t.Fatalf("filter: %d", resp.StatusCode)
	}
	id, err := a.StartCall("verzet", aritest.Call{Caller: "sipp", CallerName: "sipp"})
	if err != nil {
		t.Fatal(err)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/play/pb-1", `{"media":"sound:verzet/nl/offer"}`); resp.StatusCode != 201 {
		t.Fatalf("play: %d", resp.StatusCode)
	}
	if err := a.Press(id, "1"); err != nil {
		t.Fatal(err)
	}
	rest(t, a, "DELETE", "/playbacks/pb-1", "")
	rest(t, a, "POST", "/channels/"+id+"/play/pb-2", `{"media":"sound:verzet/nl/confirm"}`)
	if resp := rest(t, a, "DELETE", "/channels/"+id+"?reason=normal", ""); resp.StatusCode != 204 {
		t.Fatalf("hangup: %d", resp.StatusCode)
	}
	got := l.frames("StasisEnd")
	sameAsCapture(t, got, "01-filtered-app-key1.jsonl")
	if hr := got[5]; hr["cause"] != float64(32) || hr["soft"] != true {
		t.Errorf("app hang-up request = %v", hr)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/answer", ""); resp.StatusCode != 404 {
		t.Errorf("answer after hang-up: %d", resp.StatusCode)
	}
}

// TestSegmentsLikeAsterisk: a playback of three media, the second one
// missing, sends what res_stasis_playback.c sends (capture 10 has it from
// a real Asterisk 20): a PlaybackStarted per segment, a PlaybackContinuing
// after each but the last (the failed one too), PlaybackFinished after the
// last.
func TestSegmentsLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass,
		SoundDuration: func(uri string) (time.Duration, bool) { return 10 * time.Millisecond, uri != "sound:b" }})
	l := listen(t, a, "verzet")
	id, err := a.StartCall("verzet", aritest.Call{})
	if err != nil {
		t.Fatal(err)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/play/pb-1?media=sound:a,sound:b,sound:c", ""); resp.StatusCode != 201 {
		t.Fatalf("play: %d", resp.StatusCode)
	}
	got := l.frames("PlaybackFinished")[1:] // after StasisStart
	want := []string{
		"PlaybackStarted sound:a>sound:b playing", "PlaybackContinuing sound:a>sound:b continuing",
		"PlaybackStarted sound:b>sound:c playing", "PlaybackContinuing sound:b>sound:c continuing",
		"PlaybackStarted sound:c> playing", "PlaybackFinished sound:c> done",
	}
	var seen []string
	for _, f := range got {
		pb := f["playback"].(map[string]any)
		next, _ := pb["next_media_uri"].(string)
		seen = append(seen, fmt.Sprintf("%s %s>%s %s", f["type"], pb["media_uri"], next, pb["state"]))
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("frames\n%s\nres_stasis_playback.c sends\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestFilterAndRegistration(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass})
	if resp := rest(t, a, "PUT", "/applications/verzet/eventFilter", `{"allowed":[{"type":"StasisStart"}]}`); resp.StatusCode != 404 {
		t.Fatalf("filter before registration: %d", resp.StatusCode)
	}
	first := listen(t, a, "verzet")
	if resp := rest(t, a, "PUT", "/applications/verzet/eventFilter", `{"allowed":[{"type":"StasisStart"}]}`); resp.StatusCode != 200 {
		t.Fatalf("filter: %d", resp.StatusCode)
	}
	if a.Emit("verzet", map[string]any{"type": "ChannelToneDetected"}) {
		t.Fatal("filtered type sent")
	}
	listen(t, a, "verzet") // a second websocket takes the app
	if f := first.frames("ApplicationReplaced"); len(f) != 1 {
		t.Fatalf("first websocket got %v", types(f))
	}
	if allowed, _, _ := a.EventFilter("verzet"); len(allowed) != 0 {
		t.Fatalf("filter kept across registrations: %v", allowed)
	}
	resp := rest(t, a, "GET", "/channels/nope", "")
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 404 || body["message"] == "" {
		t.Fatalf("unknown channel: %d %v %v", resp.StatusCode, body, err)
	}
	if resp := rest(t, a, "GET", "/asterisk/info", ""); resp.StatusCode != 200 {
		t.Fatalf("info: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", a.URL()+"/asterisk/info", nil)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 401 {
		t.Fatalf("no credentials: %d", resp2.StatusCode)
	}
}

func TestContinueAndVariables(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, ChannelVars: []string{"VERZET_ORG"}})
	listen(t, a, "verzet")
	id, err := a.StartCall("verzet", aritest.Call{Vars: map[string]string{"VERZET_ORG": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Value string }
	if resp := rest(t, a, "GET", "/channels/"+id+"/variable?variable=VERZET_ORG", ""); resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&v) != nil || v.Value != "acme" {
		t.Fatalf("variable: %d %+v", resp.StatusCode, v)
	}
	if resp := rest(t, a, "GET", "/channels/"+id+"/variable?variable=UNSET", ""); resp.StatusCode != 404 {
		t.Fatalf("unset variable: %d", resp.StatusCode)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/continue", `{"context":"","extension":"","priority":0}`); resp.StatusCode != 204 {
		t.Fatalf("continue: %d", resp.StatusCode)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/answer", ""); resp.StatusCode != 409 {
		t.Fatalf("answer after continue: %d", resp.StatusCode)
	}
	ch, _ := a.Channel(id)
	if !ch.Continued || !ch.Alive || ch.InStasis {
		t.Fatalf("channel = %+v", ch)
	}
	if _, err := a.StartCall("other", aritest.Call{}); err != aritest.ErrNotRegistered {
		t.Fatalf("StartCall on an app nobody registered: %v", err)
	}
	var b bytes.Buffer
	resp := rest(t, a, "GET", "/channels/"+id, "")
	_, _ = b.ReadFrom(resp.Body)
	if !strings.Contains(b.String(), `"channelvars":{"VERZET_ORG":"acme"}`) {
		t.Fatalf("snapshot = %s", b.String())
	}
}
