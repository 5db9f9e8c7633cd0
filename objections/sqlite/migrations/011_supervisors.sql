-- Supervisors run the register from the UI (objections/review).
--
-- Users may be disabled by an administrator: disabled_at is when ('' while
-- enabled). A disabled user cannot sign in and has no sessions.
--
-- Search that forgives: a supervisor may type the last digits of a number,
-- or its beginning. number_rev is the number reversed (E.164 has at most
-- 15 digits and the '+'), so that "ends in 5678" is a range on an index
-- ('8765' <= number_rev < '8766'), as "starts with +31612" is on number.
-- SQLite has no reverse(): the column is a virtual generated column made
-- of substr() calls, and the indexes keep it.

ALTER TABLE users ADD COLUMN disabled_at TEXT NOT NULL DEFAULT '';

ALTER TABLE objections ADD COLUMN number_rev TEXT GENERATED ALWAYS AS (substr(number, -1, 1)||substr(number, -2, 1)||substr(number, -3, 1)||substr(number, -4, 1)||substr(number, -5, 1)||substr(number, -6, 1)||substr(number, -7, 1)||substr(number, -8, 1)||substr(number, -9, 1)||substr(number, -10, 1)||substr(number, -11, 1)||substr(number, -12, 1)||substr(number, -13, 1)||substr(number, -14, 1)||substr(number, -15, 1)||substr(number, -16, 1)) VIRTUAL;
ALTER TABLE offers ADD COLUMN number_rev TEXT GENERATED ALWAYS AS (substr(number, -1, 1)||substr(number, -2, 1)||substr(number, -3, 1)||substr(number, -4, 1)||substr(number, -5, 1)||substr(number, -6, 1)||substr(number, -7, 1)||substr(number, -8, 1)||substr(number, -9, 1)||substr(number, -10, 1)||substr(number, -11, 1)||substr(number, -12, 1)||substr(number, -13, 1)||substr(number, -14, 1)||substr(number, -15, 1)||substr(number, -16, 1)) VIRTUAL;
CREATE INDEX objections_number_rev ON objections (number_rev);
CREATE INDEX offers_number_rev ON offers (number_rev);
CREATE INDEX objections_number ON objections (number);
CREATE INDEX offers_number ON offers (number);

---- create above / drop below ----

DROP INDEX offers_number;
DROP INDEX objections_number;
DROP INDEX offers_number_rev;
DROP INDEX objections_number_rev;
ALTER TABLE offers DROP COLUMN number_rev;
ALTER TABLE objections DROP COLUMN number_rev;
ALTER TABLE users DROP COLUMN disabled_at;
