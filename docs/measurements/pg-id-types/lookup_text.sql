\set k random(1, 1000000)
SELECT i.number FROM pick p JOIN i_text i ON i.team_id = p.team_id::text AND i.id = p.id::text WHERE p.n = :k;
