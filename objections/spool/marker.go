package spool

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/verzet/verzet/objections"
)

// The done marker holds the Seq of the last entry that was replayed, as one
// line "<CRC-32C of the number, 8 hex digits> <number>\n". It is replaced
// whole (temporary file, fsync, rename, fsync of the folder), so a crash
// leaves either the old marker or the new one, never a mix.
const (
	markerName = "done"
	markerTemp = "done.tmp"
)

// readMarker returns the Seq in the marker in dir, or 0 when there is none.
// A marker that exists but cannot be read is an error: it means damage that
// an operator should see (deleting the file is safe; it only replays again
// what the store already has).
func readMarker(dir string) (uint64, error) {
	path := filepath.Join(dir, markerName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, objections.Unavailable("read spool done marker", err)
	}
	seq, err := parseMarker(b)
	if err != nil {
		return 0, &objections.Error{Code: objections.EINTERNAL, Message: fmt.Sprintf("spool done marker %s is damaged (delete it to replay every entry again)", path), Err: err}
	}
	return seq, nil
}

func parseMarker(b []byte) (uint64, error) {
	line, ok := strings.CutSuffix(string(b), "\n")
	if !ok || len(line) < crcLen+2 || line[crcLen] != ' ' {
		return 0, fmt.Errorf("marker %q is not a checksum, a space and a number", b)
	}
	want, ok := parseHex32([]byte(line[:crcLen]))
	if !ok {
		return 0, fmt.Errorf("marker checksum %q is not 8 lower-case hex digits", line[:crcLen])
	}
	num := line[crcLen+1:]
	if got := crc32.Checksum([]byte(num), castagnoli); got != want {
		return 0, fmt.Errorf("marker checksum mismatch: says %08x, content has %08x", want, got)
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("marker number: %w", err)
	}
	return seq, nil
}

func formatMarker(seq uint64) []byte {
	num := strconv.FormatUint(seq, 10)
	return fmt.Appendf(nil, "%08x %s\n", crc32.Checksum([]byte(num), castagnoli), num)
}

// writeMarker durably replaces the marker in dir with seq.
func writeMarker(dir string, seq uint64) error {
	tmp := filepath.Join(dir, markerTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return objections.Unavailable("create spool done marker", err)
	}
	_, werr := f.Write(formatMarker(seq))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return objections.Unavailable("write spool done marker", werr)
	}
	if err := os.Rename(tmp, filepath.Join(dir, markerName)); err != nil {
		return objections.Unavailable("replace spool done marker", err)
	}
	if err := syncDir(dir); err != nil {
		return objections.Unavailable("sync spool folder", err)
	}
	return nil
}
