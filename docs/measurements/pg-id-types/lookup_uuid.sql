\set k random(1, 1000000)
SELECT i.number FROM pick p JOIN i_uuid i ON i.team_id = p.team_id AND i.id = p.id WHERE p.n = :k;
