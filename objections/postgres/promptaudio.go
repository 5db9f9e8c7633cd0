package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

const promptAudioColumns = `seq, org, prompt, language, version, source, template, text, hash,
	duration_ms, wav, created_by, created_at`

// scanPromptAudio is the pgx.RowToFunc for promptAudioColumns.
func scanPromptAudio(row pgx.CollectableRow) (objections.PromptAudio, error) {
	var a objections.PromptAudio
	err := row.Scan(&a.Seq, &a.Org, &a.Prompt, &a.Language, &a.Version, &a.Source, &a.Template, &a.Text, &a.Hash,
		&a.DurationMS, &a.WAV, &a.CreatedBy, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// AddPromptAudio stores a as the next version of its (org, prompt,
// language) and returns it with Seq, Version and CreatedAt set. When the
// latest version has the same hash and source, that one is returned
// instead and nothing is added. EINVALID for a bad a; ECONFLICT when
// another writer added the same version at the same moment (add again).
func (s *Store) AddPromptAudio(ctx context.Context, a objections.PromptAudio) (objections.PromptAudio, error) {
	if err := a.CheckStorable(); err != nil {
		return objections.PromptAudio{}, err
	}
	var out objections.PromptAudio
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+promptAudioColumns+` FROM prompt_audio
			WHERE org = $1 AND prompt = $2 AND language = $3 ORDER BY version DESC LIMIT 1`, a.Org, a.Prompt, a.Language)
		latest, err := pgx.CollectRows(rows, scanPromptAudio)
		if err != nil {
			return err
		}
		if len(latest) == 1 && latest[0].Hash == a.Hash && latest[0].Source == a.Source {
			out = latest[0]
			return nil
		}
		a.Version = 1
		if len(latest) == 1 {
			a.Version = latest[0].Version + 1
		}
		return tx.QueryRow(ctx, `INSERT INTO prompt_audio (scope, org, prompt, language, version, source, template, text,
				hash, duration_ms, wav, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq`,
			a.Scope(), a.Org, a.Prompt, a.Language, a.Version, a.Source, a.Template, a.Text,
			a.Hash, a.DurationMS, a.WAV, a.CreatedBy, utc(a.CreatedAt)).Scan(&a.Seq)
	})
	if err != nil {
		return objections.PromptAudio{}, translate("add prompt audio", err)
	}
	if out.Seq != 0 {
		return out, nil
	}
	return a, nil
}

// PromptAudios returns every prompt audio row added after seq, in the
// order they were added, audio included.
func (s *Store) PromptAudios(ctx context.Context, after int64) ([]objections.PromptAudio, error) {
	return queryAll(ctx, s.pool, "list prompt audio", scanPromptAudio,
		`SELECT `+promptAudioColumns+` FROM prompt_audio WHERE seq > $1 ORDER BY seq`, after)
}

// PutPromptPlayback keeps what a composed prompt said. A hash kept before
// is left as it is (the same hash means the same words and audio).
// EINVALID for a bad p.
func (s *Store) PutPromptPlayback(ctx context.Context, p objections.PromptPlayback) error {
	if err := p.CheckStorable(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO prompt_playbacks (hash, prompt, language, version, text, voice, sounds, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING`,
		p.Hash, p.Prompt, p.Language, p.Version, p.Text, p.Voice, p.Sounds, utc(p.CreatedAt))
	if err != nil {
		return translate("keep prompt playback", err)
	}
	return nil
}

// PromptPlayback returns what the prompt with this hash said; ENOTFOUND.
func (s *Store) PromptPlayback(ctx context.Context, hash string) (objections.PromptPlayback, error) {
	return queryOne(ctx, s.pool, "read prompt playback", "hash", hash, func(row pgx.CollectableRow) (objections.PromptPlayback, error) {
		var p objections.PromptPlayback
		if err := row.Scan(&p.Hash, &p.Prompt, &p.Language, &p.Version, &p.Text, &p.Voice, &p.Sounds, &p.CreatedAt); err != nil {
			return p, fmt.Errorf("scan prompt playback: %w", err)
		}
		p.CreatedAt = p.CreatedAt.UTC()
		return p, nil
	}, `SELECT hash, prompt, language, version, text, voice, sounds, created_at FROM prompt_playbacks WHERE hash = $1`, hash)
}
