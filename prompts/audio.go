package prompts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SampleRate is the sample rate of every sound the catalogue plays: what
// Asterisk's "wav" format (signed linear, 8 kHz) plays without transcoding.
const SampleRate = wavSampleRate

// Errors of CleanAudio: a recording it will not store.
var (
	// ErrTooQuiet means the audio is silent or so quiet that callers would
	// not hear it (a muted microphone, a wrong input).
	ErrTooQuiet = errors.New("recording is (nearly) silent")
	// ErrTooShort means less than MinSpeechMS of sound was left after the
	// silence around it was trimmed.
	ErrTooShort = errors.New("recording is too short")
	// ErrTooLong means more than MaxSpeechMS of sound.
	ErrTooLong = errors.New("recording is too long")
)

// Bounds of a usable recording, after trimming.
const (
	MinSpeechMS = 150
	MaxSpeechMS = 60_000
)

// Level describes what CleanAudio did to a recording and how loud it was.
type Level struct {
	// PeakDBFS and RMSDBFS are the recording's loudness before the gain
	// (dB below full scale; RMS over the frames that carry sound).
	PeakDBFS, RMSDBFS float64
	// GainDB is the gain applied to bring the peak to -3 dBFS.
	GainDB float64
	// TrimmedMS is the silence cut from the start and the end.
	TrimmedMS [2]int64
	// Clipped is true when more than 0.1% of the samples sit at full
	// scale: the recording was made too loud and may sound distorted.
	Clipped bool
	// DurationMS is the playing time of the cleaned audio.
	DurationMS int64
}

const (
	frameSamples   = SampleRate / 100 // 10 ms
	silenceDBFS    = -50.0            // a frame quieter than this is silence …
	relativeDB     = 40.0             // … as is one this far below the loudest frame
	quietRMSDBFS   = -45.0            // speech quieter than this is refused
	targetPeakDBFS = -3.0             // the catalogue's level (gen: sox gain -n -3)
	maxGainDB      = 30.0
	leadPadMS      = 50  // silence before the sound, as gen pads
	tailPadMS      = 150 // and after it, so joined fragments sound like one sentence
	edgeKeepMS     = 30  // sound kept around the first and last loud frame (breath, soft consonants)
)

func dbfs(v float64) float64 {
	if v <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(v/32768)
}

// CleanAudio prepares 8 kHz mono samples for the catalogue as gen prepares
// the synthesised prompts: it trims the silence before and after the
// sound, refuses audio that is nearly silent (ErrTooQuiet), shorter than
// MinSpeechMS (ErrTooShort) or longer than MaxSpeechMS (ErrTooLong),
// brings the peak to -3 dBFS (at most +30 dB), and pads 50 ms of silence
// before and 150 ms after. It returns the cleaned samples and what it
// found.
func CleanAudio(samples []int16) ([]int16, Level, error) {
	var lv Level
	frames := len(samples) / frameSamples
	if frames == 0 {
		return nil, lv, fmt.Errorf("%w: %d ms", ErrTooShort, len(samples)*1000/SampleRate)
	}
	rms := make([]float64, frames)
	loudest := 0.0
	for f := range frames {
		var sum float64
		for _, s := range samples[f*frameSamples : (f+1)*frameSamples] {
			sum += float64(s) * float64(s)
		}
		rms[f] = math.Sqrt(sum / frameSamples)
		loudest = max(loudest, rms[f])
	}
	threshold := max(silenceDBFS, dbfs(loudest)-relativeDB)
	first, last := -1, -1
	var speech float64
	var speechFrames int
	for f, r := range rms {
		if dbfs(r) >= threshold {
			if first < 0 {
				first = f
			}
			last = f
			speech += r * r
			speechFrames++
		}
	}
	if first < 0 {
		return nil, lv, fmt.Errorf("%w: no frame louder than %.0f dBFS", ErrTooQuiet, silenceDBFS)
	}
	lv.RMSDBFS = dbfs(math.Sqrt(speech / float64(speechFrames)))
	if lv.RMSDBFS < quietRMSDBFS {
		return nil, lv, fmt.Errorf("%w: its sound is at %.0f dBFS RMS, want at least %.0f dBFS (is the microphone muted?)",
			ErrTooQuiet, lv.RMSDBFS, quietRMSDBFS)
	}
	keep := edgeKeepMS * SampleRate / 1000
	from := max(0, first*frameSamples-keep)
	to := min(len(samples), (last+1)*frameSamples+keep)
	lv.TrimmedMS = [2]int64{int64(from) * 1000 / SampleRate, int64(len(samples)-to) * 1000 / SampleRate}
	sound := samples[from:to]
	if ms := len(sound) * 1000 / SampleRate; ms < MinSpeechMS {
		return nil, lv, fmt.Errorf("%w: %d ms of sound, want at least %d ms", ErrTooShort, ms, MinSpeechMS)
	} else if ms > MaxSpeechMS {
		return nil, lv, fmt.Errorf("%w: %d ms of sound, at most %d ms", ErrTooLong, ms, MaxSpeechMS)
	}

	peak, full := 0.0, 0
	for _, s := range sound {
		a := math.Abs(float64(s))
		peak = max(peak, a)
		if a >= 32767 {
			full++
		}
	}
	lv.PeakDBFS = dbfs(peak)
	lv.Clipped = full*1000 > len(sound)
	lv.GainDB = min(targetPeakDBFS-lv.PeakDBFS, maxGainDB)
	gain := math.Pow(10, lv.GainDB/20)

	lead, tail := leadPadMS*SampleRate/1000, tailPadMS*SampleRate/1000
	out := make([]int16, lead+len(sound)+tail)
	for i, s := range sound {
		out[lead+i] = clamp16(float64(s) * gain)
	}
	lv.DurationMS = int64(len(out)) * 1000 / SampleRate
	return out, lv, nil
}

func clamp16(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// EncodeWAV returns 8 kHz mono samples as a WAV file the catalogue plays
// (ParseWAV accepts it).
func EncodeWAV(samples []int16) []byte {
	data := len(samples) * 2
	b := make([]byte, 44+data)
	copy(b[0:4], "RIFF")
	binary.LittleEndian.PutUint32(b[4:8], uint32(36+data))
	copy(b[8:16], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:20], 16)
	binary.LittleEndian.PutUint16(b[20:22], wavFormatPCM)
	binary.LittleEndian.PutUint16(b[22:24], wavChannels)
	binary.LittleEndian.PutUint32(b[24:28], wavSampleRate)
	binary.LittleEndian.PutUint32(b[28:32], wavSampleRate*wavChannels*wavBitsPerSample/8)
	binary.LittleEndian.PutUint16(b[32:34], wavChannels*wavBitsPerSample/8)
	binary.LittleEndian.PutUint16(b[34:36], wavBitsPerSample)
	copy(b[36:40], "data")
	binary.LittleEndian.PutUint32(b[40:44], uint32(data))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}

// Samples returns the PCM samples of a catalogue WAV file. Errors wrap
// ErrInvalidWAV.
func Samples(wav []byte) ([]int16, error) {
	w, err := ParseWAV(wav)
	if err != nil {
		return nil, err
	}
	pcm := wav[w.DataOffset : w.DataOffset+w.DataLen]
	out := make([]int16, len(pcm)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return out, nil
}
