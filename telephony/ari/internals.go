package ari

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"unsafe"

	ariv5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"
)

// ari/v5 v5.3.1 keeps three things a production adapter needs in unexported
// fields of native.Client, with no option to reach them:
//
//   - httpClient, a zero http.Client: no timeout, http.DefaultTransport. A
//     hung Asterisk blocks every REST call forever. We give each client its
//     own http.Client (timeout, per-node connection pool) before Connect, so
//     the process-wide http.DefaultTransport stays untouched.
//   - cancel, the only way to stop the client's listen loop. Close() would
//     do it too, but it also writes the unsynchronised connected flag that
//     the listen loop writes, a data race the race detector reports.
//   - bus, the stdbus every event goes through: 100 events per
//     subscription and the rest dropped, a panic on an event type it cannot
//     decode, no delivery of ApplicationReplaced. It is replaced by the
//     adapter's own (eventBus) on the listen goroutine, before the reader
//     starts.
//
// All are reached by name with reflect and checked for their type, so a
// library that changed fails loudly at connect (and in TestInternals), not
// silently. The module is pinned at v5.3.1.

// setHTTPClient replaces the client's HTTP client. Call it before Connect:
// nothing reads the field concurrently then.
func setHTTPClient(c *native.Client, hc *http.Client) error {
	f, err := field(c, "httpClient", reflect.TypeOf(http.Client{}))
	if err != nil {
		return err
	}
	f.Set(reflect.ValueOf(*hc))
	return nil
}

// listenCancel returns the function that stops the client's listen loop.
// Call it only after Connect returned (Connect writes the field).
func listenCancel(c *native.Client) (context.CancelFunc, error) {
	f, err := field(c, "cancel", reflect.TypeOf(context.CancelFunc(nil)))
	if err != nil {
		return nil, err
	}
	cancel, _ := f.Interface().(context.CancelFunc)
	if cancel == nil {
		return nil, fmt.Errorf("ari/v5 native.Client.cancel is not set: was Connect called?")
	}
	return cancel, nil
}

func field(c *native.Client, name string, want reflect.Type) (reflect.Value, error) {
	f := reflect.ValueOf(c).Elem().FieldByName(name)
	if !f.IsValid() || f.Type() != want {
		return reflect.Value{}, fmt.Errorf("ari/v5 native.Client has no field %s of type %s: this adapter needs github.com/CyCoreSystems/ari/v5 v5.3.1", name, want)
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), nil
}

var busType = reflect.TypeOf((*ariv5.Bus)(nil)).Elem()

// checkBus reports whether the client's bus field is where setBus expects
// it; checked before Connect, since setBus runs where an error cannot go.
func checkBus(c *native.Client) error {
	_, err := field(c, "bus", busType)
	return err
}

// setBus replaces the client's event bus. Call it only on the client's
// listen goroutine, before the websocket reader starts (the observer's
// connected hook): Connect wrote the field before it started that
// goroutine, and the reader, started after, reads it.
func setBus(c *native.Client, b ariv5.Bus) error {
	f, err := field(c, "bus", busType)
	if err != nil {
		return err
	}
	f.Set(reflect.ValueOf(&b).Elem())
	return nil
}
