package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/verzet/verzet/objections"
)

// probeCmd asks a running serve on this machine whether it is alive (or
// ready): the container image's HEALTHCHECK, which has no shell or curl.
func (a *App) probeCmd() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "probe [--ready]",
		Short: "Ask the verzet serve on this machine whether it is alive (or ready); exit 0 or 1",
		Long: `Sends GET /healthz (with --ready: GET /readyz) to the serve listening on VERZET_HTTP_ADDR on
this machine, over HTTPS when VERZET_TLS_CERT is set (the certificate is not checked: the
probe asks the local process, it does not authenticate it). It is the container image's
health check, which has no shell or HTTP client.

Exit status: 0 the answer was 200, 1 any other answer or none within --timeout, 2 a bad setting.`,
		Example: "  verzet probe\n  verzet probe --ready --timeout 2s",
		GroupID: groupServer,
	}
	b := newBinding(a.env, cmd.Flags()).envOnly(&cfg.HTTP, "VERZET_HTTP_ADDR", "VERZET_TLS_CERT")
	ready := cmd.Flags().Bool("ready", false, "ask /readyz (the store and the providers answer) instead of /healthz")
	timeout := cmd.Flags().Duration("timeout", 3*time.Second, "how long to wait for the answer")
	return a.run(cmd, b, func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitFailure, objections.Invalid("argument", args[0], "probe takes flags only")
		}
		if *timeout <= 0 {
			return exitFailure, objections.Invalid("timeout", timeout.String(), "must be positive")
		}
		host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
		if err != nil {
			return exitFailure, objections.Invalid("VERZET_HTTP_ADDR", cfg.HTTP.Addr, "is not host:port")
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		scheme := "http"
		if cfg.HTTP.TLSCert != "" {
			scheme = "https"
		}
		path := "/healthz"
		if *ready {
			path = "/readyz"
		}
		url := scheme + "://" + net.JoinHostPort(host, port) + path
		client := &http.Client{Timeout: *timeout, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // #nosec G402 -- a local liveness probe, not a trust decision
		}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return exitFailure, err
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Fprintf(a.stdout, "%s: no answer: %v\n", url, err)
			return exitNo, nil
		}
		resp.Body.Close()
		fmt.Fprintf(a.stdout, "%s: %s\n", url, strings.TrimSpace(resp.Status))
		if resp.StatusCode != http.StatusOK {
			return exitNo, nil
		}
		return exitOK, nil
	})
}
