//! K5: Schemathesis, driven by the REST API's published `OpenAPI` document, fuzzes every operation of a
//! running Moth (on `SQLite`, or `PostgreSQL` when the suite runs there) with a real token: examples,
//! coverage cases, generated cases, and stateful sequences that follow the document's links (a new
//! issue to its reads, edits, comments and deletion). The run must find no server error, no
//! undocumented status, no answer that breaks the document, no accepted request that breaks it, and
//! no operation that ignores the token. `scripts/test` installs the pinned Schemathesis beside the
//! Python the suite already uses (`MOTH_TEST_PYTHON`).

use crate::helpers::{input, spawn_app};

#[tokio::test]
async fn schemathesis_finds_nothing_the_openapi_document_does_not_allow() {
    let python = std::env::var("MOTH_TEST_PYTHON").expect("the fuzz test needs Schemathesis: run scripts/test");
    let schemathesis = std::path::Path::new(&python).with_file_name("schemathesis");
    assert!(schemathesis.exists(), "no Schemathesis beside {python}: run scripts/test");
    let app = spawn_app().await;
    let (owner, _) = app.owner("fuzz").await;
    let form = input(&[("name", "Fuzzed"), ("key", "FUZ"), ("visibility", "public")]);
    assert!(app.call("create_project", &form, Some(&owner.cookie)).await.status().is_success());
    let mut form = input(&[("name", "schemathesis")]);
    for (i, scope) in ["read", "write", "admin"].iter().enumerate() {
        form.push((format!("input[scopes][{i}]"), (*scope).to_owned()));
    }
    let made: serde_json::Value =
        app.call("create_access_token", &form, Some(&owner.cookie)).await.json().await.expect("json");
    let token = made["secret"].as_str().expect("secret").to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(schemathesis)
            .current_dir(dir.path())
            .args(["run", &format!("{address}/api/v1/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            // Every check but "schema-valid data must be accepted": garde's rules (a title that is
            // not blank once trimmed, no control characters) say more than JSON Schema can, and
            // the document answers such a request with its 422.
            .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
            // One worker: CPython 3.11's parser, which Hypothesis calls, is not safe across threads.
            .args(["--max-examples", "25", "--workers", "1", "--seed", "20261206", "--continue-on-failure"])
            .args(["--no-color"])
            .output()
            .expect("Schemathesis runs")
    })
    .await
    .expect("joined");
    let text = String::from_utf8_lossy(&output.stdout);
    let summary = text.lines().filter(|l| l.contains("generated") || l.contains("Tested:")).collect::<Vec<_>>();
    println!("schemathesis: {}", summary.join(" | "));
    assert!(
        output.status.success(),
        "Schemathesis found problems:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figure = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().rsplit('/').next().unwrap_or("").to_owned())
    };
    let (selected, tested) = (figure("Selected:"), figure("Tested:"));
    assert!(
        selected.is_some() && selected == tested,
        "every operation was tested ({tested:?} of {selected:?}):\n{text}"
    );
}
