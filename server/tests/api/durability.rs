//! D1: the `moth` binary is killed with SIGKILL while 16 clients create issues (the group commit
//! batching them), several times over. Every create it acknowledged must be in the database after
//! restart, and the database (its full-text index included) must pass its integrity check. `SQLite` only: the test suite's
//! `PostgreSQL` runs with `fsync = off`, and its durability is `PostgreSQL`'s own.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{header, StatusCode};
use sqlx::{Connection, Row};

use crate::helpers::spawn_binary;

const ROUNDS: usize = 3;
const CLIENTS: usize = 16;

fn cookie_of(response: &reqwest::Response) -> String {
    let set = response.headers().get(header::SET_COOKIE).expect("session cookie").to_str().expect("ascii");
    set.split(';').next().expect("name=value").to_owned()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one story: start, write, kill, repeat, check
async fn every_acknowledged_create_survives_sigkill() {
    if std::env::var("MOTH_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let database_url = format!("sqlite:{}", dir.path().join("moth.db").display());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");

    let (mut child, mut address) = spawn_binary(dir.path(), &[("MOTH_DATABASE_URL", &database_url)]).await;
    let signed_up = http
        .post(format!("{address}/api/sign_up"))
        .form(&[
            ("input[email]", "durable@example.org"),
            ("input[display_name]", "Durable"),
            ("input[password]", "correct horse battery staple"),
            ("input[team_name]", "Durable team"),
        ])
        .send()
        .await
        .expect("sign up");
    assert_eq!(signed_up.status(), StatusCode::OK);
    let cookie = cookie_of(&signed_up);
    let project: serde_json::Value = http
        .post(format!("{address}/api/create_project"))
        .header(header::COOKIE, &cookie)
        .form(&[("input[name]", "Durability"), ("input[key]", "DUR"), ("input[visibility]", "private")])
        .send()
        .await
        .expect("project")
        .json()
        .await
        .expect("json");
    let project_id = project["id"].as_str().expect("project id").to_owned();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    for round in 0..ROUNDS {
        if round > 0 {
            (child, address) = spawn_binary(dir.path(), &[("MOTH_DATABASE_URL", &database_url)]).await;
        }
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (http, address, cookie, project_id) =
                    (http.clone(), address.clone(), cookie.clone(), project_id.clone());
                let acknowledged = acknowledged.clone();
                tokio::spawn(async move {
                    for n in 0.. {
                        let title = format!("Round {round} client {client} issue {n}");
                        let sent = http
                            .post(format!("{address}/api/create_issue"))
                            .header(header::COOKIE, &cookie)
                            .form(&[("input[project_id]", project_id.as_str()), ("input[fields][title]", &title)])
                            .send()
                            .await;
                        let Ok(response) = sent else { break };
                        if response.status() != StatusCode::OK {
                            break;
                        }
                        let Ok(issue) = response.json::<serde_json::Value>().await else { break };
                        let id = issue["id"].as_str().expect("id").to_owned();
                        acknowledged.lock().expect("lock").push(id);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        for client in clients {
            client.await.expect("client");
        }
    }

    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() >= 50, "too few creates to prove anything: {}", acknowledged.len());
    let mut conn = sqlx::SqliteConnection::connect(&database_url).await.expect("open the database");
    let check: (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await.expect("check");
    assert_eq!(check.0, "ok");
    // The full-text index holds every issue, as its content table does (creates are indexed by the
    // group commit): FTS5's own check fails otherwise.
    sqlx::query("INSERT INTO issue_text (issue_text, rank) VALUES ('integrity-check', 1)")
        .execute(&mut conn)
        .await
        .expect("the full-text index matches the issues");
    let stored: HashSet<String> = sqlx::query("SELECT id FROM issues")
        .fetch_all(&mut conn)
        .await
        .expect("ids")
        .iter()
        .map(|row| row.get::<String, _>("id"))
        .collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged creates lost: {lost:?}", lost.len(), acknowledged.len());
    let numbers: (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT number) FROM issues").fetch_one(&mut conn).await.expect("n");
    assert_eq!(numbers.0, numbers.1, "issue numbers stay unique");
}
