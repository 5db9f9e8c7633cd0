package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
)

func TestParseTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the prefixes, comma-separated
	}{
		{"", ""},
		{" 10.0.0.0/8 , 192.0.2.7,::1 ", "10.0.0.0/8,192.0.2.7/32,::1/128"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"2001:db8::/32,", "2001:db8::/32"},
	} {
		got, err := parseTrustedProxies(tc.in)
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if err != nil || strings.Join(s, ",") != tc.want {
			t.Errorf("parseTrustedProxies(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

// A value that is no IP or CIDR is a configuration error naming it.
func TestTrustedProxiesErrorNamesTheValue(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1-10.0.0.9", "fe80::1%eth0"} {
		_, err := parseTrustedProxies("192.0.2.1, " + bad)
		var e *objections.Error
		if err == nil || !errors.As(err, &e) || e.Field != "VERZET_TRUSTED_PROXIES" || e.Value != bad {
			t.Errorf("%q: %v; want an error naming VERZET_TRUSTED_PROXIES and %q", bad, err, bad)
		}
	}
	emptyFolder(t)
	_, errOut, code := inProcess(t, []string{"VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_TRUSTED_PROXIES=10.0.0.0/8,10.0.0.300"}, "", "serve")
	if code != exitFailure || !strings.Contains(errOut, `VERZET_TRUSTED_PROXIES "10.0.0.300"`) {
		t.Fatalf("serve: exit %d, stderr %q", code, errOut)
	}
}

// seen is what a handler behind front sees of a request.
type seen struct {
	remoteAddr, host, proto string
	others                  []string // forwarding headers left, which there must be none of
}

func behindFront(t *testing.T, trusted string, remoteAddr string, headers map[string]string) seen {
	t.Helper()
	proxies, err := parseTrustedProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	var got seen
	h := proxies.front(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = seen{remoteAddr: r.RemoteAddr, host: r.Host, proto: r.Header.Get("X-Forwarded-Proto")}
		for _, name := range forwardingHeaders {
			if _, ok := r.Header[name]; ok && name != "X-Forwarded-Proto" {
				got.others = append(got.others, name)
			}
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/v1/callability", nil)
	req.Host = "verzet.internal:8080"
	req.RemoteAddr = remoteAddr
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	return got
}

// Only a trusted proxy may say whom a request came from and how it was
// addressed; from anyone else the forwarding headers are removed.
func TestFrontBelievesOnlyTrustedProxies(t *testing.T) {
	spoof := map[string]string{
		"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.nl",
		"Forwarded": "for=203.0.113.9;proto=https", "X-Real-Ip": "203.0.113.9",
	}
	for _, tc := range []struct {
		name       string
		trusted    string
		remoteAddr string
		headers    map[string]string
		want       seen
	}{
		{"no proxies trusted", "", "198.51.100.4:5555", spoof,
			seen{remoteAddr: "198.51.100.4:5555", host: "verzet.internal:8080"}},
		{"peer not trusted", "10.0.0.0/8", "198.51.100.4:5555", spoof,
			seen{remoteAddr: "198.51.100.4:5555", host: "verzet.internal:8080"}},
		{"trusted proxy", "10.0.0.0/8", "10.1.2.3:5555", spoof,
			seen{remoteAddr: "203.0.113.9:0", host: "ivr.example.nl", proto: "https"}},
		{"trusted proxy, IPv6", "2001:db8::/32", "[2001:db8::7]:443",
			map[string]string{"X-Forwarded-For": "2001:db8:ffff::1, 2001:db8::8", "X-Forwarded-Proto": "HTTP"},
			seen{remoteAddr: "[2001:db8:ffff::1]:0", host: "verzet.internal:8080", proto: "http"}},
		{"client's own X-Forwarded-For is not believed", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-For": "127.0.0.1, 198.51.100.4"},
			seen{remoteAddr: "198.51.100.4:0", host: "verzet.internal:8080"}},
		{"chain of trusted proxies", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-For": "127.0.0.1, 198.51.100.4:4711, 10.9.9.9"},
			seen{remoteAddr: "198.51.100.4:4711", host: "verzet.internal:8080"}},
		{"only trusted proxies", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-For": "10.8.8.8, 10.9.9.9"},
			seen{remoteAddr: "10.8.8.8:0", host: "verzet.internal:8080"}},
		{"unreadable entry ends the walk", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-For": "198.51.100.4, unknown, 10.9.9.9"},
			seen{remoteAddr: "10.9.9.9:0", host: "verzet.internal:8080"}},
		{"bad proto and host are dropped", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": "evil.example/path"},
			seen{remoteAddr: "10.1.2.3:5555", host: "verzet.internal:8080"}},
		{"last proto and host win", "10.0.0.0/8", "10.1.2.3:5555",
			map[string]string{"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "spoofed.example, ivr.example.nl:8443"},
			seen{remoteAddr: "10.1.2.3:5555", host: "ivr.example.nl:8443", proto: "https"}},
		{"IPv4-mapped peer", "192.0.2.0/24", "[::ffff:192.0.2.10]:80",
			map[string]string{"X-Forwarded-For": "198.51.100.4"},
			seen{remoteAddr: "198.51.100.4:0", host: "verzet.internal:8080"}},
		{"no headers", "10.0.0.0/8", "10.1.2.3:5555", nil,
			seen{remoteAddr: "10.1.2.3:5555", host: "verzet.internal:8080"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := behindFront(t, tc.trusted, tc.remoteAddr, tc.headers)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("handler saw %+v\nwant          %+v", got, tc.want)
			}
		})
	}
}

// The server's routes are behind front: the web UI's Secure cookie and
// audit address, the API's audit address and the Twilio webhooks' base
// URL read only what it let through.
func TestServerHandlerIsBehindFront(t *testing.T) {
	proxies, _ := parseTrustedProxies("10.0.0.1")
	var proto, addr string
	srv := &Server{Config: Config{HTTP: HTTPConfig{TrustedProxies: proxies}}}
	srv.Mount(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
			proto, addr = r.Header.Get("X-Forwarded-Proto"), r.RemoteAddr
		})
	})
	h := srv.Handler()
	for _, tc := range []struct{ peer, wantProto, wantAddr string }{
		{"198.51.100.4:1234", "", "198.51.100.4:1234"},
		{"10.0.0.1:1234", "https", "203.0.113.9:0"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/echo", nil)
		req.RemoteAddr = tc.peer
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if proto != tc.wantProto || addr != tc.wantAddr {
			t.Errorf("from %s: proto %q, addr %q; want %q, %q", tc.peer, proto, addr, tc.wantProto, tc.wantAddr)
		}
	}
}
