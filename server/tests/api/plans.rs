//! Query plans that do not depend on luck: on a fresh database that was never analysed (as a new
//! installation starts), every issue-list statement, as it runs (wrapped into one JSON row by
//! `page_statement`) for each kind of reader, reads the issues through the index of its order, without a full scan and without
//! sorting in a temporary B-tree, and finds each listed issue's tags and assignees, like the look-ups
//! of the other finders (one statement for a whole page), through the indexes led by team and issue.
//! On `PostgreSQL`, which plans by statistics, the same walks are shown to exist (see
//! `postgres_plan_failures`).

use app::model::{IssueSort, ProjectId, TeamId, UserId};
use server::db::{
    issues::{explain_children, explain_list, explain_start_page},
    scope::{explain::PlanReader, Statement},
    Backend,
};
use sqlx::Row;

use crate::helpers::spawn_app;

/// The query plan of an `EXPLAIN QUERY PLAN` statement, as `SQLite` prints it.
async fn sqlite_plan(conn: &mut sqlx::AnyConnection, mut explain: Statement) -> Vec<String> {
    let rows = explain.query().fetch_all(conn).await.expect("explain");
    rows.iter().map(|r| r.try_get::<String, _>("detail").expect("detail")).collect()
}

/// Made-up ids of a team, its project and a user.
fn ids() -> (TeamId, ProjectId, UserId) {
    (TeamId(uuid::Uuid::new_v4()), ProjectId(uuid::Uuid::new_v4()), UserId(uuid::Uuid::new_v4()))
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
        let failures = postgres_plan_failures(&mut conn).await;
        assert!(failures.is_empty(), "PostgreSQL plans:\n{}", failures.join("\n"));
        return;
    }
    let failures = plan_failures(&mut conn).await;
    assert!(failures.is_empty(), "plans on a fresh database:\n{}", failures.join("\n"));
}

/// Where a list statement (for each kind of reader) or a per-page look-up does not walk the index
/// it should.
async fn plan_failures(conn: &mut sqlx::AnyConnection) -> Vec<String> {
    let mut failures = Vec::new();
    for reader in PlanReader::ALL {
        for sort in IssueSort::ALL {
            let explain = explain_list(Backend::Sqlite, reader, ids(), *sort, "");
            let text = sqlite_plan(conn, explain).await.join(" / ");
            let index = match sort {
                IssueSort::Number => "issues_by_project_number",
                IssueSort::Updated => "issues_by_project_updated",
                IssueSort::Priority => "issues_by_project_priority",
                IssueSort::Severity => "issues_by_project_severity",
            };
            if !text.contains(&format!("SEARCH i USING INDEX {index}"))
                || text.contains("TEMP B-TREE")
                || text.contains("SCAN i")
                || !finds_children_by_issue(&text)
            {
                failures.push(format!("{reader:?}, {sort:?}: {text}"));
            }
        }
        // A text search starts at the full-text index's matches of the reader's team (FTS5 shows a
        // range of its rowids as `><` after the match's `M`) and finds each issue by its search key:
        // it never walks the project (its few matches are then sorted).
        for sort in IssueSort::ALL {
            let explain = explain_list(Backend::Sqlite, reader, ids(), *sort, "login fails");
            let text = sqlite_plan(conn, explain).await.join(" / ");
            if !text.contains("SCAN issue_text VIRTUAL TABLE INDEX")
                || !text.contains("><")
                || !finds_children_by_issue(&text)
                || !text.contains("SEARCH i USING INDEX issues_by_search_key (search_key=?)")
                || text.contains("SCAN i ")
                || text.ends_with("SCAN i")
            {
                failures.push(format!("text search, {reader:?}, {sort:?}: {text}"));
            }
        }
    }
    let explain = explain_children(Backend::Sqlite, 3);
    let sql = explain.sql().to_owned();
    let text = sqlite_plan(conn, explain).await.join(" / ");
    if !finds_children_by_issue(&text) || text.contains("TEMP B-TREE") {
        failures.push(format!("{sql}: {text}"));
    }
    failures
}

/// `PostgreSQL` chooses between an index walk and a scan by statistics, which a test database does
/// not have (at scale the million-issue benchmark shows its choice, docs/performance.md). What a test
/// can prove is that the walk exists: with sequential scans and sorts made to look dear
/// (`enable_seqscan`, `enable_sort` off; neither is forbidden by them), every list statement, for
/// each kind of reader, still reads the issues through the index of its order without sorting, and
/// finds tags and assignees through the indexes led by team and issue; a text search reads the
/// issues through an index too (on an empty table the order's index with the match as a filter;
/// which of it and the trigram indexes wins at scale is the benchmark's to show).
async fn postgres_plan_failures(conn: &mut sqlx::AnyConnection) -> Vec<String> {
    for setting in ["SET enable_seqscan = off", "SET enable_sort = off"] {
        sqlx::query(setting).execute(&mut *conn).await.expect("set");
    }
    let mut failures = Vec::new();
    for reader in PlanReader::ALL {
        for sort in IssueSort::ALL {
            let explain = explain_list(Backend::Postgres, reader, ids(), *sort, "");
            let text = postgres_plan(conn, explain).await;
            let index = match sort {
                IssueSort::Number => "issues_by_project_number",
                IssueSort::Updated => "issues_by_project_updated",
                IssueSort::Priority => "issues_by_project_priority",
                IssueSort::Severity => "issues_by_project_severity",
            };
            if !text.contains(&format!("Index Scan using {index} on issues i"))
                || text.contains("Sort")
                || text.contains("Seq Scan")
                || !text.contains("issue_tags_by_issue")
                || !text.contains("issue_assignees_by_issue")
            {
                failures.push(format!("{reader:?}, {sort:?}: {text}"));
            }
        }
        let explain = explain_list(Backend::Postgres, reader, ids(), IssueSort::Number, "login fails");
        let text = postgres_plan(conn, explain).await;
        if !text.contains("Index Scan using issues_") || text.contains("Seq Scan on issues") {
            failures.push(format!("text search, {reader:?}: {text}"));
        }
    }
    failures
}

/// The plan of a `PostgreSQL` `EXPLAIN` statement, its lines joined.
async fn postgres_plan(conn: &mut sqlx::AnyConnection, mut explain: Statement) -> String {
    let rows = explain.query().fetch_all(conn).await.expect("explain");
    rows.iter().map(|r| r.try_get::<String, _>(0).expect("plan line")).collect::<Vec<_>>().join(" / ")
}

/// Whether a page's plan reads tags and assignees through the indexes led by team and issue.
fn finds_children_by_issue(plan: &str) -> bool {
    plan.contains("SEARCH t USING COVERING INDEX issue_tags_by_issue")
        && plan.contains("SEARCH a USING COVERING INDEX issue_assignees_by_issue")
}

#[tokio::test]
async fn list_statements_keep_walking_their_index_once_statistics_exist() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite:") {
        return; // PostgreSQL: see `postgres_plan_failures`.
    }
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    for n in 0..120 {
        let form = vec![
            ("input[project_id]".to_owned(), project.clone()),
            ("input[fields][title]".to_owned(), format!("Issue {n}")),
            ("input[fields][tags][0]".to_owned(), format!("tag{}", n % 7)),
            ("input[fields][visibility]".to_owned(), if n % 2 == 0 { "public" } else { "internal" }.to_owned()),
        ];
        assert_eq!(app.call("create_issue", &form, Some(&owner.cookie)).await.status(), reqwest::StatusCode::OK);
    }
    let mut conn = app.db().await;
    sqlx::query("ANALYZE").execute(&mut conn).await.expect("analyze");
    let failures = plan_failures(&mut conn).await;
    assert!(failures.is_empty(), "plans after ANALYZE of data made through the app:\n{}", failures.join("\n"));
}

/// FTS5 keeps the text index in ordinary tables and runs its own statements on them; the range
/// delete that ends each merge of its segments must seek by rowid. With statistics of those tables
/// taken while they were tiny, as a new installation's first analysis took them, `SQLite` planned it
/// as a scan of the whole index, on every merge (at 400,000 issues 2 GB read per merge step, the
/// writer held for 0.6 s). The server analyses its own tables and never the index's.
#[tokio::test]
async fn the_full_text_index_gets_no_statistics_and_its_merges_seek() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite:") {
        return; // FTS5 is SQLite's.
    }
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    for n in 0..20 {
        let form = vec![
            ("input[project_id]".to_owned(), project.clone()),
            ("input[fields][title]".to_owned(), format!("Crash number {n}")),
        ];
        assert_eq!(app.call("create_issue", &form, Some(&owner.cookie)).await.status(), reqwest::StatusCode::OK);
    }
    // As the server left it at start, and after the refresh its sweeper runs every ten minutes.
    check_statistics(&app, false).await;
    let db = server::db::Db::connect(&app.database_url).await.expect("connect");
    db.refresh_statistics().await.expect("refresh");
    check_statistics(&app, true).await;
}

async fn check_statistics(app: &crate::helpers::TestApp, refreshed: bool) {
    let mut conn = app.db().await;
    let stat1: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT tbl FROM sqlite_stat1").fetch_all(&mut conn).await.unwrap_or_default();
    let tables: Vec<&str> = stat1.iter().map(|(t,)| t.as_str()).collect();
    assert!(!tables.iter().any(|t| t.starts_with("issue_text")), "statistics of the text index: {tables:?}");
    if refreshed {
        assert!(tables.contains(&"issues"), "the issues are analysed: {tables:?}");
    }
    let plan: Vec<String> = sqlx::query("EXPLAIN QUERY PLAN DELETE FROM issue_text_data WHERE id >= $1 AND id <= $2")
        .bind(1_i64)
        .bind(2_i64)
        .fetch_all(&mut conn)
        .await
        .expect("explain")
        .iter()
        .map(|r| r.try_get::<String, _>("detail").expect("detail"))
        .collect();
    assert!(
        plan.iter().any(|p| p.starts_with("SEARCH issue_text_data USING INTEGER PRIMARY KEY")),
        "FTS5's segment delete: {plan:?}"
    );
}

/// The start page's list of the reader's own reports walks the reader's index in the list's order
/// and stops at its limit, for each kind of reader: on a fresh database, and with the statistics a
/// million issues over a thousand teams left (one project per team, 501 issues per reporter), with
/// which `SQLite` read the team's projects first and sorted all of a reporter's 9,920 issues on every
/// request (docs/performance.md, "Search at a million issues").
#[tokio::test]
async fn the_start_page_walks_the_readers_own_issues_in_order() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    if !app.database_url.starts_with("sqlite:") {
        // PostgreSQL plans by the statistics autovacuum keeps (the benchmark shows its choice at
        // scale): what a test can show is that the walk exists, an order the index gives whole.
        for setting in ["SET enable_seqscan = off", "SET enable_sort = off"] {
            sqlx::query(setting).execute(&mut conn).await.expect("set");
        }
        let mut failures = Vec::new();
        for reader in PlanReader::ALL {
            let text = postgres_plan(&mut conn, explain_start_page(Backend::Postgres, reader, ids(), true)).await;
            if !text.contains("Index Scan using issues_by_reporter on issues i") || text.contains("Sort") {
                failures.push(format!("{reader:?}: {text}"));
            }
        }
        assert!(failures.is_empty(), "the start page's plans on PostgreSQL:\n{}", failures.join("\n"));
        return;
    }
    let mut failures = start_page_plan_failures(&mut conn, "fresh").await;
    sqlx::query("ANALYZE").execute(&mut conn).await.expect("analyze");
    for (table, index, stat) in [
        ("projects", "projects_by_team", "1000 1 1 1"),
        ("issues", "issues_by_reporter", "953709 501 501 1"),
        ("issues", "issues_by_project_updated", "953709 501 501 1 1"),
        ("issues", "sqlite_autoindex_issues_3", "953709 501 1"),
    ] {
        sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = $1 AND idx = $2")
            .bind(table)
            .bind(index)
            .execute(&mut conn)
            .await
            .expect("delete");
        sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)")
            .bind(table)
            .bind(index)
            .bind(stat)
            .execute(&mut conn)
            .await
            .expect("insert");
    }
    // Reloads the statistics into this connection's planner.
    sqlx::query("ANALYZE sqlite_schema").execute(&mut conn).await.expect("reload");
    failures.extend(start_page_plan_failures(&mut conn, "a million issues' statistics").await);
    assert!(failures.is_empty(), "the start page's plans:\n{}", failures.join("\n"));
}

async fn start_page_plan_failures(conn: &mut sqlx::AnyConnection, statistics: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for reader in PlanReader::ALL {
        let plan = sqlite_plan(conn, explain_start_page(Backend::Sqlite, reader, ids(), true)).await;
        let text = plan.join(" / ");
        if !plan.first().is_some_and(|first| first.starts_with("SEARCH i USING INDEX issues_by_reporter"))
            || text.contains("USE TEMP B-TREE FOR ORDER BY")
        {
            failures.push(format!("{statistics}, {reader:?}: {text}"));
        }
    }
    failures
}

/// `PostgreSQL`'s GIN indexes keep new entries in a pending list that every search reads whole
/// until it is merged; at the default 4 MB a search read up to 320 pages of them (docs/performance.md,
/// "`PostgreSQL` at a million issues"). Every GIN index keeps its list short.
#[tokio::test]
async fn every_gin_index_keeps_a_short_pending_list() {
    let app = spawn_app().await;
    if app.database_url.starts_with("sqlite:") {
        return; // SQLite has no GIN indexes; its full-text index merges its segments as it goes.
    }
    let mut conn = app.db().await;
    let indexes: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT CAST(c.relname AS TEXT), array_to_string(c.reloptions, ',') FROM pg_class c JOIN pg_am am ON am.oid = c.relam \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE am.amname = 'gin' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut conn)
    .await
    .expect("indexes");
    assert!(indexes.len() >= 4, "the trigram indexes of issues: {indexes:?}");
    let long: Vec<_> =
        indexes.iter().filter(|(_, options)| options.as_deref() != Some("gin_pending_list_limit=64")).collect();
    assert!(long.is_empty(), "GIN indexes with the default 4 MB pending list: {long:?}");
}

/// Every tag added and every comment posted copies its issue's searchable text again (the view
/// `issue_search_text`, read by the triggers of migrations 0027/0028): the issue's tags and
/// comments are found through the indexes led by team and issue, never by reading other issues'
/// rows (it read every team's comments on `PostgreSQL`, and skipped through the index once per team
/// on `SQLite`).
#[tokio::test]
async fn copying_an_issues_searchable_text_reads_only_its_own_rows() {
    let app = spawn_app().await;
    let mut conn = app.db().await;
    let query = "SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = 'x'";
    if app.database_url.starts_with("sqlite:") {
        sqlx::query("ANALYZE").execute(&mut conn).await.expect("analyze");
        let mut explain = Statement::new("EXPLAIN QUERY PLAN ");
        explain.push(query);
        let plan = sqlite_plan(&mut conn, explain).await;
        let text = plan.join(" / ");
        // How many of the plan's lines find `table`'s rows through `index` by team and issue.
        let by_issue = |table: &str, index: &str| {
            let wanted = format!("SEARCH {table} USING COVERING INDEX {index} (team_id=? AND issue_id=?");
            let wanted_too = format!("SEARCH {table} USING INDEX {index} (team_id=? AND issue_id=?");
            plan.iter().filter(|line| line.starts_with(&wanted) || line.starts_with(&wanted_too)).count()
        };
        // Public and internal comments, then the tags.
        assert!(
            by_issue("c", "comments_by_issue") == 2
                && by_issue("t", "issue_tags_by_issue") == 1
                && !text.contains("SCAN"),
            "{text}"
        );
    } else {
        sqlx::query("SET enable_seqscan = off").execute(&mut conn).await.expect("set");
        let mut explain = Statement::new("EXPLAIN ");
        explain.push(query);
        let text = postgres_plan(&mut conn, explain).await;
        let conditions = text.matches("Index Cond: ((team_id = i.team_id) AND (issue_id = i.id))").count();
        assert!(conditions == 3 && !text.contains("Seq Scan"), "{text}");
    }
}
