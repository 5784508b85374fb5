\timing off
-- TEXT against uuid ids on PostgreSQL: two copies of a table shaped like `issues`, 1,000,000 rows
-- over 100 teams. Run by run.sh; see docs/architecture.md, "Database values".
DROP TABLE IF EXISTS pick, s_text, s_uuid, i_text, i_uuid;
CREATE TABLE i_uuid (team_id uuid, id uuid, project_id uuid, status_id uuid, number bigint, internal boolean, PRIMARY KEY (team_id, id));
INSERT INTO i_uuid SELECT t, gen_random_uuid(), p, s, n, n % 2 = 0 FROM
  (SELECT n, ('00000000-0000-4000-8000-' || lpad((n % 100)::text, 12, '0'))::uuid AS t,
          ('00000000-0000-4000-9000-' || lpad((n % 100)::text, 12, '0'))::uuid AS p,
          ('00000000-0000-4000-a000-' || lpad((n % 500)::text, 12, '0'))::uuid AS s
   FROM generate_series(1, 1000000) n) x;
CREATE TABLE i_text AS SELECT team_id::text team_id, id::text id, project_id::text project_id, status_id::text status_id, number, CASE WHEN internal THEN 1::bigint ELSE 0 END internal FROM i_uuid;
ALTER TABLE i_text ADD PRIMARY KEY (team_id, id);
CREATE INDEX ON i_uuid (team_id, project_id, number);
CREATE INDEX ON i_text (team_id, project_id, number);
CREATE TABLE s_uuid AS SELECT DISTINCT team_id, status_id AS id FROM i_uuid;
CREATE TABLE s_text AS SELECT DISTINCT team_id, status_id AS id FROM i_text;
VACUUM ANALYZE;
SELECT 'uuid' AS kind, pg_size_pretty(pg_table_size('i_uuid')) tbl, pg_size_pretty(pg_indexes_size('i_uuid')) idx
UNION ALL SELECT 'text', pg_size_pretty(pg_table_size('i_text')), pg_size_pretty(pg_indexes_size('i_text'));
CREATE INDEX s_uuid_k ON s_uuid (team_id, id);
CREATE INDEX s_text_k ON s_text (team_id, id);
CREATE TABLE pick AS SELECT row_number() OVER () AS n, team_id, id FROM i_uuid;
ALTER TABLE pick ADD PRIMARY KEY (n);
ANALYZE;
