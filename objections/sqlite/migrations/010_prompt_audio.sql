-- Prompt audio kept in the store, as in objections/postgres: organisations'
-- names as spoken (synthesised when an org is set or renamed, or recorded)
-- and recordings that replace one catalogue prompt for one org or for all,
-- so that every instance plays the same audio. Rows are never updated or
-- deleted: a new recording is the next version of its (org, prompt,
-- language). org is '' for audio of every org (scope global).
--
-- prompt_playbacks is the evidence of what a composed prompt said, keyed by
-- the hash an offer records: the words spoken (the org's name filled in),
-- the text-to-speech voice when the provider spoke them, and the sounds
-- played.

CREATE TABLE prompt_audio (
    seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    scope       TEXT    NOT NULL CHECK (scope IN ('org', 'global')),
    org         TEXT    NOT NULL CHECK ((scope = 'org') = (org <> '')),
    prompt      TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    source      TEXT    NOT NULL CHECK (source IN ('synthetic', 'recorded')),
    template    TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms > 0),
    wav         BLOB    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (org, prompt, language, version)
) STRICT;

CREATE TABLE prompt_playbacks (
    hash       TEXT NOT NULL PRIMARY KEY,
    prompt     TEXT NOT NULL,
    language   TEXT NOT NULL,
    version    TEXT NOT NULL,
    text       TEXT NOT NULL,
    voice      TEXT NOT NULL,
    sounds     TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER prompt_audio_append_only_update BEFORE UPDATE ON prompt_audio
BEGIN SELECT RAISE(ABORT, 'prompt_audio is append-only'); END;
CREATE TRIGGER prompt_audio_append_only_delete BEFORE DELETE ON prompt_audio
BEGIN SELECT RAISE(ABORT, 'prompt_audio is append-only'); END;

---- create above / drop below ----

DROP TABLE prompt_playbacks;
DROP TABLE prompt_audio;
