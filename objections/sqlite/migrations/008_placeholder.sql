-- Stand-in for migration 008 of another branch (the agency column, org kind
-- and agencies), so that 009 has its number here; it changes nothing. When
-- the branches meet, that branch's 008 replaces this file.
SELECT 1;

---- create above / drop below ----

SELECT 1;
