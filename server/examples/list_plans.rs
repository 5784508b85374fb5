//! Prints the query plans (and a timing) of the issue list on a team with many issues.
//!
//!     cargo run --release -p server --example list_plans -- sqlite:/tmp/plans.db 1000000
//!     cargo run --release -p server --example list_plans -- postgres://moth@127.0.0.1:5432/plans 1000000
//!
//! It creates the schema, one team with a project holding COUNT issues (and a second team with as many,
//! so that the team filter has something to do), runs ANALYZE, then shows the plan of the list query
//! (`server::db::issues::explain_list`) for each kind of reader, in each order. The list's own timings
//! are the benchmark's (`examples/bench.rs`).
//! docs/performance.md records its output.

use std::time::Instant;

use sqlx::{any::AnyRow, AnyConnection, Connection, Executor, Row};

const TEAMS: [&str; 2] = ["00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"];
const USER: &str = "00000000-0000-0000-0000-000000000001";

fn project(team: usize) -> String {
    format!("00000000-0000-0000-0000-0000000001{team:02}")
}
fn status(team: usize) -> String {
    format!("00000000-0000-0000-0000-0000000002{team:02}")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).ok_or("usage: list_plans DATABASE_URL [COUNT]")?;
    let count: i64 = args.get(2).map_or(Ok(100_000), |c| c.parse())?;
    let db = server::db::Db::connect(url).await?;
    db.migrate().await?;
    let backend = db.backend();
    db.close().await;
    sqlx::any::install_default_drivers();
    let url =
        if url.starts_with("sqlite:") && !url.contains("mode=") { format!("{url}?mode=rwc") } else { url.clone() };
    let mut conn = AnyConnection::connect(&url).await?;

    let started = Instant::now();
    seed(&mut conn, count).await?;
    println!("seeded {count} issues per team in {:.1?} ({backend:?})", started.elapsed());

    let ids = (
        app::model::TeamId(TEAMS[0].parse()?),
        app::model::ProjectId(project(0).parse()?),
        app::model::UserId(USER.parse()?),
    );
    for reader in server::db::scope::explain::PlanReader::ALL {
        for sort in app::model::IssueSort::ALL {
            let mut explain = server::db::issues::explain_list(backend, reader, ids, *sort, "");
            let started = Instant::now();
            let rows = explain.query().fetch_all(&mut conn).await?;
            println!("\n-- plan: {reader:?}, sort by {sort:?} (planned in {:.1?})", started.elapsed());
            for row in rows {
                println!("{}", describe(&row));
            }
        }
    }
    Ok(())
}

fn describe(row: &AnyRow) -> String {
    (0..row.len())
        .filter_map(|i| {
            row.try_get::<String, _>(i).ok().or_else(|| row.try_get::<i64, _>(i).ok().map(|n| n.to_string()))
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

async fn seed(conn: &mut AnyConnection, count: i64) -> Result<(), sqlx::Error> {
    conn.execute(
        sqlx::query("INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, 'Plans', '$argon2id$x', 0)")
            .bind(USER)
            .bind("plans@example.org"),
    )
    .await?;
    for (n, team) in TEAMS.iter().enumerate() {
        conn.execute(sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, 'Plans', 0)").bind(*team))
            .await?;
        conn.execute(
            sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, 'OWNER', 0)")
                .bind(*team)
                .bind(USER),
        )
        .await?;
        conn.execute(
            sqlx::query(
                "INSERT INTO projects (id, team_id, key, name, description, visibility, published, archived, \
                 created_at, updated_at) VALUES ($1, $2, 'WEB', 'Web', '', 'public', 0, 0, 0, 0)",
            )
            .bind(project(n))
            .bind(*team),
        )
        .await?;
        conn.execute(
            sqlx::query(
                "INSERT INTO project_statuses (id, team_id, project_id, name, category, position) \
                 VALUES ($1, $2, $3, 'New', 'open', 0)",
            )
            .bind(status(n))
            .bind(*team)
            .bind(project(n)),
        )
        .await?;
        conn.execute(
            sqlx::query("INSERT INTO project_members (team_id, project_id, user_id, added_at) VALUES ($1, $2, $3, 0)")
                .bind(*team)
                .bind(project(n))
                .bind(USER),
        )
        .await?;
        // One statement generates the rows in the database itself (a recursive CTE both databases run).
        conn.execute(
            sqlx::query(
                "INSERT INTO issues (id, team_id, project_id, number, title, description, kind, severity, priority, \
                 status_id, reporter_id, visibility, env_browser, env_os, env_device, env_app_version, env_url, \
                 created_at, updated_at) \
                 WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1) \
                 SELECT CAST(100000000 + n AS TEXT) || '-0000-4000-8000-' || $5 || '0000000', \
                 $2, $3, n, 'Issue ' || CAST(n AS TEXT), '', 'bug', \
                 CASE n % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END, \
                 CASE n % 5 WHEN 0 THEN 'urgent' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low' ELSE 'none' END, \
                 $4, $6, CASE n % 3 WHEN 0 THEN 'internal' ELSE 'public' END, '', '', '', '', '', n, n FROM seq",
            )
            .bind(count)
            .bind(*team)
            .bind(project(n))
            .bind(status(n))
            .bind(format!("{n:04}"))
            .bind(USER),
        )
        .await?;
    }
    conn.execute("ANALYZE").await?;
    Ok(())
}
