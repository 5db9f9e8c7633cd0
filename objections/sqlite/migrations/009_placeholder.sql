-- Stand-in for migration 009, which another branch adds (offer lifecycle):
-- migrations must run 1, 2, 3, … without gaps, and 010 (prompt audio) is
-- numbered after it. When the two branches meet, this file is removed and
-- the real 009 takes its place. It changes nothing.
SELECT 1;

---- create above / drop below ----
SELECT 1;
