//! Query plans that do not depend on luck: on a fresh database that was never analysed (as a new
//! installation starts), every issue-list statement reads the issues through the index of its order,
//! without a full scan and without sorting in a temporary B-tree, and the per-page look-ups of tags and
//! assignees (one statement each for a whole page) use the indexes led by the team and the issue.

use app::model::IssueSort;
use server::db::issues::Child;
use sqlx::Row;

use crate::helpers::spawn_app;

/// The query plan of `sql` with every parameter bound to a plausible value (`sort` decides the cursor).
async fn sqlite_plan(conn: &mut sqlx::AnyConnection, sql: &str, sort: Option<IssueSort>) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let uuid = "00000000-0000-4000-8000-000000000000";
    let mut query = sqlx::query(&explain);
    match sort {
        Some(sort) => {
            query = query.bind(uuid).bind(0_i64).bind(uuid).bind(1_i64).bind(uuid).bind(0_i64).bind(51_i64);
            for _ in 8..=17 {
                query = query.bind("");
            }
            if sort != IssueSort::Number {
                query = query.bind(server::db::issues::first_key(sort));
            }
        }
        None => query = query.bind(uuid).bind(uuid).bind(uuid).bind(uuid),
    }
    let rows = query.fetch_all(conn).await.expect("explain");
    rows.iter().map(|r| r.try_get::<String, _>("detail").expect("detail")).collect()
}

#[tokio::test]
async fn list_statements_walk_an_index_on_a_fresh_unanalysed_database() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    if !app.database_url.starts_with("sqlite:") {
        // PostgreSQL keeps its statistics itself: autovacuum analyses tables as they change.
        let on: (String,) = sqlx::query_as("SELECT setting FROM pg_settings WHERE name = 'autovacuum'")
            .fetch_one(&mut conn)
            .await
            .expect("setting");
        assert_eq!(on.0, "on", "autovacuum keeps PostgreSQL's statistics");
        return;
    }
    let analysed: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        .fetch_one(&mut conn)
        .await
        .expect("stat");
    let mut failures = Vec::new();
    for sort in IssueSort::ALL {
        let plan = sqlite_plan(&mut conn, server::db::issues::list_sql(*sort), Some(*sort)).await;
        let text = plan.join(" / ");
        let index = match sort {
            IssueSort::Number => "issues_by_project_number",
            IssueSort::Updated => "issues_by_project_updated",
            IssueSort::Priority => "issues_by_project_priority",
            IssueSort::Severity => "issues_by_project_severity",
        };
        if !text.contains(&format!("SEARCH i USING INDEX {index}"))
            || text.contains("TEMP B-TREE")
            || text.contains("SCAN i")
        {
            failures.push(format!("{sort:?}: {text}"));
        }
    }
    for (child, index) in [(Child::Tags, "issue_tags_by_issue"), (Child::Assignees, "issue_assignees_by_issue")] {
        let sql = server::db::issues::children_sql(child, 3);
        let text = sqlite_plan(&mut conn, &sql, None).await.join(" / ");
        if !text.contains(index) || text.contains("TEMP B-TREE") {
            failures.push(format!("{sql}: {text}"));
        }
    }
    assert!(
        failures.is_empty(),
        "plans that depend on statistics (analysed: {}):\n{}",
        analysed.0,
        failures.join("\n")
    );
}
