package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The adapter's own REST calls, for what ari/v5 v5.3.1 cannot send: the
// event filter, user events (the heartbeat), a playback of several media,
// and the probe before Connect. They share the node's transport and
// timeout with the library's calls.

// restError is a non-2xx answer. Its Code method matches ari/v5's
// native.RequestError, so statusOf reads both.
type restError struct {
	code int
	msg  string
}

func (e *restError) Error() string { return fmt.Sprintf("ARI %d: %s", e.code, e.msg) }
func (e *restError) Code() int     { return e.code }

// statusOf returns the HTTP status of a failed REST call, 0 when it did not
// get one (network error, timeout). ari/v5 wraps its errors with eris
// (Unwrap) and, for Data calls, with a Cause-only wrapper, which
// native.CodeFromError misses.
func statusOf(err error) int {
	for err != nil {
		if c, ok := err.(interface{ Code() int }); ok {
			return c.Code()
		}
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Cause() error }:
			err = e.Cause()
		default:
			return 0
		}
	}
	return 0
}

// gone reports whether err says the channel (or playback) is no longer
// ours: 404 not found (hung up), 409 not in Stasis (left the app), 412
// invalid state (hanging up). That is the normal end of a call racing a
// command, not an error.
func gone(err error) bool {
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed:
		return true
	}
	return false
}

// errNotConnected is returned for REST calls while a node has no client.
var errNotConnected = errors.New("ARI node not connected")

// do sends one request with the node's credentials and decodes a 2xx JSON
// answer into out (when not nil).
func (n *node) do(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	u := n.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(n.a.cfg.Username, n.a.cfg.Password)
	resp, err := n.own.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &m) // Asterisk answers errors as {"message": …}; anything else keeps the status
		if m.Message == "" {
			m.Message = http.StatusText(resp.StatusCode)
		}
		return &restError{code: resp.StatusCode, msg: m.Message}
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// handledEvents are the event types the adapter reads, and the only ones
// the application's event filter lets through. ari/v5 v5.3.1 crashes the
// process on a type it does not know; every type here is one
// it knows.
var handledEvents = []string{
	"StasisStart", "StasisEnd", "ChannelHangupRequest", "ChannelDestroyed", "ChannelDtmfReceived",
	"PlaybackStarted", "PlaybackContinuing", "PlaybackFinished", "ChannelUserevent", "ApplicationReplaced",
}

// setFilter sets the application's allowed event types
// (PUT /applications/{app}/eventFilter, Asterisk 13.26, 16.3 and later).
// Asterisk clears the filter whenever the app registers again, so it is
// set after every (re)connect.
func (n *node) setFilter(ctx context.Context) error {
	type typ struct {
		Type string `json:"type"`
	}
	allowed := make([]typ, 0, len(handledEvents))
	for _, t := range handledEvents {
		allowed = append(allowed, typ{t})
	}
	body := map[string]any{"allowed": allowed, "disallowed": []typ{}}
	if err := n.do(ctx, http.MethodPut, "/applications/"+url.PathEscape(n.a.cfg.App)+"/eventFilter", nil, body, nil); err != nil {
		return fmt.Errorf("set the event filter: %w", err)
	}
	return nil
}

// userEvent sends a user event to our own application: the heartbeat.
func (n *node) userEvent(ctx context.Context, name string) error {
	q := url.Values{"application": {n.a.cfg.App}}
	if err := n.do(ctx, http.MethodPost, "/events/user/"+url.PathEscape(name), q, nil, nil); err != nil {
		return fmt.Errorf("send heartbeat: %w", err)
	}
	return nil
}

// play starts one playback of several media, back to back. ari/v5's
// StagePlay sends one media URI as a JSON string; Asterisk reads a query
// "media" as a comma-separated list.
func (n *node) play(ctx context.Context, channelID, playbackID string, media []string) error {
	q := url.Values{"media": {strings.Join(media, ",")}}
	return n.do(ctx, http.MethodPost, "/channels/"+url.PathEscape(channelID)+"/play/"+url.PathEscape(playbackID), q, nil, nil)
}

// probe checks that the node answers REST with our credentials before
// ari/v5's Connect is tried: Connect blocks until it succeeds, forever if
// Asterisk is down.
func (n *node) probe(ctx context.Context) (string, error) {
	var info struct {
		System struct {
			Version  string `json:"version"`
			EntityID string `json:"entity_id"`
		} `json:"system"`
	}
	if err := n.do(ctx, http.MethodGet, "/asterisk/info", nil, nil, &info); err != nil {
		return "", err
	}
	return info.System.Version, nil
}

// snapshot is the part of a channel a reconcile needs, read with our own
// GET because ari/v5 drops dialplan.app_data (the Stasis arguments).
type snapshot struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Caller    party  `json:"caller"`
	Connected party  `json:"connected"`
	Dialplan  struct {
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
	ChannelVars map[string]string `json:"channelvars"`
}

type party struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

func (n *node) channel(ctx context.Context, id string) (snapshot, error) {
	var s snapshot
	err := n.do(ctx, http.MethodGet, "/channels/"+url.PathEscape(id), nil, nil, &s)
	return s, err
}

// appState is our application as Asterisk has it now.
type appState struct {
	ChannelIDs    []string          `json:"channel_ids"`
	EventsAllowed []json.RawMessage `json:"events_allowed"`
}

func (n *node) app(ctx context.Context) (appState, error) {
	var a appState
	if err := n.do(ctx, http.MethodGet, "/applications/"+url.PathEscape(n.a.cfg.App), nil, nil, &a); err != nil {
		return a, fmt.Errorf("read the application: %w", err)
	}
	return a, nil
}
