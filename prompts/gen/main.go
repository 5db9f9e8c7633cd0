// Command gen renders the audio of a prompt catalogue from its texts with
// espeak-ng and sox (Debian: apt-get install espeak-ng sox), as 8 kHz mono
// 16-bit PCM WAV files next to the texts. It reproduces every generated WAV
// of the embedded catalogue (go generate ./prompts) and works the same on an
// override directory:
//
//	go run github.com/verzet/verzet/prompts/gen -dir /etc/verzet/prompts
//
// For each language folder it splits every prompt text at its placeholders
// and renders each spoken piece ({id}.wav, or {id}-1.wav, {id}-2.wav …),
// the generic organisation wording (org.wav) and the digits
// (digit/0.wav … 9.wav), using the folder name as the espeak-ng voice.
// Organisation name recordings (org/{orgid}.txt → org/{orgid}.wav) use
// -org-voice. Files whose bytes would not change are not rewritten, and
// stale fragments of a prompt are removed. Every file is checked with
// prompts.ParseWAV; run go test ./prompts/... afterwards, which loads the
// catalogue (prompts.Load checks that every fragment is there). Output is
// deterministic for a given espeak-ng and sox version (sox dithering is
// switched off).
//
// Human recordings can replace any generated file; do not run gen on such
// a folder afterwards.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/verzet/verzet/prompts"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type generator struct {
	dir      string
	speed    int
	orgVoice string
	written  int
}

func run(args []string) error {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	g := &generator{}
	fl.StringVar(&g.dir, "dir", "catalog", "catalogue `directory` (language folders and org/)")
	langs := fl.String("lang", "", "comma-separated languages to render (default: every language folder)")
	fl.StringVar(&g.orgVoice, "org-voice", prompts.DefaultLang, "espeak-ng `voice` for organisation names")
	fl.IntVar(&g.speed, "speed", 150, "espeak-ng speed in words per minute")
	if err := fl.Parse(args); err != nil {
		return err
	}
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install espeak-ng sox): %w", tool, err)
		}
	}
	entries, err := os.ReadDir(g.dir)
	if err != nil {
		return err
	}
	only := strings.FieldsFunc(*langs, func(r rune) bool { return r == ',' })
	for _, e := range entries {
		name := e.Name()
		switch {
		case !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		case name == "org":
			if err := g.orgs(); err != nil {
				return err
			}
		case len(only) == 0 || slices.Contains(only, name):
			if err := g.language(name); err != nil {
				return err
			}
		}
	}
	fmt.Printf("gen: %s: %d file(s) written\n", g.dir, g.written)
	return nil
}

// language renders one language folder; lang is also the espeak-ng voice.
func (g *generator) language(lang string) error {
	dir := filepath.Join(g.dir, lang)
	texts, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return err
	}
	for _, file := range texts {
		id := strings.TrimSuffix(filepath.Base(file), ".txt")
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		text := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
		if id == "org" {
			if err := g.render(lang, text, filepath.Join(dir, "org.wav")); err != nil {
				return err
			}
			continue
		}
		pieces := spokenPieces(text)
		keep := make(map[string]bool)
		for i, piece := range pieces {
			name := id + ".wav"
			if len(pieces) > 1 {
				name = fmt.Sprintf("%s-%d.wav", id, i+1)
			}
			keep[name] = true
			if err := g.render(lang, piece, filepath.Join(dir, name)); err != nil {
				return err
			}
		}
		if err := removeStale(dir, id, keep); err != nil {
			return err
		}
	}
	for d := range 10 {
		if err := g.render(lang, strconv.Itoa(d), filepath.Join(dir, "digit", strconv.Itoa(d)+".wav")); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) orgs() error {
	texts, err := filepath.Glob(filepath.Join(g.dir, "org", "*.txt"))
	if err != nil {
		return err
	}
	for _, file := range texts {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		text := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
		if err := g.render(g.orgVoice, text, strings.TrimSuffix(file, ".txt")+".wav"); err != nil {
			return err
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// spokenPieces splits a prompt text at its placeholders and returns the
// pieces that say something, as text for the synthesiser. It mirrors the
// fragment rule of package prompts (its tests load the result). Leading
// punctuation is dropped, since ". Druk op" would otherwise be read as
// "punt druk op"; the text evidence keeps it, as punctuation is not heard.
func spokenPieces(text string) []string {
	var out []string
	for _, p := range placeholder.Split(text, -1) {
		if strings.IndexFunc(p, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			continue
		}
		out = append(out, strings.TrimSpace(strings.TrimLeftFunc(p, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsPunct(r)
		})))
	}
	return out
}

// removeStale deletes {id}.wav and {id}-N.wav files that the current text
// no longer uses.
func removeStale(dir, id string, keep map[string]bool) error {
	stale := regexp.MustCompile(`^` + regexp.QuoteMeta(id) + `(-[0-9]+)?\.wav$`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if stale.MatchString(e.Name()) && !keep[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
			fmt.Printf("gen: removed %s\n", filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// render speaks text with voice into out as 8 kHz mono 16-bit PCM.
func (g *generator) render(voice, text, out string) error {
	tmp, err := os.MkdirTemp("", "verzet-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	raw, wav := filepath.Join(tmp, "raw.wav"), filepath.Join(tmp, "out.wav")

	// Text goes in on stdin so that a text starting with "-" is not an option.
	speak := exec.Command("espeak-ng", "-v", voice, "-s", strconv.Itoa(g.speed), "--stdin", "-w", raw)
	speak.Stdin = strings.NewReader(text)
	if b, err := speak.CombinedOutput(); err != nil {
		return fmt.Errorf("espeak-ng -v %s %q: %w: %s", voice, text, err, b)
	}
	// -D: no dither, so the output is reproducible. The effects trim the
	// synthesiser's silence, normalise to -3 dBFS and leave short even
	// pauses, so that fragments joined at a placeholder sound like one
	// sentence.
	conv := exec.Command("sox", "-D", raw,
		"-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav", wav,
		"silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
		"gain", "-n", "-3", "pad", "0.05", "0.15")
	if b, err := conv.CombinedOutput(); err != nil {
		return fmt.Errorf("sox for %q: %w: %s", text, err, b)
	}
	b, err := os.ReadFile(wav)
	if err != nil {
		return err
	}
	if _, err := prompts.ParseWAV(b); err != nil {
		return fmt.Errorf("sox output for %q: %w", text, err)
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, b) {
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	g.written++
	fmt.Printf("gen: wrote %s (%q)\n", out, text)
	return nil
}
