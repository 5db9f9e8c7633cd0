package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// testCA issues certificates for localhost and 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "verzet test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert: cert, key: key, pool: pool}
}

// issue returns a leaf certificate with serial, and its key, as PEM.
func (ca testCA) issue(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// files writes the certificate and key files; each write gets a
// modification time of its own, so that a rewrite is seen on any file
// system.
type certPaths struct {
	cert, key string
	mtime     time.Time
}

func (p *certPaths) write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p.mtime = p.mtime.Add(time.Second)
	if err := os.Chtimes(path, p.mtime, p.mtime); err != nil {
		t.Fatal(err)
	}
}

// runServer runs srv until the test ends and returns its public address.
func runServer(t *testing.T, srv *Server) string {
	t.Helper()
	ready := make(chan string, 1)
	srv.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening")
	}
	return ""
}

func hello(mux *http.ServeMux) {
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
}

// served gets /hello over a new TLS connection and returns the serial of
// the certificate the server presented.
func served(t *testing.T, ca testCA, addr string) int64 {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool, ServerName: "localhost"}, DisableKeepAlives: true}}
	resp, err := c.Get("https://" + addr + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "hello" {
		t.Fatalf("GET /hello = %d %q", resp.StatusCode, b)
	}
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// With VERZET_TLS_CERT and VERZET_TLS_KEY the public listener serves HTTPS
// only, TLS 1.2 or newer, and a renewed certificate is served once the
// files changed; a pair that cannot be loaded keeps the one before.
func TestTLSServesAndReloadsTheCertificate(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	files := &certPaths{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key"), mtime: time.Now().Add(-time.Hour)}
	c1, k1 := ca.issue(t, 101)
	files.write(t, files.cert, c1)
	files.write(t, files.key, k1)

	core, logs := observer.New(zap.InfoLevel)
	clock := &testClock{t: time.Now()}
	srv := &Server{Log: zap.New(core), now: clock.Now,
		Config: Config{HTTP: HTTPConfig{Addr: "127.0.0.1:0", TLSCert: files.cert, TLSKey: files.key}}}
	srv.Mount(hello)
	addr := runServer(t, srv)

	if got := served(t, ca, addr); got != 101 {
		t.Fatalf("serial %d, want 101", got)
	}
	// Plain HTTP is not served.
	if resp, err := http.Get("http://" + addr + "/hello"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served /hello")
		}
	}
	// TLS 1.1 is refused.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// A rotation that writes the new certificate before its key: until the
	// key is there too, the pair does not match and the old one is served.
	c2, k2 := ca.issue(t, 102)
	files.write(t, files.cert, c2)
	if got := served(t, ca, addr); got != 101 {
		t.Fatalf("before the next look at the files: serial %d, want 101", got)
	}
	clock.Add(certCheckEvery)
	if got := served(t, ca, addr); got != 101 {
		t.Fatalf("new certificate, old key: serial %d, want 101 still", got)
	}
	if n := logs.FilterMessageSnippet("cannot be loaded").Len(); n != 1 {
		t.Fatalf("%d errors logged for the mismatched pair, want 1", n)
	}
	files.write(t, files.key, k2)
	clock.Add(certCheckEvery)
	if got := served(t, ca, addr); got != 102 {
		t.Fatalf("after the key: serial %d, want 102", got)
	}
	if n := logs.FilterMessage("tls certificate reloaded").Len(); n != 1 {
		t.Fatalf("%d reloads logged, want 1", n)
	}

	// A broken file keeps the certificate served; the next good one is
	// taken.
	files.write(t, files.cert, []byte("-----BEGIN CERTIFICATE-----\ntruncated"))
	clock.Add(certCheckEvery)
	if got := served(t, ca, addr); got != 102 {
		t.Fatalf("broken file: serial %d, want 102", got)
	}
	clock.Add(certCheckEvery)
	served(t, ca, addr)
	if n := logs.FilterMessageSnippet("cannot be loaded").Len(); n != 2 {
		t.Fatalf("%d errors logged, want 2 (each change once)", n)
	}
	c3, k3 := ca.issue(t, 103)
	files.write(t, files.key, k3)
	files.write(t, files.cert, c3)
	clock.Add(certCheckEvery)
	if got := served(t, ca, addr); got != 103 {
		t.Fatalf("after the repair: serial %d, want 103", got)
	}
}

// The TLS settings are checked before serve starts: both or neither, and
// a pair that cannot be loaded is refused, naming the setting.
func TestTLSSettingsSayWhatIsWrong(t *testing.T) {
	dir := emptyFolder(t)
	ca := newTestCA(t)
	c1, _ := ca.issue(t, 1)
	_, k2 := ca.issue(t, 2)
	crt, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(crt, c1, 0o600)
	os.WriteFile(key, k2, 0o600)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"cert without key", []string{"VERZET_TLS_CERT=" + crt}, `VERZET_TLS_KEY "": is required with VERZET_TLS_CERT`},
		{"key without cert", []string{"VERZET_TLS_KEY=" + key}, `VERZET_TLS_CERT "": is required with VERZET_TLS_KEY`},
		{"missing file", []string{"VERZET_TLS_CERT=" + crt + ".missing", "VERZET_TLS_KEY=" + key}, `VERZET_TLS_CERT "` + crt + `.missing": cannot be served`},
		{"key of another certificate", []string{"VERZET_TLS_CERT=" + crt, "VERZET_TLS_KEY=" + key}, "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := inProcess(t, append(tc.env, "VERZET_HTTP_ADDR=127.0.0.1:0"), "", "serve")
			if code != exitFailure || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// With VERZET_METRICS_ADDR, /metrics and /debug/pprof/ are served there
// and not on the public listener; without it /metrics is public and there
// is no pprof.
func TestMetricsListener(t *testing.T) {
	metrics := func(mux *http.ServeMux) {
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "verzet_up 1\n") })
	}
	t.Run("separate", func(t *testing.T) {
		core, logs := observer.New(zap.InfoLevel)
		srv := &Server{Log: zap.New(core), Config: Config{HTTP: HTTPConfig{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0"}}}
		srv.Mount(hello)
		srv.MountMetrics(metrics)
		public := "http://" + runServer(t, srv)
		entries := logs.FilterMessage("metrics listening").All()
		if len(entries) != 1 {
			t.Fatalf("%d metrics listeners logged", len(entries))
		}
		private := "http://" + entries[0].ContextMap()["addr"].(string)
		for _, tc := range []struct {
			url    string
			status int
			want   string
		}{
			{public + "/hello", 200, "hello"},
			{public + "/metrics", 404, ""},
			{public + "/debug/pprof/", 404, ""},
			{private + "/metrics", 200, "verzet_up 1"},
			{private + "/debug/pprof/", 200, "goroutine"},
			{private + "/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
			{private + "/debug/pprof/cmdline", 404, ""},
			{private + "/hello", 404, ""},
		} {
			if status, body := get(t, tc.url); status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("GET %s = %d %.100q; want %d %q", tc.url, status, body, tc.status, tc.want)
			}
		}
	})
	t.Run("public", func(t *testing.T) {
		srv := &Server{Log: zap.NewNop(), Config: Config{HTTP: HTTPConfig{Addr: "127.0.0.1:0"}}}
		srv.MountMetrics(metrics)
		public := "http://" + runServer(t, srv)
		if status, body := get(t, public+"/metrics"); status != 200 || body != "verzet_up 1\n" {
			t.Errorf("GET /metrics = %d %q", status, body)
		}
		if status, _ := get(t, public+"/debug/pprof/"); status != 404 {
			t.Errorf("GET /debug/pprof/ = %d, want 404", status)
		}
	})
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		srv := &Server{Log: zap.NewNop(), Config: Config{HTTP: HTTPConfig{Addr: "127.0.0.1:0", MetricsAddr: ln.Addr().String()}}}
		err = srv.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "VERZET_METRICS_ADDR") {
			t.Fatalf("run: %v; want an error naming VERZET_METRICS_ADDR", err)
		}
	})
}

// The real binary: with VERZET_METRICS_ADDR its metrics are there only.
func TestServeMetricsAddr(t *testing.T) {
	srv := startServeProc(t, []string{"VERZET_DATA_DIR=" + t.TempDir(), "VERZET_DATABASE_URL=", "VERZET_TWILIO_AUTH_TOKEN=",
		"VERZET_ARI_URL=", "VERZET_HTTP_ADDR=127.0.0.1:0", "VERZET_METRICS_ADDR=127.0.0.1:0"})
	private := "http://" + srv.logLine(t, "metrics listening")["addr"].(string)
	m := scrape(t, private)
	if _, ok := m.values["go_goroutines"]; !ok || len(m.withPrefix("verzet_")) == 0 {
		t.Errorf("metrics listener: %d verzet_ samples, go_goroutines %v", len(m.withPrefix("verzet_")), m.values["go_goroutines"])
	}
	if status, _ := get(t, "http://"+srv.addr+"/metrics"); status != http.StatusNotFound {
		t.Errorf("public GET /metrics = %d, want 404", status)
	}
	if status, _ := get(t, private+"/debug/pprof/heap?debug=1"); status != http.StatusOK {
		t.Errorf("GET /debug/pprof/heap = %d", status)
	}
}
