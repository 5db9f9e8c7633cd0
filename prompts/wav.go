package prompts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The one audio format the catalogue accepts: what Asterisk's "wav" format
// (signed linear, 8 kHz) plays without transcoding, and what Twilio's <Play>
// accepts.
const (
	wavSampleRate    = 8000
	wavChannels      = 1
	wavBitsPerSample = 16
	wavBytesPerMS    = wavSampleRate * wavChannels * wavBitsPerSample / 8 / 1000
)

// ErrInvalidWAV is wrapped by every error ParseWAV returns: the bytes are not
// an 8 kHz, mono, 16-bit PCM WAV file the catalogue can play.
var ErrInvalidWAV = errors.New("invalid WAV")

// WAV describes a parsed catalogue audio file.
type WAV struct {
	// SampleRate is in Hz; always 8000 for a valid file.
	SampleRate int
	// Channels is always 1 for a valid file.
	Channels int
	// BitsPerSample is always 16 for a valid file.
	BitsPerSample int
	// DataOffset and DataLen locate the PCM samples inside the file.
	DataOffset, DataLen int
	// DurationMS is the playing time in whole milliseconds (rounded down).
	DurationMS int64
}

// ParseWAV parses and validates a RIFF/WAVE file: PCM (format 1, or
// WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), 8000 Hz, mono, 16 bits per
// sample, and a non-empty "data" chunk that is the last chunk and runs to the
// end of the file. Errors wrap ErrInvalidWAV.
//
// The last rule is stricter than RIFF needs: players differ in whether they
// stop at the end of the data chunk or read to the end of the file, so any
// trailing chunk could be played as noise and the duration we record as
// evidence would be wrong.
func ParseWAV(b []byte) (WAV, error) {
	var w WAV
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, fmt.Errorf("%w: not a RIFF/WAVE file", ErrInvalidWAV)
	}
	riffSize := int64(binary.LittleEndian.Uint32(b[4:8]))
	if riffSize+8 != int64(len(b)) {
		return w, fmt.Errorf("%w: RIFF size %d does not match file size %d", ErrInvalidWAV, riffSize+8, len(b))
	}
	haveFmt := false
	for off := 12; off < len(b); {
		if len(b)-off < 8 {
			return w, fmt.Errorf("%w: truncated chunk header at offset %d", ErrInvalidWAV, off)
		}
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		if size > int64(len(b)-body) {
			return w, fmt.Errorf("%w: chunk %q at offset %d runs past the end of the file", ErrInvalidWAV, id, off)
		}
		switch id {
		case "fmt ":
			if haveFmt {
				return w, fmt.Errorf("%w: more than one fmt chunk", ErrInvalidWAV)
			}
			if err := w.parseFmt(b[body : body+int(size)]); err != nil {
				return w, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, fmt.Errorf("%w: data chunk before fmt chunk", ErrInvalidWAV)
			}
			if size == 0 {
				return w, fmt.Errorf("%w: data chunk is empty", ErrInvalidWAV)
			}
			if size%2 != 0 {
				return w, fmt.Errorf("%w: data chunk size %d is not a whole number of 16-bit samples", ErrInvalidWAV, size)
			}
			if body+int(size) != len(b) {
				return w, fmt.Errorf("%w: data chunk is not the last chunk of the file", ErrInvalidWAV)
			}
			w.DataOffset, w.DataLen = body, int(size)
			w.DurationMS = size / wavBytesPerMS
			return w, nil
		}
		// RIFF chunks are padded to an even size.
		off = body + int(size) + int(size&1)
	}
	if !haveFmt {
		return w, fmt.Errorf("%w: no fmt chunk", ErrInvalidWAV)
	}
	return w, fmt.Errorf("%w: no data chunk", ErrInvalidWAV)
}

const (
	wavFormatPCM        = 0x0001
	wavFormatExtensible = 0xFFFE
)

// pcmSubformat is the KSDATAFORMAT_SUBTYPE_PCM GUID as stored in a
// WAVE_FORMAT_EXTENSIBLE fmt chunk.
const pcmSubformat = "\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

func (w *WAV) parseFmt(f []byte) error {
	if len(f) < 16 {
		return fmt.Errorf("%w: fmt chunk is %d bytes, want at least 16", ErrInvalidWAV, len(f))
	}
	format := binary.LittleEndian.Uint16(f[0:2])
	w.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
	w.SampleRate = int(binary.LittleEndian.Uint32(f[4:8]))
	byteRate := binary.LittleEndian.Uint32(f[8:12])
	blockAlign := binary.LittleEndian.Uint16(f[12:14])
	w.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:16]))
	switch format {
	case wavFormatPCM:
	case wavFormatExtensible:
		if len(f) < 40 || string(f[24:40]) != pcmSubformat {
			return fmt.Errorf("%w: extensible format without the PCM sub-format", ErrInvalidWAV)
		}
	default:
		return fmt.Errorf("%w: audio format %#04x, want PCM (1)", ErrInvalidWAV, format)
	}
	switch {
	case w.SampleRate != wavSampleRate:
		return fmt.Errorf("%w: sample rate %d Hz, want %d", ErrInvalidWAV, w.SampleRate, wavSampleRate)
	case w.Channels != wavChannels:
		return fmt.Errorf("%w: %d channels, want mono", ErrInvalidWAV, w.Channels)
	case w.BitsPerSample != wavBitsPerSample:
		return fmt.Errorf("%w: %d bits per sample, want %d", ErrInvalidWAV, w.BitsPerSample, wavBitsPerSample)
	case blockAlign != wavChannels*wavBitsPerSample/8 || byteRate != wavSampleRate*wavChannels*wavBitsPerSample/8:
		return fmt.Errorf("%w: inconsistent block align %d / byte rate %d", ErrInvalidWAV, blockAlign, byteRate)
	}
	return nil
}
