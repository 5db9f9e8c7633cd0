package aritest

import (
	"net"
	"sync"
	"testing"
)

// DeadURL returns the ARI base URL of a node that refuses connections: a
// local port that was free a moment ago.
func DeadURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("aritest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/ari"
}

// Blackhole returns the ARI base URL of a node that accepts connections and
// never answers (a hung Asterisk). Its connections close when tb ends.
func Blackhole(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("aritest: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String() + "/ari"
}
