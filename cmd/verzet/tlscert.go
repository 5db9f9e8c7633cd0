package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/verzet/verzet/objections"
)

// certCheckEvery is how often, at most, the certificate files are looked
// at again: on the first TLS handshake after it has passed.
const certCheckEvery = 5 * time.Second

// certFiles serves the certificate of VERZET_TLS_CERT and VERZET_TLS_KEY
// and reads the files again when either changed (size or modification
// time), so that a renewed certificate is served without a restart. A pair
// that cannot be loaded (a half-written file, a key that does not match)
// leaves the certificate served before in place and is logged; it is
// tried again when either file changes again.
type certFiles struct {
	certFile, keyFile string
	log               *zap.Logger
	now               func() time.Time
	every             time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    [2]fileStamp // of the files when last read, successfully or not
	checked time.Time
}

// fileStamp is what tells that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
	err  string // the file could not be looked at
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{err: err.Error()}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}
}

// loadCertFiles reads the pair once. An error names VERZET_TLS_CERT and
// says why: serve does not start with a certificate it cannot serve.
func loadCertFiles(cfg HTTPConfig, log *zap.Logger, now func() time.Time) (*certFiles, error) {
	if now == nil {
		now = time.Now
	}
	c := &certFiles{certFile: cfg.TLSCert, keyFile: cfg.TLSKey, log: log, now: now, every: certCheckEvery}
	seen := c.stamps()
	cert, err := c.read()
	if err != nil {
		return nil, objections.Invalid("VERZET_TLS_CERT", cfg.TLSCert, "cannot be served with the key in VERZET_TLS_KEY (%s): %v", cfg.TLSKey, err)
	}
	c.cert, c.seen, c.checked = cert, seen, now()
	c.logLoaded("tls certificate loaded", cert)
	return c, nil
}

func (c *certFiles) stamps() [2]fileStamp {
	return [2]fileStamp{stampOf(c.certFile), stampOf(c.keyFile)}
}

// read loads and parses the pair.
func (c *certFiles) read() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, err
	}
	// The leaf is parsed by LoadX509KeyPair (Go ≥ 1.23); say when it ends.
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
	}
	return &cert, nil
}

// GetCertificate is the tls.Config hook: the current certificate, read
// again first when the files changed since they were last read and the
// last look is certCheckEvery ago.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= c.every || now.Before(c.checked) {
		c.checked = now
		c.reloadIfChanged()
	}
	return c.cert, nil
}

// reloadIfChanged reads the pair again when either file changed; c.mu is
// held.
func (c *certFiles) reloadIfChanged() {
	seen := c.stamps()
	if seen == c.seen {
		return
	}
	c.seen = seen
	cert, err := c.read()
	if err != nil {
		c.log.Error("tls certificate files changed but cannot be loaded; still serving the previous certificate",
			zap.String("cert_file", c.certFile), zap.String("key_file", c.keyFile), zap.Error(err),
			zap.Time("serving_not_after", c.cert.Leaf.NotAfter))
		return
	}
	c.cert = cert
	c.logLoaded("tls certificate reloaded", cert)
}

func (c *certFiles) logLoaded(msg string, cert *tls.Certificate) {
	c.log.Info(msg, zap.String("cert_file", c.certFile), zap.String("subject", cert.Leaf.Subject.String()),
		zap.Strings("dns_names", cert.Leaf.DNSNames), zap.Time("not_after", cert.Leaf.NotAfter))
}
