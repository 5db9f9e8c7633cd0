-- Prompt audio kept in the store: organisations' names as spoken
-- (synthesised when an org is set or renamed, or recorded) and recordings
-- that replace one catalogue prompt for one org or for all, so that every
-- instance plays the same audio. Rows are never updated or deleted: a new
-- recording is the next version of its (org, prompt, language). org is ''
-- for audio of every org (scope global).
--
-- prompt_playbacks is the evidence of what a composed prompt said, keyed by
-- the hash an offer records: the words spoken (the org's name filled in),
-- the text-to-speech voice when the provider spoke them, and the sounds
-- played.

CREATE TABLE prompt_audio (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	scope       text NOT NULL CHECK (scope IN ('org', 'global')),
	org         text NOT NULL CHECK ((scope = 'org') = (org <> '')),
	prompt      text NOT NULL,
	language    text NOT NULL,
	version     integer NOT NULL CHECK (version > 0),
	source      text NOT NULL CHECK (source IN ('synthetic', 'recorded')),
	template    text NOT NULL,
	text        text NOT NULL,
	hash        text NOT NULL,
	duration_ms bigint NOT NULL CHECK (duration_ms > 0),
	wav         bytea NOT NULL,
	created_by  text NOT NULL,
	created_at  timestamptz NOT NULL,
	UNIQUE (org, prompt, language, version)
);

CREATE TABLE prompt_playbacks (
	hash       text PRIMARY KEY,
	prompt     text NOT NULL,
	language   text NOT NULL,
	version    text NOT NULL,
	text       text NOT NULL,
	voice      text NOT NULL,
	sounds     text[] NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TRIGGER prompt_audio_append_only BEFORE UPDATE OR DELETE ON prompt_audio
	FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER prompt_audio_no_truncate BEFORE TRUNCATE ON prompt_audio
	FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

---- create above / drop below ----

DROP TABLE prompt_playbacks;
DROP TABLE prompt_audio;
