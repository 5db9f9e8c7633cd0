-- Organisations, agencies and access, as in objections/postgres: an org is
-- an advertiser (the default) or an agency; an advertiser lists the
-- agencies that may call for it. An objection or offer made on a call by an
-- agency for an advertiser names the agency, and is flagged when the
-- advertiser did not list it. API tokens and UI users may be scoped to some
-- orgs ('' reaches every org, as before); audit entries name the orgs whose
-- data they concern. Lists of org ids are comma-separated text, sorted.
-- Every new column has a default, so the previous release's statements
-- keep working during a rolling update.

ALTER TABLE orgs ADD COLUMN kind TEXT NOT NULL DEFAULT 'advertiser' CHECK (kind IN ('advertiser', 'agency'));
ALTER TABLE orgs ADD COLUMN agencies TEXT NOT NULL DEFAULT '';

ALTER TABLE objections ADD COLUMN agency TEXT CHECK (agency <> org);
ALTER TABLE objections ADD COLUMN agency_unlisted INTEGER NOT NULL DEFAULT 0 CHECK (agency_unlisted IN (0, 1));
ALTER TABLE offers ADD COLUMN agency TEXT CHECK (agency <> org);
ALTER TABLE offers ADD COLUMN agency_unlisted INTEGER NOT NULL DEFAULT 0 CHECK (agency_unlisted IN (0, 1));

-- An agency's own list: the objections of its calls, by number and person.
CREATE INDEX objections_agency_number ON objections (agency, number) WHERE agency IS NOT NULL;
CREATE INDEX objections_agency_person ON objections (agency, person_id) WHERE agency IS NOT NULL;
CREATE INDEX objections_agency_id ON objections (agency, id) WHERE agency IS NOT NULL;
CREATE INDEX offers_agency_id ON offers (agency, id) WHERE agency IS NOT NULL;

ALTER TABLE api_tokens ADD COLUMN orgs TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN orgs TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN orgs TEXT NOT NULL DEFAULT '';

---- create above / drop below ----

ALTER TABLE audit_log DROP COLUMN orgs;
ALTER TABLE users DROP COLUMN orgs;
ALTER TABLE api_tokens DROP COLUMN orgs;
DROP INDEX offers_agency_id;
DROP INDEX objections_agency_id;
DROP INDEX objections_agency_person;
DROP INDEX objections_agency_number;
ALTER TABLE offers DROP COLUMN agency_unlisted;
ALTER TABLE offers DROP COLUMN agency;
ALTER TABLE objections DROP COLUMN agency_unlisted;
ALTER TABLE objections DROP COLUMN agency;
ALTER TABLE orgs DROP COLUMN agencies;
ALTER TABLE orgs DROP COLUMN kind;
