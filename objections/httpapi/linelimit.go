package httpapi

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// lineSlack is how much more than a line's limit lineLimit lets be read
// for one line: what the readers above it (a 64 KiB bufio.Reader, a JSON
// decoder's buffer) read ahead of the line they are on.
const lineSlack = 128 << 10

// errLineTooLong is lineLimit's error: far more than a line's limit was
// read without the line ending.
var errLineTooLong = errors.New("line too long")

// lineLimit bounds what a stream reader above it (encoding/csv, a JSON
// decoder) may read for one line: a CSV record or an element of a JSON
// array. Those readers keep a line in memory whole, so without it one
// huge line takes as much memory as the body limit allows. The caller
// calls next before each line; Read fails with errLineTooLong once more
// than max+lineSlack bytes were read since, so memory stays bounded, and
// the caller checks each line it gets against max itself (tooLong), so
// that the limit does not depend on how the readers buffer.
type lineLimit struct {
	r   io.Reader
	max int
	n   int // bytes read since next
}

func newLineLimit(r io.Reader, max int) *lineLimit { return &lineLimit{r: r, max: max} }

// next starts a new line.
func (l *lineLimit) next() { l.n = 0 }

func (l *lineLimit) Read(p []byte) (int, error) {
	left := l.max + lineSlack - l.n
	if left <= 0 {
		return 0, errLineTooLong
	}
	if len(p) > left {
		p = p[:left]
	}
	k, err := l.r.Read(p)
	l.n += k
	return k, err
}

// tooLong is the error for line number line over max bytes: what (the
// scrub, the import) stops there, as it does at a long NDJSON line.
func tooLong(line, max int, what string) error {
	return errInvalid("line", fmt.Sprint(line), fmt.Sprintf("is longer than %d bytes; %s stopped there", max, what))
}

// readCSVLine reads the next record of cr, which reads through lim, and
// refuses one longer than lim.max bytes with tooLong. prev is the line the
// previous record started on, for a record too long to be read whole.
func readCSVLine(cr *csv.Reader, lim *lineLimit, prev int, what string) ([]string, error) {
	lim.next()
	rec, err := cr.Read()
	if errors.Is(err, errLineTooLong) {
		return nil, tooLong(prev+1, lim.max, what)
	}
	if err != nil {
		return rec, err
	}
	n := len(rec) - 1 // the commas
	for _, f := range rec {
		n += len(f)
	}
	if n > lim.max {
		line, _ := cr.FieldPos(0)
		return nil, tooLong(line, lim.max, what)
	}
	return rec, nil
}
