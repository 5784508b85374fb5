\set k random(0, 99)
SELECT i.id, i.number, s.id FROM i_uuid i JOIN s_uuid s ON s.team_id = i.team_id AND s.id = i.status_id WHERE i.team_id = ('00000000-0000-4000-8000-' || lpad(:k::text, 12, '0'))::uuid AND i.project_id = ('00000000-0000-4000-9000-' || lpad(:k::text, 12, '0'))::uuid ORDER BY i.number LIMIT 50;
