package prompts

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// chunk returns a RIFF chunk with id and body, padded to an even size.
func chunk(id string, body []byte) []byte {
	b := make([]byte, 8, 8+len(body)+1)
	copy(b, id)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// fmtChunk returns a plain "fmt " chunk; byte rate and block align follow
// from the other fields.
func fmtChunk(format, channels uint16, rate uint32, bits uint16) []byte {
	body := make([]byte, 16)
	binary.LittleEndian.PutUint16(body[0:], format)
	binary.LittleEndian.PutUint16(body[2:], channels)
	binary.LittleEndian.PutUint32(body[4:], rate)
	binary.LittleEndian.PutUint32(body[8:], rate*uint32(channels)*uint32(bits)/8)
	binary.LittleEndian.PutUint16(body[12:], channels*bits/8)
	binary.LittleEndian.PutUint16(body[14:], bits)
	return chunk("fmt ", body)
}

// extensibleFmt returns a WAVE_FORMAT_EXTENSIBLE "fmt " chunk for 8 kHz mono
// 16-bit with the given sub-format GUID.
func extensibleFmt(subformat string) []byte {
	plain := fmtChunk(wavFormatExtensible, 1, 8000, 16)[8:]
	body := append(append([]byte{}, plain...), make([]byte, 24)...)
	binary.LittleEndian.PutUint16(body[16:], 22) // cbSize
	binary.LittleEndian.PutUint16(body[18:], 16) // valid bits
	copy(body[24:], subformat)
	return chunk("fmt ", body)
}

// riff wraps chunks in a RIFF/WAVE header with the right size.
func riff(chunks ...[]byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c...)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// testWAV returns a valid catalogue WAV of ms milliseconds; fill varies the
// samples so that two test WAVs can differ.
func testWAV(ms int, fill byte) []byte {
	data := make([]byte, ms*wavBytesPerMS)
	for i := range data {
		data[i] = fill
	}
	return riff(fmtChunk(wavFormatPCM, 1, 8000, 16), chunk("data", data))
}

func TestParseWAV(t *testing.T) {
	pcm := fmtChunk(wavFormatPCM, 1, 8000, 16)
	data100 := chunk("data", make([]byte, 1600))
	tests := []struct {
		name       string
		in         []byte
		wantMS     int64
		wantOffset int
	}{
		{"minimal", riff(pcm, data100), 100, 44},
		{"partial millisecond rounds down", riff(pcm, chunk("data", make([]byte, 30))), 1, 44},
		{"LIST chunk before data", riff(pcm, chunk("LIST", []byte("INFOabcd")), data100), 100, 60},
		{"odd chunk is padded", riff(pcm, chunk("junk", []byte{1, 2, 3}), data100), 100, 56},
		{"chunk before fmt", riff(chunk("bext", []byte{1, 2}), pcm, data100), 100, 54},
		{"extensible PCM", riff(extensibleFmt(pcmSubformat), data100), 100, 68},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWAV(tc.in)
			if err != nil {
				t.Fatalf("ParseWAV: %v", err)
			}
			want := WAV{SampleRate: 8000, Channels: 1, BitsPerSample: 16,
				DataOffset: tc.wantOffset, DataLen: len(tc.in) - tc.wantOffset, DurationMS: tc.wantMS}
			if w != want {
				t.Errorf("ParseWAV = %+v, want %+v", w, want)
			}
		})
	}
}

func TestParseWAVErrors(t *testing.T) {
	pcm := fmtChunk(wavFormatPCM, 1, 8000, 16)
	data := chunk("data", make([]byte, 160))
	valid := riff(pcm, data)
	badAlign := riff(pcm, data)
	binary.LittleEndian.PutUint16(badAlign[32:], 4)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "not a RIFF/WAVE"},
		{"not RIFF", []byte("OggS\x00\x00\x00\x00WAVEfmt "), "not a RIFF/WAVE"},
		{"RIFF but not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), "not a RIFF/WAVE"},
		{"truncated", valid[:len(valid)-10], "does not match file size"},
		{"trailing bytes", append(append([]byte{}, valid...), 0, 0), "does not match file size"},
		{"no chunks", riff(), "no fmt chunk"},
		{"no data", riff(pcm), "no data chunk"},
		{"data before fmt", riff(data, pcm), "data chunk before fmt"},
		{"two fmt chunks", riff(pcm, pcm, data), "more than one fmt"},
		{"short fmt", riff(chunk("fmt ", make([]byte, 14)), data), "fmt chunk is 14 bytes"},
		{"float", riff(fmtChunk(3, 1, 8000, 32), data), "audio format 0x0003"},
		{"mu-law", riff(fmtChunk(7, 1, 8000, 8), data), "audio format 0x0007"},
		{"22050 Hz", riff(fmtChunk(wavFormatPCM, 1, 22050, 16), data), "sample rate 22050"},
		{"16 kHz", riff(fmtChunk(wavFormatPCM, 1, 16000, 16), data), "sample rate 16000"},
		{"stereo", riff(fmtChunk(wavFormatPCM, 2, 8000, 16), data), "2 channels"},
		{"8-bit", riff(fmtChunk(wavFormatPCM, 1, 8000, 8), data), "8 bits per sample"},
		{"inconsistent block align", badAlign, "inconsistent block align"},
		{"extensible float", riff(extensibleFmt("\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"), data), "extensible format without the PCM"},
		{"empty data", riff(pcm, chunk("data", nil)), "data chunk is empty"},
		{"odd data size", riff(pcm, chunk("data", make([]byte, 3))), "not a whole number"},
		{"chunk after data", riff(pcm, data, chunk("LIST", []byte("INFO"))), "not the last chunk"},
		{"chunk runs past end", riff(pcm, []byte("data\xff\xff\x00\x00\x00\x00")), "runs past the end"},
		{"half a chunk header", riff(pcm, []byte("dat")), "truncated chunk header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWAV(tc.in)
			if !errors.Is(err, ErrInvalidWAV) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseWAV error = %v, want ErrInvalidWAV containing %q", err, tc.want)
			}
		})
	}
}

// TestCatalogueWAVs checks every shipped recording against the format sox
// reports for it, so a regression in ParseWAV shows on real files too.
func TestCatalogueWAVs(t *testing.T) {
	c := mustLoad(t, nil)
	for _, p := range c.All() {
		for _, s := range p.Fragments {
			w, err := ParseWAV(s.Audio)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			if w.DataOffset+w.DataLen != len(s.Audio) || w.DurationMS != int64(w.DataLen/wavBytesPerMS) || w.DurationMS < 100 {
				t.Errorf("%s: %+v (file %d bytes)", s.Name, w, len(s.Audio))
			}
		}
	}
}

func FuzzParseWAV(f *testing.F) {
	pcm := fmtChunk(wavFormatPCM, 1, 8000, 16)
	f.Add(testWAV(10, 1))
	f.Add(riff(pcm, chunk("LIST", []byte("INFOx")), chunk("data", make([]byte, 4))))
	f.Add(riff(extensibleFmt(pcmSubformat), chunk("data", make([]byte, 2))))
	f.Add(riff(pcm, chunk("data", make([]byte, 2)), chunk("junk", nil)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	c := mustLoad(f, nil)
	f.Add(c.All()[0].Fragments[0].Audio)
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWAV(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidWAV) {
				t.Fatalf("error %v does not wrap ErrInvalidWAV", err)
			}
			return
		}
		if w.DataLen <= 0 || w.DataOffset+w.DataLen != len(b) || w.DurationMS != int64(w.DataLen/wavBytesPerMS) {
			t.Fatalf("inconsistent result %+v for %d bytes", w, len(b))
		}
		if w.SampleRate != 8000 || w.Channels != 1 || w.BitsPerSample != 16 {
			t.Fatalf("accepted format %+v", w)
		}
	})
}
