package beep_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/verzet/verzet/prompts"
	"github.com/verzet/verzet/prompts/beep"
)

// wavFile returns a PCM WAV of seconds of sine at freq Hz (amplitude amp),
// every channel alike.
func wavFile(rate, channels, bits int, seconds, freq, amp float64) []byte {
	n := int(seconds * float64(rate))
	width := bits / 8
	data := make([]byte, 0, n*channels*width)
	for i := range n {
		v := int32(amp * float64(int32(1)<<(bits-1)-1) * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for range channels {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(v))
			data = append(data, b[:width]...)
		}
	}
	var w bytes.Buffer
	w.WriteString("RIFF")
	binary.Write(&w, binary.LittleEndian, uint32(36+len(data)))
	w.WriteString("WAVEfmt ")
	binary.Write(&w, binary.LittleEndian, uint32(16))
	binary.Write(&w, binary.LittleEndian, uint16(1))
	binary.Write(&w, binary.LittleEndian, uint16(channels))
	binary.Write(&w, binary.LittleEndian, uint32(rate))
	binary.Write(&w, binary.LittleEndian, uint32(rate*channels*width))
	binary.Write(&w, binary.LittleEndian, uint16(channels*width))
	binary.Write(&w, binary.LittleEndian, uint16(bits))
	w.WriteString("data")
	binary.Write(&w, binary.LittleEndian, uint32(len(data)))
	w.Write(data)
	return w.Bytes()
}

// power is the mean square of s at freq (Goertzel), relative to full scale.
func power(s []int16, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/prompts.SampleRate)
	var s1, s2 float64
	for _, x := range s {
		s0 := float64(x)/32768 + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(s)*len(s))
}

func TestDecodeFormats(t *testing.T) {
	for _, c := range []struct {
		rate, channels, bits int
	}{{44100, 2, 16}, {44100, 2, 24}, {48000, 1, 16}, {16000, 2, 24}, {8000, 1, 16}, {22050, 1, 16}} {
		s, f, err := beep.Decode(bytes.NewReader(wavFile(c.rate, c.channels, c.bits, 1, 440, 0.5)))
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if f.SampleRate != c.rate || f.Channels != c.channels || f.BitsPerSample != c.bits || f.DurationMS != 1000 {
			t.Errorf("%+v: format %+v", c, f)
		}
		if len(s) < prompts.SampleRate-20 || len(s) > prompts.SampleRate+20 {
			t.Errorf("%+v: %d samples at 8 kHz, want about 8000", c, len(s))
		}
		// The tone survives at its level (-6 dBFS: power 1/16 of a
		// full-scale sine's 1/4).
		if p := power(s, 440); p < 0.5/16 || p > 2.0/16 {
			t.Errorf("%+v: power at 440 Hz %.4f, want about %.4f", c, p, 1.0/16)
		}
	}
}

// TestDecodeNoAliasing: a 6 kHz tone at 44.1 kHz cannot be held at 8 kHz;
// without the low-pass filter it would fold back to 2 kHz.
func TestDecodeNoAliasing(t *testing.T) {
	s, _, err := beep.Decode(bytes.NewReader(wavFile(44100, 2, 16, 1, 6000, 0.5)))
	if err != nil {
		t.Fatal(err)
	}
	if p := power(s, 2000); p > 1e-6 {
		t.Fatalf("6 kHz folded back to 2 kHz at power %.2g", p)
	}
}

// TestDecodeMP3: an MP3 made by LAME from 1.5 s of a 440 Hz sine at
// -6 dBFS, 44.1 kHz stereo (testdata), comes out as 8 kHz mono at about
// the same level and length.
func TestDecodeMP3(t *testing.T) {
	b, err := os.ReadFile("testdata/tone-440hz-44k1-stereo.mp3")
	if err != nil {
		t.Fatal(err)
	}
	s, f, err := beep.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Container != "MP3" || f.SampleRate != 44100 {
		t.Errorf("format %+v, want MP3 at 44100 Hz", f)
	}
	// An MP3 decoder adds a frame or two of padding at each end.
	if f.DurationMS < 1500 || f.DurationMS > 1600 || len(s) < 12000 || len(s) > 12800 {
		t.Errorf("%d ms, %d samples at 8 kHz; want about 1.5 s and 12000", f.DurationMS, len(s))
	}
	mid := s[2000:10000]
	if p := power(mid, 440); p < 0.5/16 || p > 2.0/16 {
		t.Errorf("power at 440 Hz %.4f, want about %.4f", p, 1.0/16)
	}
	if !strings.HasPrefix(f.String(), "MP3 44.1 kHz") {
		t.Errorf("String() = %q", f.String())
	}
}

func TestDecodeRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		file []byte
		want string
	}{
		"96 kHz":     {wavFile(96000, 1, 16, 0.1, 440, 0.5), "sample rate 96000 Hz"},
		"6 kHz":      {wavFile(6000, 1, 16, 0.1, 440, 0.5), "sample rate 6000 Hz"},
		"8-bit":      {wavFile(8000, 1, 8, 0.1, 440, 0.5), "8 bits per sample"},
		"broken MP3": {[]byte("ID3\x04 an mp3 perhaps"), "not a readable MP3 file"},
		"text":       {[]byte("hello, this is not audio"), "neither a WAV nor an MP3"},
		"empty":      {nil, "neither a WAV nor an MP3"},
		"truncated":  {wavFile(8000, 1, 16, 0.1, 440, 0.5)[:30], ""},
		"no samples": {wavFile(8000, 1, 16, 0, 440, 0.5), "no audio"},
	} {
		_, _, err := beep.Decode(bytes.NewReader(c.file))
		if !errors.Is(err, beep.ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrUnsupported with %q", name, err, c.want)
		}
	}
}
