-- Supervisors run the register from the UI (objections/review).
--
-- Users may be disabled by an administrator: disabled_at is when (NULL
-- while enabled). A disabled user cannot sign in and has no sessions.
--
-- Search that forgives: a supervisor may type the last digits of a number,
-- or its beginning. "Ends in 5678" is a range on the reversed number
-- ('8765' <= reverse(number) < '8766'), "starts with +31612" one on the
-- number; both in byte order (COLLATE "C"), whatever the database's
-- collation, so that the ranges are exact and use these indexes.

ALTER TABLE users ADD COLUMN disabled_at timestamptz;

CREATE INDEX objections_number_rev ON objections ((reverse(number) COLLATE "C"));
CREATE INDEX offers_number_rev ON offers ((reverse(number) COLLATE "C"));
CREATE INDEX objections_number_c ON objections ((number COLLATE "C"));
CREATE INDEX offers_number_c ON offers ((number COLLATE "C"));

---- create above / drop below ----

DROP INDEX offers_number_c;
DROP INDEX objections_number_c;
DROP INDEX offers_number_rev;
DROP INDEX objections_number_rev;
ALTER TABLE users DROP COLUMN disabled_at;
