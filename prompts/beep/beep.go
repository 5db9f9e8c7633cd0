// Package beep reads organisations' own recordings for the prompt
// catalogue with github.com/gopxl/beep/v2: it decodes a WAV file (8 to
// 48 kHz, mono or stereo, 16- or 24-bit PCM) or an MP3 file (MPEG-1/2
// Layer III, 16 to 48 kHz, through beep's decoder, which uses
// github.com/hajimehoshi/go-mp3), mixes it to mono and
// resamples it to the 8 kHz the catalogue plays (prompts.SampleRate).
// package prompts then trims, checks and stores it (prompts.CleanAudio,
// prompts.EncodeWAV). It imports prompts and beep only, and does not log.
package beep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	beepv2 "github.com/gopxl/beep/v2"
	"github.com/gopxl/beep/v2/mp3"
	"github.com/gopxl/beep/v2/wav"

	"github.com/verzet/verzet/prompts"
)

// ErrUnsupported is wrapped by every error Decode returns for audio it
// cannot use; the message says what was found and what is accepted.
var ErrUnsupported = errors.New("unsupported recording")

// What Decode accepts.
const (
	MinRate  = 8000
	MaxRate  = 48000
	MaxBytes = 64 << 20 // a minute of 48 kHz 24-bit stereo is 17 MB
)

// accepted says what Decode accepts, for its error messages.
const accepted = "want PCM WAV (8–48 kHz, mono or stereo, 16- or 24-bit) or MP3"

// Format is what a recording was before Decode converted it.
type Format struct {
	// Container is "WAV" or "MP3".
	Container     string
	SampleRate    int
	Channels      int
	BitsPerSample int
	// DurationMS is the recording's playing time.
	DurationMS int64
}

func (f Format) String() string {
	if f.Container == "MP3" {
		return fmt.Sprintf("MP3 %.1f kHz, %.1f s", float64(f.SampleRate)/1000, float64(f.DurationMS)/1000)
	}
	ch := "mono"
	if f.Channels == 2 {
		ch = "stereo"
	}
	return fmt.Sprintf("%.1f kHz %s %d-bit, %.1f s", float64(f.SampleRate)/1000, ch, f.BitsPerSample, float64(f.DurationMS)/1000)
}

// Decode reads a WAV or MP3 recording from r and returns it as 8 kHz
// mono samples, with the format it had. Errors wrap ErrUnsupported and say
// what is accepted: PCM WAV at 8–48 kHz, mono or stereo, 16 or 24 bits, or
// MP3.
func Decode(r io.Reader) ([]int16, Format, error) {
	var f Format
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, f, fmt.Errorf("read recording: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, f, fmt.Errorf("%w: larger than %d MB", ErrUnsupported, MaxBytes>>20)
	}
	var s beepv2.StreamSeekCloser
	switch {
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		var format beepv2.Format
		s, format, err = wav.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, f, fmt.Errorf("%w: %v (%s)", ErrUnsupported, err, accepted)
		}
		f = Format{Container: "WAV", SampleRate: int(format.SampleRate), Channels: format.NumChannels, BitsPerSample: format.Precision * 8}
		switch {
		case f.SampleRate < MinRate || f.SampleRate > MaxRate:
			s.Close()
			return nil, f, fmt.Errorf("%w: sample rate %d Hz, want %d to %d Hz", ErrUnsupported, f.SampleRate, MinRate, MaxRate)
		case f.Channels != 1 && f.Channels != 2:
			s.Close()
			return nil, f, fmt.Errorf("%w: %d channels, want mono or stereo", ErrUnsupported, f.Channels)
		case f.BitsPerSample != 16 && f.BitsPerSample != 24:
			s.Close()
			return nil, f, fmt.Errorf("%w: %d bits per sample, want 16 or 24", ErrUnsupported, f.BitsPerSample)
		}
	case isMP3(b):
		var format beepv2.Format
		s, format, err = mp3.Decode(io.NopCloser(bytes.NewReader(b)))
		if err != nil {
			return nil, f, fmt.Errorf("%w: not a readable MP3 file: %v (%s)", ErrUnsupported, err, accepted)
		}
		// The decoder always hands 16-bit stereo; the file's own channel
		// count is not told.
		f = Format{Container: "MP3", SampleRate: int(format.SampleRate), Channels: format.NumChannels, BitsPerSample: 16}
		if f.SampleRate < MinRate || f.SampleRate > MaxRate {
			s.Close()
			return nil, f, fmt.Errorf("%w: sample rate %d Hz, want %d to %d Hz", ErrUnsupported, f.SampleRate, MinRate, MaxRate)
		}
	default:
		return nil, f, fmt.Errorf("%w: neither a WAV nor an MP3 file (%s)", ErrUnsupported, accepted)
	}
	defer s.Close()

	// beep hands every sample as a stereo pair (a mono file has both
	// channels alike); the catalogue is mono, so the channels are averaged.
	var mono []float64
	buf := make([][2]float64, 4096)
	for {
		n, ok := s.Stream(buf)
		for _, p := range buf[:n] {
			mono = append(mono, (p[0]+p[1])/2)
		}
		if !ok {
			break
		}
	}
	if err := s.Err(); err != nil {
		return nil, f, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if len(mono) == 0 {
		return nil, f, fmt.Errorf("%w: no audio in the file", ErrUnsupported)
	}
	f.DurationMS = int64(len(mono)) * 1000 / int64(f.SampleRate)

	if f.SampleRate != prompts.SampleRate {
		mono = resample(lowPass(mono, f.SampleRate), f.SampleRate)
	}
	out := make([]int16, len(mono))
	for i, v := range mono {
		out[i] = int16(max(-32768, min(32767, math.Round(v*32768))))
	}
	return out, f, nil
}

// isMP3 says whether b starts like an MP3 file: an ID3v2 tag, or an MPEG
// audio frame header (11 sync bits, Layer III).
func isMP3(b []byte) bool {
	if len(b) >= 10 && string(b[0:3]) == "ID3" {
		return true
	}
	return len(b) >= 4 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && (b[1]>>1)&0x3 == 0x1
}

// resample converts mono from rate to prompts.SampleRate with beep.Resample.
func resample(mono []float64, rate int) []float64 {
	src := &samples{s: mono}
	rs := beepv2.Resample(6, beepv2.SampleRate(rate), beepv2.SampleRate(prompts.SampleRate), src)
	out := make([]float64, 0, len(mono)*prompts.SampleRate/rate+1)
	buf := make([][2]float64, 4096)
	for {
		n, ok := rs.Stream(buf)
		for _, p := range buf[:n] {
			out = append(out, p[0])
		}
		if !ok || n == 0 {
			break
		}
	}
	return out
}

// samples streams mono samples to beep.
type samples struct {
	s   []float64
	pos int
}

func (m *samples) Stream(buf [][2]float64) (int, bool) {
	if m.pos >= len(m.s) {
		return 0, false
	}
	n := copy2(buf, m.s[m.pos:])
	m.pos += n
	return n, true
}

func (m *samples) Err() error { return nil }

func copy2(dst [][2]float64, src []float64) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = [2]float64{src[i], src[i]}
	}
	return n
}

// cutoffHz is where lowPass starts to cut: below the 4 kHz that 8 kHz
// audio can hold.
const cutoffHz = 3600

// lowPass removes what lies above 4 kHz before the audio is resampled to
// 8 kHz. beep.Resample interpolates between samples and does not band-limit,
// so sibilants and noise above 4 kHz would fold back into the speech band
// as a hiss (aliasing). The filter is a windowed sinc (Blackman window)
// whose length grows with the rate, so the transition stays about 600 Hz
// wide: sounds above about 3.9 kHz are attenuated by more than 70 dB.
func lowPass(x []float64, rate int) []float64 {
	taps := 64*rate/prompts.SampleRate + 1
	fc := float64(cutoffHz) / float64(rate)
	h := make([]float64, taps)
	mid := float64(taps-1) / 2
	var sum float64
	for i := range h {
		t := float64(i) - mid
		sinc := 2 * fc
		if t != 0 {
			sinc = math.Sin(2*math.Pi*fc*t) / (math.Pi * t)
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(taps-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/float64(taps-1))
		h[i] = sinc * w
		sum += h[i]
	}
	for i := range h {
		h[i] /= sum
	}
	half := taps / 2
	y := make([]float64, len(x))
	for n := range y {
		var acc float64
		lo, hi := max(0, n-half), min(len(x)-1, n+half)
		for k := lo; k <= hi; k++ {
			acc += h[k-n+half] * x[k]
		}
		y[n] = acc
	}
	return y
}
