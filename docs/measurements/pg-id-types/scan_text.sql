\set k random(0, 99)
SELECT i.id, i.number, s.id FROM i_text i JOIN s_text s ON s.team_id = i.team_id AND s.id = i.status_id WHERE i.team_id = ('00000000-0000-4000-8000-' || lpad(:k::text, 12, '0')) AND i.project_id = ('00000000-0000-4000-9000-' || lpad(:k::text, 12, '0')) ORDER BY i.number LIMIT 50;
