package aritest_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/telephony/ari/aritest"
)

// drop returns frames without the types given.
func drop(frames []map[string]any, types ...string) []map[string]any {
	return slices.DeleteFunc(slices.Clone(frames), func(f map[string]any) bool { return slices.Contains(types, f["type"].(string)) })
}

// TestMissingMiddleSoundLikeAsterisk drives the fake as capture 10 was made:
// a playback of three sounds, the middle one missing (it starts and ends
// with PlaybackContinuing in the same millisecond; the playback ends
// "done"), then HTTP media that cannot be fetched ("failed" at once).
func TestMissingMiddleSoundLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, SoundDuration: func(uri string) (time.Duration, bool) {
		return 30 * time.Millisecond, !strings.Contains(uri, "missing") && !strings.HasPrefix(uri, "sound:http:")
	}})
	l := listen(t, a, "verzet-a")
	id, err := a.StartCall("verzet-a", aritest.Call{Args: []string{"org=acme"}})
	if err != nil {
		t.Fatal(err)
	}
	rest(t, a, "POST", "/channels/"+id+"/play/pb-middle?media=sound:verzet/nl/offer-3,sound:verzet/nl/missing,sound:verzet/nl/offer-3", "")
	got := l.frames("PlaybackFinished")
	rest(t, a, "POST", "/channels/"+id+"/play/pb-http?media="+url.QueryEscape("sound:http://127.0.0.1:9/verzet/nl/offer-3.wav"), "")
	got = append(got, l.frames("PlaybackFinished")...)
	rest(t, a, "DELETE", "/channels/"+id, "")
	got = append(got, l.frames("StasisEnd")...)
	want := drop(captureFrames(t, "10-missing-middle-sound-and-http-media.jsonl"), "ChannelVarset")
	got = drop(got, "ChannelVarset")
	if !slices.Equal(types(got), types(want)) {
		t.Fatalf("frames %v\nAsterisk %v", types(got), types(want))
	}
	for i := range got {
		sameShape(t, got[i], want[i])
		gpb, _ := got[i]["playback"].(map[string]any)
		wpb, _ := want[i]["playback"].(map[string]any)
		if wpb != nil && (gpb["state"] != wpb["state"] || gpb["media_uri"] != wpb["media_uri"]) {
			t.Errorf("frame %d: %v %v, Asterisk %v %v", i, gpb["media_uri"], gpb["state"], wpb["media_uri"], wpb["state"])
		}
	}
}

// TestHTTPMediaNeedsTheCacheModule: without res_http_media_cache, HTTP
// media fail to play, and GET /asterisk/modules says the module is not
// running.
func TestHTTPMediaNeedsTheCacheModule(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, Modules: []string{"res_ari.so"}})
	l := listen(t, a, "verzet")
	if resp := rest(t, a, "GET", "/asterisk/modules/res_http_media_cache.so", ""); resp.StatusCode != 404 {
		t.Fatalf("module without it: %d", resp.StatusCode)
	}
	if resp := rest(t, a, "GET", "/asterisk/modules/res_ari.so", ""); resp.StatusCode != 200 {
		t.Fatalf("loaded module: %d", resp.StatusCode)
	}
	id, _ := a.StartCall("verzet", aritest.Call{})
	rest(t, a, "POST", "/channels/"+id+"/play/pb-1?media="+url.QueryEscape("sound:http://verzet:8080/ari/media/verzet/nl/offer-1.wav"), "")
	f := l.frames("PlaybackFinished")
	if pb := f[len(f)-1]["playback"].(map[string]any); pb["state"] != "failed" {
		t.Fatalf("HTTP media without the cache module: %v", pb["state"])
	}
}

// TestSoundIndexLikeAsterisk: Asterisk's sound index takes the folders at
// the top of its sounds directory for languages, so the sounds verzet
// installs under sounds/verzet/ are found as "nl/offer-1" in language
// "verzet", and not by the name a playback uses (checked on Asterisk
// 20.20.1, see testdata/real-events/README.txt).
func TestSoundIndexLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, SoundDuration: func(uri string) (time.Duration, bool) {
		return time.Second, uri == "sound:verzet/nl/offer-1"
	}})
	if resp := rest(t, a, "GET", "/sounds/verzet%2Fnl%2Foffer-1", ""); resp.StatusCode != 404 {
		t.Fatalf("by its playback name: %d", resp.StatusCode)
	}
	resp := rest(t, a, "GET", "/sounds/nl%2Foffer-1", "")
	var got struct {
		ID      string
		Formats []struct{ Language, Format string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got.ID != "nl/offer-1" ||
		len(got.Formats) != 1 || got.Formats[0].Language != "verzet" {
		t.Fatalf("by the index's name: %d %+v %v", resp.StatusCode, got, err)
	}
	if resp := rest(t, a, "GET", "/sounds/nl%2Fmissing", ""); resp.StatusCode != 404 {
		t.Fatalf("missing sound: %d", resp.StatusCode)
	}
}

// TestTakeoverLikeAsterisk drives the fake as capture 09 was made: the
// instance holding verzet-a is gone (its websocket closed) while its
// playback runs; verzet-b subscribes to the channel, moves it, hears the
// caller's key through the subscription, stops the playback it learnt of,
// and gets the channel.
func TestTakeoverLikeAsterisk(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, SoundDuration: func(uri string) (time.Duration, bool) {
		if strings.HasSuffix(uri, "offer-2") {
			return 300 * time.Millisecond, true
		}
		return time.Hour, true
	}})
	la := listen(t, a, "verzet-a")
	lb := listen(t, a, "verzet-b")
	id, err := a.StartCall("verzet-a", aritest.Call{Args: []string{"org=acme"}})
	if err != nil {
		t.Fatal(err)
	}
	la.frames("StasisStart")
	rest(t, a, "POST", "/channels/"+id+"/play/pbA?media=sound:verzet/nl/offer-2,sound:verzet/nl/offer-1", "")
	la.ws.Close() // the instance is gone; its playback plays on
	if resp := rest(t, a, "POST", "/applications/verzet-b/subscription?eventSource=channel:"+id, ""); resp.StatusCode != 200 {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	if resp := rest(t, a, "POST", "/channels/"+id+"/move?app=verzet-b&appArgs=org%3Dacme", ""); resp.StatusCode != 204 {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	if err := a.Press(id, "1"); err != nil {
		t.Fatal(err)
	}
	if ch, _ := a.Channel(id); ch.App != "verzet-a" {
		t.Fatalf("moved before the playback ended: %+v", ch)
	}
	got := lb.frames("PlaybackStarted") // the next segment: the playback's id
	pbID := got[len(got)-1]["playback"].(map[string]any)["id"].(string)
	rest(t, a, "DELETE", "/playbacks/"+pbID, "")
	got = append(got, lb.frames("StasisStart")...)
	if resp := rest(t, a, "DELETE", "/applications/verzet-b/subscription?eventSource=channel:"+id, ""); resp.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", resp.StatusCode)
	}
	rest(t, a, "DELETE", "/channels/"+id, "")
	got = append(got, lb.frames("StasisEnd")...)
	want := drop(captureFrames(t, "09-takeover-subscription-move.jsonl"), "ChannelVarset")
	got = drop(got, "ChannelVarset")
	if !slices.Equal(types(got), types(want)) {
		t.Fatalf("frames %v\nAsterisk %v", types(got), types(want))
	}
	for i := range got {
		sameShape(t, got[i], want[i])
	}
	if start := got[len(got)-3]; !slices.Equal(start["args"].([]any), []any{"org=acme"}) {
		t.Errorf("StasisStart args %v", start["args"])
	}
	if resp := rest(t, a, "POST", "/applications/verzet-b/subscription?eventSource=channel:nope", ""); resp.StatusCode != 422 {
		t.Errorf("subscribe to no channel: %d", resp.StatusCode)
	}
}

// TestCutOff: a user cut off has its websocket closed and its requests
// refused; others go on.
func TestCutOff(t *testing.T) {
	a := aritest.Start(t, aritest.Options{Username: user, Password: pass, Users: map[string]string{"a": "pa"}})
	if resp := rest(t, a, "GET", "/asterisk/info", ""); resp.StatusCode != 200 {
		t.Fatalf("main user: %d", resp.StatusCode)
	}
	a.CutOff(user)
	if resp := rest(t, a, "GET", "/asterisk/info", ""); resp.StatusCode != 401 {
		t.Fatalf("cut-off user: %d", resp.StatusCode)
	}
}
