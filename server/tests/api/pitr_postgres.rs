//! `PostgreSQL` point-in-time recovery with `pgBackRest`, as README "`PostgreSQL`: continuous archiving"
//! sets it up (`deploy/pgbackrest/`): a private `PostgreSQL` cluster archiving every WAL segment into an
//! encrypted `pgBackRest` repository, a running Moth writing to it, a full backup, then a restore to a
//! moment: the issue filed before it is back, the one filed after is not, and the repository holds
//! nothing in the clear. Runs in the `PostgreSQL` pass of `scripts/test` (which installs `pgBackRest`);
//! the `SQLite` pass says it is skipped.

use std::{path::Path, process::Command, time::Duration};

use reqwest::StatusCode;
use sqlx::Connection;

use crate::helpers::{files_under, launch, test_config, TestApp};

const CANARY: &str = "canary-pitr-postgres";

fn as_postgres(command: &str) -> String {
    let output = Command::new("su").args(["postgres", "-c", command]).output().expect("su postgres");
    assert!(
        output.status.success(),
        "{command}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A new cluster in `root/data` with deploy/pgbackrest's settings, started, its stanza created;
/// answers the `pgbackrest` command line for it.
fn start_archiving_cluster(root: &Path, port: u16, config: &str) -> String {
    Command::new("chown").args(["-R", "postgres"]).arg(root).status().expect("chown");
    let data = root.join("data").display().to_string();
    as_postgres(&format!("{BIN}/initdb -D {data} -A trust -U postgres >/dev/null"));
    let settings =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/pgbackrest/postgresql.conf"))
            .expect("deploy/pgbackrest/postgresql.conf")
            .replace("--config=/etc/pgbackrest/pgbackrest.conf", &format!("--config={config}"));
    let extra = format!(
        "{settings}\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n",
        root.display()
    );
    let settings_file = root.join("data/postgresql.conf");
    let mut text = std::fs::read_to_string(&settings_file).expect("conf");
    text.push_str(&extra);
    std::fs::write(&settings_file, text).expect("conf");
    as_postgres(&format!("{BIN}/pg_ctl -D {data} -l {}/pg.log -w start >/dev/null", root.display()));
    let stanza = format!("pgbackrest --config={config} --stanza=moth");
    as_postgres(&format!("{stanza} stanza-create"));
    stanza
}

/// The cluster's `postgresql.conf` additions and `pgBackRest`'s configuration, as deploy/pgbackrest has them.
fn configure(root: &Path, port: u16) -> String {
    let config = root.join("pgbackrest.conf");
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/pgbackrest/pgbackrest.conf"))
            .expect("deploy/pgbackrest/pgbackrest.conf");
    let text = template
        .replace("/var/lib/pgbackrest", &root.join("repo").display().to_string())
        .replace("/var/log/pgbackrest", &root.join("log").display().to_string())
        .replace("/var/lib/postgresql/15/main", &root.join("data").display().to_string())
        .replace("CHANGE-ME-a-long-random-passphrase", "a long test passphrase for the repository")
        .replace("pg1-port=5432", &format!("pg1-port={port}"))
        + &format!("lock-path={}\nspool-path={}\n", root.join("lock").display(), root.join("spool").display())
        + &format!("pg1-socket-path={}\n", root.display());
    std::fs::write(&config, text).expect("write config");
    config.display().to_string()
}

async fn file_issue(app: &TestApp, cookie: &str, project: &str, title: &str) {
    let form = vec![
        ("input[project_id]".to_owned(), project.to_owned()),
        ("input[fields][title]".to_owned(), title.to_owned()),
        ("input[fields][visibility]".to_owned(), "internal".to_owned()),
    ];
    assert_eq!(app.call("create_issue", &form, Some(cookie)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn postgres_restores_to_a_moment_from_an_encrypted_pgbackrest_repository() {
    if std::env::var("MOTH_TEST_POSTGRES_URL").map_or(true, |url| url.is_empty()) {
        eprintln!("skipped in the SQLite pass: this test runs in the PostgreSQL pass of scripts/test");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    // The postgres user works in here.
    Command::new("chmod").args(["755"]).arg(dir.path()).status().expect("chmod");
    let root = dir.path().join("pitr");
    std::fs::create_dir_all(&root).expect("root");
    let (port, restored_port) = (free_port(), free_port());
    let config = configure(&root, port);
    let _clusters = Clusters(vec![root.join("data"), root.join("restored")]);
    let stanza = start_archiving_cluster(&root, port, &config);
    let (bin, data) = (BIN, root.join("data").display().to_string());

    // Moth on it; then a full backup, as the nightly job would take it.
    let mut moth_config = test_config(dir.path()).await;
    moth_config.database_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = launch(moth_config, async move {
        let _ = stopped.await;
    })
    .await;
    let (owner, _) = app.owner("pitr").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    let before_any_backup = utc_now(&mut conn).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    as_postgres(&format!("{stanza} backup --type=full"));
    file_issue(&app, &owner.cookie, &project, &format!("before the moment {CANARY}")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let moment = utc_now(&mut conn).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    file_issue(&app, &owner.cookie, &project, "after the moment").await;
    // Close the segment so that it is archived, and wait until it is.
    let segment: String =
        sqlx::query_scalar("SELECT pg_walfile_name(pg_switch_wal())").fetch_one(&mut conn).await.expect("switch");
    for _ in 0..100 {
        let archived: Option<String> =
            sqlx::query_scalar("SELECT last_archived_wal FROM pg_stat_archiver").fetch_one(&mut conn).await.expect("a");
        if archived.is_some_and(|a| a >= segment) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(conn);
    let _ = stop.send(());
    running.await.expect("joined").expect("stopped");
    as_postgres(&format!("{bin}/pg_ctl -D {data} -w stop >/dev/null"));

    // Nothing in the repository is readable.
    for file in files_under(&root.join("repo")) {
        let bytes = std::fs::read(&file).expect("read");
        assert!(!bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()), "{} is in the clear", file.display());
    }
    as_postgres(&format!("{stanza} verify"));

    // Moth restores the moment through pgBackRest into a new data directory, as the repository's
    // owner; it refuses a moment before the oldest backup and a directory that holds anything.
    let moth = Moth::installed_in(&root, &config);
    let refused = moth.restore(&before_any_backup, &root.join("too-early"));
    assert!(refused.contains("before the earliest moment pgBackRest can restore"), "{refused}");
    assert!(!root.join("too-early").exists(), "nothing is made for a refused restore");
    let occupied = root.join("occupied");
    std::fs::create_dir_all(&occupied).expect("occupied");
    std::fs::write(occupied.join("PG_VERSION"), "15").expect("a file");
    let refused = moth.restore(&moment, &occupied);
    assert!(refused.contains("is not empty"), "{refused}");
    assert_eq!(std::fs::read_to_string(occupied.join("PG_VERSION")).expect("kept"), "15");
    let restored = root.join("restored");
    let said = moth.restore(&moment, &restored);
    assert!(said.contains("now recovers to"), "{said}");
    as_postgres(&format!(
        "{bin}/pg_ctl -D {} -o '-p {restored_port}' -l {}/pg2.log -w start >/dev/null",
        restored.display(),
        root.display()
    ));
    let url = format!("postgres://postgres@127.0.0.1:{restored_port}/postgres");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect to the restored cluster");
    wait_for_promotion(&mut conn).await;
    let titles: Vec<String> =
        sqlx::query_scalar("SELECT title FROM issues ORDER BY number").fetch_all(&mut conn).await.expect("titles");
    drop(conn);
    as_postgres(&format!("{bin}/pg_ctl -D {} -w stop >/dev/null", restored.display()));
    assert_eq!(titles, [format!("before the moment {CANARY}")]);
}

/// Now, as RFC 3339 in UTC by the database's clock (the clock of the WAL's commit times).
async fn utc_now(conn: &mut sqlx::PgConnection) -> String {
    sqlx::query_scalar(r#"SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#)
        .fetch_one(conn)
        .await
        .expect("now")
}

/// The `moth` binary where the postgres user can run it, configured for the test's repository.
struct Moth {
    program: String,
    config: String,
}

impl Moth {
    fn installed_in(root: &Path, config: &str) -> Self {
        let program = root.join("moth");
        std::fs::copy(env!("CARGO_BIN_EXE_moth"), &program).expect("copy moth");
        Command::new("chmod").arg("755").arg(&program).status().expect("chmod");
        Moth { program: program.display().to_string(), config: config.to_owned() }
    }

    /// `moth backup restore --at MOMENT --pg-data DIR` as postgres: what it printed, either way.
    fn restore(&self, moment: &str, data_dir: &Path) -> String {
        let command = format!(
            "cd /tmp && MOTH_PGBACKREST_STANZA=moth MOTH_PGBACKREST_CONFIG={} {} backup restore --at {moment} --pg-data {}",
            self.config,
            self.program,
            data_dir.display()
        );
        let output = Command::new("su").args(["postgres", "-c", &command]).output().expect("su postgres");
        let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // Success and refusal are told apart by what was said; the exit code must agree.
        assert_eq!(output.status.success(), said.contains("now recovers to"), "{said}");
        said
    }
}

/// Stops the test's clusters however the test ends.
struct Clusters(Vec<std::path::PathBuf>);

impl Drop for Clusters {
    fn drop(&mut self) {
        for data in &self.0 {
            if data.join("postmaster.pid").exists() {
                let stop = format!("/usr/lib/postgresql/15/bin/pg_ctl -D {} -m immediate stop", data.display());
                let _ = Command::new("su").args(["postgres", "-c", &stop]).output();
            }
        }
    }
}

/// Waits until a restored cluster has promoted. A hot standby answers read-only queries from its
/// consistent point on, before recovery has replayed up to the moment.
async fn wait_for_promotion(conn: &mut sqlx::PgConnection) {
    for _ in 0..200 {
        let recovering: bool =
            sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut *conn).await.expect("recovery state");
        if !recovering {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the restored cluster did not promote within 20 s");
}
