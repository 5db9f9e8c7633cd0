package aritest

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A minimal RFC 6455 server side: the handshake, unmasked text frames out,
// masked frames in (read and dropped; close and ping answered). It is all
// the events websocket needs — Asterisk only ever writes on it — and keeps
// the fake on the standard library.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

var errNotWebsocket = errors.New("not a websocket upgrade request")

// upgrade completes the websocket handshake on w and returns the raw
// connection. protocol, when the client asked for it, is echoed.
func upgrade(w http.ResponseWriter, r *http.Request, protocol string) (net.Conn, *bufio.ReadWriter, error) {
	if !headerHas(r.Header, "Connection", "upgrade") || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		r.Header.Get("Sec-Websocket-Key") == "" || r.Header.Get("Sec-Websocket-Version") != "13" {
		return nil, nil, errNotWebsocket
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-Websocket-Key") + wsGUID))
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
	if protocol != "" && headerHas(r.Header, "Sec-Websocket-Protocol", protocol) {
		resp += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	if _, err := rw.WriteString(resp + "\r\n"); err != nil {
		conn.Close()
		return nil, nil, err
	}
	if err := rw.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw, nil
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsConn is one events websocket: a writer goroutine drains out, so that a
// slow reader never blocks the fake; when out is full the connection is
// closed, as Asterisk does after websocket_write_timeout.
type wsConn struct {
	conn net.Conn
	rw   *bufio.ReadWriter
	out  chan []byte
	apps []string
	user string // the ari.conf user it signed in as

	closeOnce sync.Once
	done      chan struct{}
	wmu       sync.Mutex // serialises frames from the writer and the reader's close/pong
}

func newWSConn(conn net.Conn, rw *bufio.ReadWriter, apps []string, queue int) *wsConn {
	return &wsConn{conn: conn, rw: rw, out: make(chan []byte, queue), apps: apps, done: make(chan struct{})}
}

// send queues one text frame; it reports false (and closes the socket) when
// the reader is too slow.
func (c *wsConn) send(frame []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- frame:
		return true
	default:
		c.close()
		return false
	}
}

func (c *wsConn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.conn.Close()
	})
}

func (c *wsConn) writeLoop() {
	for {
		select {
		case <-c.done:
			return
		case f := <-c.out:
			if err := c.writeFrame(0x1, f); err != nil {
				c.close()
				return
			}
		}
	}
}

func (c *wsConn) writeFrame(opcode byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 0, 10)
	hdr = append(hdr, 0x80|opcode)
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if _, err := c.rw.Write(hdr); err != nil {
		return err
	}
	if _, err := c.rw.Write(payload); err != nil {
		return err
	}
	return c.rw.Flush()
}

// readLoop reads client frames until the connection ends. Clients of ARI
// send nothing but control frames.
func (c *wsConn) readLoop() {
	defer c.close()
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(c.rw, hdr[:]); err != nil {
			return
		}
		opcode := hdr[0] & 0x0F
		n := uint64(hdr[1] & 0x7F)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(c.rw, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(c.rw, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 1<<20 {
			return
		}
		var mask [4]byte
		if hdr[1]&0x80 != 0 {
			if _, err := io.ReadFull(c.rw, mask[:]); err != nil {
				return
			}
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.rw, payload); err != nil {
			return
		}
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
		switch opcode {
		case 0x8: // close: answer and end
			_ = c.writeFrame(0x8, payload)
			return
		case 0x9: // ping
			_ = c.writeFrame(0xA, payload)
		}
	}
}
