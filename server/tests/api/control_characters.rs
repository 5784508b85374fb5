//! One rule for control characters in every text field (R3, R6): NUL and the other control characters
//! are refused with a field error (422) on both databases, never a 500; multi-line text keeps its line
//! breaks and tabs; and the database itself refuses what the rules refuse.

use reqwest::StatusCode;

use crate::helpers::{error_body, fresh_email, input, spawn_app, TestApp, PASSWORD};

/// Control characters no text field accepts, each in the middle of a value (trimming cannot drop it).
const REFUSED: [&str; 6] = ["\0hello", "he\0llo", "he\u{1}llo", "he\u{1b}[31mllo", "he\u{7f}llo", "he\u{85}llo"];

/// Calls `endpoint` with `form` plus `field` set to each refused value; every call must answer 422
/// naming `error_field`.
async fn refused_everywhere(
    app: &TestApp,
    cookie: Option<&str>,
    endpoint: &str,
    form: &[(String, String)],
    field: &str,
    error_field: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    for value in REFUSED {
        let mut form: Vec<(String, String)> = form.iter().filter(|(k, _)| k != field).cloned().collect();
        // Emails need their shape around the character to reach the control-character check.
        let value = if field.ends_with("[email]") { format!("{value}@example.org") } else { value.to_owned() };
        form.push((field.to_owned(), value.clone()));
        let response = app.call(endpoint, &form, cookie).await;
        let status = response.status();
        if status != StatusCode::UNPROCESSABLE_ENTITY {
            let body = response.text().await.unwrap_or_default();
            failures.push(format!("{endpoint} {field}={value:?}: {status} {body}"));
            continue;
        }
        let body = error_body(response).await;
        let named = body["fields"].as_array().is_some_and(|f| f.iter().any(|e| e["field"] == error_field));
        if !named {
            failures.push(format!("{endpoint} {field}={value:?}: no error for {error_field}: {body}"));
        }
    }
    failures
}

type Case<'a> = (Option<&'a str>, &'a str, &'a Vec<(String, String)>, &'a str, &'a str);

fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[tokio::test]
async fn every_text_field_refuses_control_characters_with_a_field_error() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let owner_cookie = Some(owner.cookie.as_str());
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let comment = app.comment(&owner.cookie, &issue.id, "Hello", false).await;
    let detail: serde_json::Value = app
        .call("get_project", &input(&[("key", issue.reference.split_once('-').expect("ref").0)]), owner_cookie)
        .await
        .json()
        .await
        .expect("json");
    let status = detail["statuses"][0]["id"].as_str().expect("status").to_owned();
    let (_, token) = app.invite(&owner.cookie, &fresh_email("invitee"), "NORMAL").await;
    let email = fresh_email("new");

    let sign_up = form(&[
        ("input[email]", &email),
        ("input[display_name]", "Ann"),
        ("input[password]", PASSWORD),
        ("input[team_name]", "Team"),
    ]);
    let sign_in = form(&[("input[email]", &email), ("input[password]", PASSWORD)]);
    let invite = form(&[("input[role]", "NORMAL")]);
    let invited = form(&[("input[token]", &token), ("input[display_name]", "Ann"), ("input[password]", PASSWORD)]);
    let new_project = form(&[("input[name]", "Name"), ("input[key]", "CTRL"), ("input[visibility]", "private")]);
    let update_project =
        form(&[("input[project_id]", &project), ("input[name]", "Name"), ("input[visibility]", "public")]);
    let add_status = form(&[("input[project_id]", &project), ("input[name]", "Blocked"), ("input[category]", "open")]);
    let edit_status = form(&[("input[status_id]", &status), ("input[name]", "Triage"), ("input[position]", "0")]);
    let new_issue = form(&[("input[project_id]", &project), ("input[fields][title]", "Title")]);
    let update_issue =
        form(&[("input[issue_id]", &issue.id), ("input[status_id]", &status), ("input[fields][title]", "Title")]);
    let new_comment = form(&[("input[issue_id]", &issue.id), ("input[body]", "Body")]);
    let edit_comment = form(&[("input[comment_id]", &comment), ("input[body]", "Body")]);
    let list = form(&[("input[project_id]", &project)]);

    // (session, endpoint, a valid form, the field to spoil, the field the error must name)
    let cases: Vec<Case> = vec![
        (None, "sign_up", &sign_up, "input[email]", "email"),
        (None, "sign_up", &sign_up, "input[display_name]", "display_name"),
        (None, "sign_up", &sign_up, "input[team_name]", "team_name"),
        (None, "sign_in", &sign_in, "input[email]", "email"),
        (owner_cookie, "invite", &invite, "input[email]", "email"),
        (None, "sign_up_with_invitation", &invited, "input[display_name]", "display_name"),
        (owner_cookie, "create_project", &new_project, "input[name]", "name"),
        (owner_cookie, "create_project", &new_project, "input[description]", "description"),
        (owner_cookie, "update_project", &update_project, "input[name]", "name"),
        (owner_cookie, "update_project", &update_project, "input[description]", "description"),
        (owner_cookie, "add_status", &add_status, "input[name]", "name"),
        (owner_cookie, "edit_status", &edit_status, "input[name]", "name"),
        (owner_cookie, "add_comment", &new_comment, "input[body]", "body"),
        (owner_cookie, "edit_comment", &edit_comment, "input[body]", "body"),
        (owner_cookie, "list_issues", &list, "input[filter][q]", "filter.q"),
        (owner_cookie, "list_issues", &list, "input[filter][tag]", "filter.tag"),
    ];
    let mut failures = Vec::new();
    for (cookie, endpoint, base, field, error_field) in cases {
        failures.extend(refused_everywhere(&app, cookie, endpoint, base, field, error_field).await);
    }
    for endpoint_form in [("create_issue", &new_issue), ("update_issue", &update_issue)] {
        let (endpoint, base) = endpoint_form;
        for name in ["title", "description", "tags][0"] {
            let field = format!("input[fields][{name}]");
            let error_field = format!("fields.{}", name.trim_end_matches("][0"));
            failures.extend(refused_everywhere(&app, owner_cookie, endpoint, base, &field, &error_field).await);
        }
        for name in ["browser", "os", "device", "app_version", "url"] {
            let field = format!("input[fields][environment][{name}]");
            let error_field = format!("fields.environment.{name}");
            failures.extend(refused_everywhere(&app, owner_cookie, endpoint, base, &field, &error_field).await);
        }
    }
    assert!(failures.is_empty(), "{} refusals missing:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn multi_line_text_keeps_line_breaks_and_tabs() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let body = "Steps:\r\n\t1. open\n\t2. crash";
    let response =
        app.call("add_comment", &input(&[("issue_id", &issue.id), ("body", body)]), Some(&owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let comment: serde_json::Value = response.json().await.expect("json");
    assert_eq!(comment["body"], body);
}

#[tokio::test]
async fn the_database_refuses_control_characters_too() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    app.comment(&owner.cookie, &issue.id, "Hello", false).await;
    let mut db = app.db().await;
    let writes = [
        "UPDATE comments SET body = $1 WHERE team_id = $2",
        "UPDATE issues SET description = $1 WHERE team_id = $2",
        "UPDATE issues SET title = $1 WHERE team_id = $2",
        "UPDATE projects SET name = $1 WHERE team_id = $2",
        "UPDATE teams SET name = $1 WHERE id = $2",
    ];
    for sql in writes {
        for value in ["he\u{1}llo", "he\u{7f}llo", "he\0llo"] {
            let result = sqlx::query(sql).bind(value).bind(&team).execute(&mut db).await;
            assert!(result.is_err(), "the database stored {value:?} through {sql}");
        }
        let fine = sqlx::query(sql).bind("Fine text").bind(&team).execute(&mut db).await;
        assert!(fine.is_ok(), "{sql}: {fine:?}");
    }
    let lines = sqlx::query("UPDATE comments SET body = $1 WHERE team_id = $2")
        .bind("line\r\n\tline")
        .bind(&team)
        .execute(&mut db)
        .await;
    assert!(lines.is_ok(), "multi-line text keeps line breaks: {lines:?}");
}
