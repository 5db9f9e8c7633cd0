package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/verzet/verzet/objections"
)

const promptAudioColumns = `seq, org, prompt, language, version, source, template, text, hash,
	duration_ms, wav, created_by, created_at`

func scanPromptAudio(r rowScanner) (objections.PromptAudio, error) {
	var a objections.PromptAudio
	err := r.Scan(&a.Seq, &a.Org, &a.Prompt, &a.Language, &a.Version, &a.Source, &a.Template, &a.Text, &a.Hash,
		&a.DurationMS, &a.WAV, &a.CreatedBy, at(&a.CreatedAt))
	return a, err
}

// AddPromptAudio stores a as the next version of its (org, prompt,
// language) and returns it with Seq, Version and CreatedAt set. When the
// latest version has the same hash and source, that one is returned
// instead and nothing is added. EINVALID for a bad a.
func (s *Store) AddPromptAudio(ctx context.Context, a objections.PromptAudio) (objections.PromptAudio, error) {
	if err := a.CheckStorable(); err != nil {
		return objections.PromptAudio{}, err
	}
	return writeOne(ctx, s, "add prompt audio", func(tx dbtx) (objections.PromptAudio, error) {
		rows, err := tx.QueryContext(ctx, `SELECT `+promptAudioColumns+` FROM prompt_audio
			WHERE org = ? AND prompt = ? AND language = ? ORDER BY version DESC LIMIT 1`, a.Org, a.Prompt, a.Language)
		if err != nil {
			return objections.PromptAudio{}, err
		}
		latest, err := collect(rows, scanPromptAudio)
		if err != nil {
			return objections.PromptAudio{}, err
		}
		if len(latest) == 1 && latest[0].Hash == a.Hash && latest[0].Source == a.Source {
			return latest[0], nil
		}
		a.Version = 1
		if len(latest) == 1 {
			a.Version = latest[0].Version + 1
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO prompt_audio (scope, org, prompt, language, version, source, template, text,
				hash, duration_ms, wav, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			a.Scope(), a.Org, a.Prompt, a.Language, a.Version, a.Source, a.Template, a.Text,
			a.Hash, a.DurationMS, a.WAV, a.CreatedBy, formatTime(a.CreatedAt)).Scan(&a.Seq)
		return a, err
	})
}

// PromptAudios returns every prompt audio row added after seq, in the
// order they were added, audio included.
func (s *Store) PromptAudios(ctx context.Context, after int64) ([]objections.PromptAudio, error) {
	return queryAll(ctx, s.q(), "list prompt audio", scanPromptAudio,
		`SELECT `+promptAudioColumns+` FROM prompt_audio WHERE seq > ? ORDER BY seq`, after)
}

// PutPromptPlayback keeps what a composed prompt said. A hash kept before
// is left as it is (the same hash means the same words and audio).
// EINVALID for a bad p.
func (s *Store) PutPromptPlayback(ctx context.Context, p objections.PromptPlayback) error {
	if err := p.CheckStorable(); err != nil {
		return err
	}
	sounds, err := json.Marshal(p.Sounds)
	if err != nil {
		return objections.Internal("encode prompt sounds", err)
	}
	return s.write(ctx, "keep prompt playback", func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO prompt_playbacks (hash, prompt, language, version, text, voice, sounds, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
			p.Hash, p.Prompt, p.Language, p.Version, p.Text, p.Voice, string(sounds), formatTime(p.CreatedAt))
		return err
	})
}

// PromptPlayback returns what the prompt with this hash said; ENOTFOUND.
func (s *Store) PromptPlayback(ctx context.Context, hash string) (objections.PromptPlayback, error) {
	return queryOne(ctx, s.q(), "read prompt playback", "hash", hash, func(r rowScanner) (objections.PromptPlayback, error) {
		var (
			p      objections.PromptPlayback
			sounds string
		)
		if err := r.Scan(&p.Hash, &p.Prompt, &p.Language, &p.Version, &p.Text, &p.Voice, &sounds, at(&p.CreatedAt)); err != nil {
			return p, err
		}
		if err := json.Unmarshal([]byte(sounds), &p.Sounds); err != nil {
			return p, fmt.Errorf("stored prompt sounds: %w", err)
		}
		return p, nil
	}, `SELECT hash, prompt, language, version, text, voice, sounds, created_at FROM prompt_playbacks WHERE hash = ?`, hash)
}
