//! Issues and comments: what guests see (T5), children reached through what the actor may not see
//! (T2), numbering, history, sanitised Markdown, and another team's issues (T1).

use reqwest::StatusCode;

use crate::helpers::{input, spawn_app, Person, TestApp, TestIssue};

pub struct Setup {
    pub app: TestApp,
    pub owner: Person,
    pub normal: Person,
    pub guest: Person,
    pub other_guest: Person,
    pub project: String,
}

/// A public project with a normal member and two guests.
pub async fn setup() -> Setup {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let other_guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    for person in [&normal, &guest, &other_guest] {
        app.add_to_project(&owner.cookie, &project, &person.user_id).await;
    }
    Setup { app, owner, normal, guest, other_guest, project }
}

/// The titles of a page of issues, sorted.
fn sorted_titles(page: &serde_json::Value) -> Vec<String> {
    let mut titles: Vec<String> = page["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["title"].as_str().expect("title").to_owned())
        .collect();
    titles.sort();
    titles
}

async fn listed_titles(app: &TestApp, cookie: &str, project: &str) -> Vec<String> {
    let page: serde_json::Value =
        app.call("list_issues", &input(&[("project_id", project)]), Some(cookie)).await.json().await.expect("json");
    page["issues"].as_array().expect("issues").iter().map(|i| i["title"].as_str().expect("title").to_owned()).collect()
}

async fn get(app: &TestApp, cookie: &str, issue: &TestIssue) -> reqwest::Response {
    let (key, number) = issue.reference.split_once('-').expect("KEY-n");
    app.call("get_issue", &input(&[("key", key), ("number", number)]), Some(cookie)).await
}

#[tokio::test]
async fn guests_see_exactly_public_issues_and_their_own_reports() {
    let s = setup().await;
    let app = &s.app;
    let public = app.issue(&s.owner.cookie, &s.project, "public").await;
    let internal = app.issue(&s.owner.cookie, &s.project, "internal").await;
    let guests_own = app.issue(&s.guest.cookie, &s.project, "public").await;
    let other_guests = app.issue(&s.other_guest.cookie, &s.project, "public").await;

    let mut expected = vec![public.title.clone(), guests_own.title.clone()];
    expected.sort();
    let mut seen = listed_titles(app, &s.guest.cookie, &s.project).await;
    seen.sort();
    assert_eq!(seen, expected, "the guest's list");
    assert_eq!(listed_titles(app, &s.normal.cookie, &s.project).await.len(), 4, "members see all four");

    for (issue, status) in [
        (&public, StatusCode::OK),
        (&guests_own, StatusCode::OK),
        (&internal, StatusCode::NOT_FOUND),
        (&other_guests, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(get(app, &s.guest.cookie, issue).await.status(), status, "{}", issue.title);
    }
    // Guessing numbers finds nothing more than the list shows.
    let key = public.reference.split_once('-').expect("ref").0;
    let mut found = 0;
    for number in 1..=20 {
        let response = app
            .call("get_issue", &input(&[("key", key), ("number", &number.to_string())]), Some(&s.guest.cookie))
            .await;
        if response.status() == StatusCode::OK {
            found += 1;
        }
    }
    assert_eq!(found, 2);
}

#[tokio::test]
async fn opening_a_project_answers_what_get_project_and_list_issues_answer_each_role() {
    let s = setup().await;
    let app = &s.app;
    let public = app.issue(&s.owner.cookie, &s.project, "public").await;
    app.issue(&s.owner.cookie, &s.project, "internal").await;
    let key = public.reference.split_once('-').expect("KEY-n").0;
    for (who, cookie, count) in [("owner", &s.owner.cookie, 2), ("guest", &s.guest.cookie, 1)] {
        let opened: serde_json::Value =
            app.call("open_project", &input(&[("key", key)]), Some(cookie)).await.json().await.expect("json");
        let project: serde_json::Value =
            app.call("get_project", &input(&[("key", key)]), Some(cookie)).await.json().await.expect("json");
        let list: serde_json::Value = app
            .call("list_issues", &input(&[("project_id", &s.project)]), Some(cookie))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(opened["detail"], project, "{who}: the project");
        assert_eq!(opened["issues"], list, "{who}: the first page");
        assert_eq!(list["issues"].as_array().expect("issues").len(), count, "{who}: what the list holds");
    }
    // The filter travels with it, and a guest's filter cannot widen what they see.
    let mut form = input(&[("key", key)]);
    form.push(("input[filter][visibility]".to_owned(), "internal".to_owned()));
    let opened: serde_json::Value =
        app.call("open_project", &form, Some(&s.guest.cookie)).await.json().await.expect("json");
    assert_eq!(opened["issues"]["issues"], serde_json::json!([]), "internal issues reach no guest");
    let opened: serde_json::Value =
        app.call("open_project", &form, Some(&s.owner.cookie)).await.json().await.expect("json");
    assert_eq!(opened["issues"]["issues"].as_array().expect("issues").len(), 1);
}

#[tokio::test]
async fn guests_reports_stay_internal_and_untriaged_whatever_they_send() {
    let s = setup().await;
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "Broken".to_owned()),
        ("input[fields][visibility]".to_owned(), "public".to_owned()),
        ("input[fields][priority]".to_owned(), "urgent".to_owned()),
        ("input[fields][assignees][0]".to_owned(), s.normal.user_id.clone()),
    ];
    let issue: serde_json::Value =
        s.app.call("create_issue", &form, Some(&s.guest.cookie)).await.json().await.expect("json");
    assert_eq!(issue["visibility"], "internal");
    assert_eq!(issue["priority"], "none");
    assert_eq!(issue["assignees"].as_array().map(Vec::len), Some(0));
    assert_eq!(issue["reporter"]["id"], s.guest.user_id.as_str());
}

#[tokio::test]
async fn internal_comments_never_reach_guests() {
    let s = setup().await;
    let app = &s.app;
    let issue = app.issue(&s.owner.cookie, &s.project, "public").await;
    app.comment(&s.owner.cookie, &issue.id, "Public answer", false).await;
    let internal = app.comment(&s.owner.cookie, &issue.id, "Internal: the customer is wrong", true).await;
    let guest_comment = app.comment(&s.guest.cookie, &issue.id, "Guest asks", true).await;

    let detail: serde_json::Value = get(app, &s.guest.cookie, &issue).await.json().await.expect("json");
    let bodies: Vec<&str> =
        detail["comments"].as_array().expect("comments").iter().filter_map(|c| c["body"].as_str()).collect();
    assert_eq!(bodies, ["Public answer", "Guest asks"], "a guest's comment is public even when sent as internal");
    assert!(!detail.to_string().contains("customer is wrong"));

    // The hidden comment cannot be reached by id either.
    for endpoint in ["edit_comment", "delete_comment"] {
        let form = input(&[("comment_id", &internal), ("body", "x")]);
        assert_eq!(app.call(endpoint, &form, Some(&s.guest.cookie)).await.status(), StatusCode::NOT_FOUND);
    }
    let staff: serde_json::Value = get(app, &s.normal.cookie, &issue).await.json().await.expect("json");
    assert_eq!(staff["comments"].as_array().map(Vec::len), Some(3));
    let own = input(&[("comment_id", &guest_comment), ("body", "Guest asks again")]);
    assert_eq!(app.call("edit_comment", &own, Some(&s.guest.cookie)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn comments_of_an_issue_that_becomes_internal_disappear_for_guests() {
    let s = setup().await;
    let app = &s.app;
    let issue = app.issue(&s.owner.cookie, &s.project, "public").await;
    let comment = app.comment(&s.owner.cookie, &issue.id, "Visible for now", false).await;
    let detail: serde_json::Value = get(app, &s.owner.cookie, &issue).await.json().await.expect("json");
    let status = detail["issue"]["status"]["id"].as_str().expect("status").to_owned();
    let form = vec![
        ("input[issue_id]".to_owned(), issue.id.clone()),
        ("input[status_id]".to_owned(), status),
        ("input[fields][title]".to_owned(), issue.title.clone()),
        ("input[fields][visibility]".to_owned(), "internal".to_owned()),
    ];
    assert_eq!(app.call("update_issue", &form, Some(&s.owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(get(app, &s.guest.cookie, &issue).await.status(), StatusCode::NOT_FOUND);
    let edit = input(&[("comment_id", &comment), ("body", "x")]);
    assert_eq!(app.call("edit_comment", &edit, Some(&s.guest.cookie)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issues_are_numbered_per_project_and_every_change_is_in_the_history() {
    let s = setup().await;
    let app = &s.app;
    let first = app.issue(&s.owner.cookie, &s.project, "internal").await;
    let second = app.issue(&s.owner.cookie, &s.project, "internal").await;
    assert!(first.reference.ends_with("-1") && second.reference.ends_with("-2"), "{first:?} {second:?}");
    let (other_project, _) = app.project(&s.owner.cookie, "private").await;
    let elsewhere = app.issue(&s.owner.cookie, &other_project, "internal").await;
    assert!(elsewhere.reference.ends_with("-1"));

    let detail: serde_json::Value = get(app, &s.owner.cookie, &first).await.json().await.expect("json");
    let project: serde_json::Value = app
        .call("get_project", &input(&[("key", first.reference.split_once('-').expect("ref").0)]), Some(&s.owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    let done = project["statuses"][3]["id"].as_str().expect("Done").to_owned();
    assert_eq!(detail["issue"]["status"]["name"], "New");
    let form = vec![
        ("input[issue_id]".to_owned(), first.id.clone()),
        ("input[status_id]".to_owned(), done),
        ("input[fields][title]".to_owned(), "Renamed".to_owned()),
        ("input[fields][severity]".to_owned(), "critical".to_owned()),
        ("input[fields][tags][0]".to_owned(), "Login".to_owned()),
        ("input[fields][assignees][0]".to_owned(), s.normal.user_id.clone()),
    ];
    let updated: serde_json::Value =
        app.call("update_issue", &form, Some(&s.normal.cookie)).await.json().await.expect("json");
    assert_eq!(updated["status"]["name"], "Done");
    assert_eq!(updated["tags"][0], "login");
    let detail: serde_json::Value = get(app, &s.owner.cookie, &first).await.json().await.expect("json");
    let fields: Vec<&str> =
        detail["history"].as_array().expect("history").iter().filter_map(|h| h["field"].as_str()).collect();
    for field in ["title", "severity", "status", "tags", "assignees"] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    let title = detail["history"].as_array().expect("history").iter().find(|h| h["field"] == "title").expect("title");
    assert_eq!(title["old_value"], first.title.as_str());
    assert_eq!(title["new_value"], "Renamed");

    // A guest cannot be assigned.
    let form = vec![
        ("input[issue_id]".to_owned(), second.id.clone()),
        ("input[status_id]".to_owned(), detail["issue"]["status"]["id"].as_str().expect("s").to_owned()),
        ("input[fields][title]".to_owned(), "T".to_owned()),
        ("input[fields][assignees][0]".to_owned(), s.guest.user_id.clone()),
    ];
    assert_eq!(app.call("update_issue", &form, Some(&s.owner.cookie)).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Creates sent together into one project each get a number of their own, and, none failing, the
/// numbers run from 1 without a gap (on `PostgreSQL` the number is taken before the create's own
/// transaction; on `SQLite` by the group commit).
#[tokio::test]
async fn creates_sent_together_get_every_number_once() {
    let s = setup().await;
    let mut creates = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let (app, cookie, project) = (TestApp::client_of(&s.app.address), s.owner.cookie.clone(), s.project.clone());
        creates.spawn(async move { app.issue(&cookie, &project, "public").await.reference });
    }
    let mut numbers: Vec<u64> = creates
        .join_all()
        .await
        .iter()
        .map(|reference| reference.rsplit_once('-').expect("KEY-n").1.parse().expect("a number"))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=24).collect::<Vec<u64>>());
    let after = s.app.issue(&s.owner.cookie, &s.project, "public").await;
    assert!(after.reference.ends_with("-25"), "{after:?}");
}
#[tokio::test]
async fn markdown_is_rendered_sanitised() {
    let s = setup().await;
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "<script>alert(1)</script>".to_owned()),
        (
            "input[fields][description]".to_owned(),
            "**bold** <img src=x onerror=alert(1)> [x](javascript:alert(1)) <a href=\"https://ok.example\">ok</a>"
                .to_owned(),
        ),
    ];
    let issue: serde_json::Value =
        s.app.call("create_issue", &form, Some(&s.owner.cookie)).await.json().await.expect("json");
    let html = issue["description_html"].as_str().expect("html");
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    for bad in ["onerror", "javascript:", "<img", "<script"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    assert_eq!(issue["title"], "<script>alert(1)</script>", "titles are text, escaped where shown");
}

#[tokio::test]
async fn another_teams_issues_and_comments_are_indistinguishable_from_missing_ones() {
    let s = setup().await;
    let app = &s.app;
    let (owner_b, team_b) = app.owner("b").await;
    let (project_b, _) = app.project(&owner_b.cookie, "public").await;
    let mut targets = Vec::new();
    for _ in 0..15 {
        let issue = app.issue(&owner_b.cookie, &project_b, "public").await;
        let comment = app.comment(&owner_b.cookie, &issue.id, "B's comment", false).await;
        targets.push((issue.id, comment));
    }
    let before = app.team_digest(&team_b).await;
    let probe = |issue: &str, comment: &str| {
        vec![
            ("add_comment", input(&[("issue_id", issue), ("body", "hi")])),
            ("delete_issue", input(&[("issue_id", issue)])),
            ("change_status", input(&[("issue_id", issue), ("status_id", &uuid::Uuid::new_v4().to_string())])),
            ("edit_comment", input(&[("comment_id", comment), ("body", "x")])),
            ("delete_comment", input(&[("comment_id", comment)])),
            ("list_issues", input(&[("project_id", &project_b)])),
        ]
    };
    for cookie in [&s.owner.cookie, &s.normal.cookie, &s.guest.cookie] {
        let missing = uuid::Uuid::new_v4().to_string();
        let mut expected = Vec::new();
        for (endpoint, form) in probe(&missing, &missing) {
            let r = app.call(endpoint, &form, Some(cookie)).await;
            expected.push((r.status(), r.text().await.expect("body")));
        }
        for (issue, comment) in &targets {
            for ((endpoint, form), want) in probe(issue, comment).into_iter().zip(&expected) {
                if endpoint == "list_issues" {
                    continue; // the same project id each time: checked once below
                }
                let r = app.call(endpoint, &form, Some(cookie)).await;
                assert_eq!(&(r.status(), r.text().await.expect("body")), want, "{endpoint} on team B's {issue}");
            }
        }
        let list = app.call("list_issues", &input(&[("project_id", &project_b)]), Some(cookie)).await;
        assert_eq!(list.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.team_digest(&team_b).await, before);
}

#[tokio::test]
async fn the_list_filters_combine_and_never_widen_what_a_guest_sees() {
    let s = setup().await;
    let app = &s.app;
    let create = |title: &'static str, severity: &'static str, tag: &'static str, visibility: &'static str| {
        let form = vec![
            ("input[project_id]".to_owned(), s.project.clone()),
            ("input[fields][title]".to_owned(), title.to_owned()),
            ("input[fields][severity]".to_owned(), severity.to_owned()),
            ("input[fields][tags][0]".to_owned(), tag.to_owned()),
            ("input[fields][visibility]".to_owned(), visibility.to_owned()),
        ];
        let cookie = s.owner.cookie.clone();
        async move {
            let r = app.call("create_issue", &form, Some(&cookie)).await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    create("Login fails at 100%", "critical", "auth", "public").await;
    create("Logout is slow", "low", "auth", "internal").await;
    create("Typo on the login page", "low", "ui", "public").await;

    let list = |cookie: String, filters: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("input[project_id]".to_owned(), s.project.clone())];
        form.extend(filters.into_iter().map(|(k, v)| (format!("input[filter][{k}]"), v.to_owned())));
        async move {
            let page: serde_json::Value =
                app.call("list_issues", &form, Some(&cookie)).await.json().await.expect("json");
            sorted_titles(&page)
        }
    };
    let owner = s.owner.cookie.clone();
    assert_eq!(list(owner.clone(), vec![("q", "LOGIN")]).await, ["Login fails at 100%", "Typo on the login page"]);
    assert_eq!(list(owner.clone(), vec![("q", "100%")]).await, ["Login fails at 100%"]);
    assert_eq!(
        list(owner.clone(), vec![("q", "%")]).await,
        ["Login fails at 100%"],
        "% is a character, not a wildcard"
    );
    assert_eq!(list(owner.clone(), vec![("severity", "low"), ("tag", "auth")]).await, ["Logout is slow"]);
    assert_eq!(list(owner.clone(), vec![("visibility", "internal")]).await, ["Logout is slow"]);
    assert_eq!(list(owner.clone(), vec![("category", "open")]).await.len(), 3);
    assert_eq!(list(owner.clone(), vec![("category", "done")]).await.len(), 0);
    // A guest asking for internal issues gets none of them.
    assert_eq!(list(s.guest.cookie.clone(), vec![("visibility", "internal")]).await, Vec::<String>::new());
    assert_eq!(list(s.guest.cookie.clone(), vec![("tag", "auth")]).await, ["Login fails at 100%"]);
    let bad = app
        .call(
            "list_issues",
            &[
                ("input[project_id]".to_owned(), s.project.clone()),
                ("input[filter][severity]".to_owned(), "fatal".to_owned()),
            ],
            Some(&owner),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "unknown values are refused, not ignored");
}

async fn export(app: &TestApp, cookie: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = app.http.get(app.url(&format!("/export/issues.csv?{query}")));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("sent")
}

#[tokio::test]
async fn the_csv_export_follows_the_filter_and_the_guest_rules_and_defuses_formulas() {
    let s = setup().await;
    let app = &s.app;
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "=HYPERLINK(\"https://evil.example\")".to_owned()),
        ("input[fields][visibility]".to_owned(), "public".to_owned()),
        ("input[fields][severity]".to_owned(), "high".to_owned()),
    ];
    assert_eq!(app.call("create_issue", &form, Some(&s.owner.cookie)).await.status(), StatusCode::OK);
    let internal = app.issue(&s.owner.cookie, &s.project, "internal").await;

    let all = export(app, Some(&s.owner.cookie), &format!("project={}", s.project)).await;
    assert_eq!(all.status(), StatusCode::OK);
    assert!(all.headers()["content-disposition"].to_str().expect("cd").starts_with("attachment"));
    let csv = all.text().await.expect("csv");
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(csv.contains(&internal.title));
    assert_eq!(csv.lines().count(), 3, "header and two issues");

    let filtered = export(app, Some(&s.owner.cookie), &format!("project={}&severity=high", s.project))
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(filtered.lines().count(), 2);

    let guest = export(app, Some(&s.guest.cookie), &format!("project={}", s.project)).await.text().await.expect("csv");
    assert!(!guest.contains(&internal.title), "internal issues stay out of a guest's export");
    assert_eq!(guest.lines().count(), 2);

    assert_eq!(export(app, None, &format!("project={}", s.project)).await.status(), StatusCode::UNAUTHORIZED);
    let bad = export(app, Some(&s.owner.cookie), &format!("project={}&severity=fatal", s.project)).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cross = app
        .http
        .get(app.url(&format!("/export/issues.csv?project={}", s.project)))
        .header("cookie", &s.owner.cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("sent");
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    // Each export is in the audit log (the owner's two and the guest's one).
    let log: serde_json::Value = app
        .call("audit_log", &crate::helpers::input(&[("event", "issues_exported")]), Some(&s.owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(3), "{log}");
}

#[tokio::test]
#[allow(clippy::many_single_char_names)]
async fn keyset_pages_cover_every_issue_once_in_each_sort_order() {
    let s = setup().await;
    let app = &s.app;
    let priorities = ["none", "urgent", "low", "high", "medium"];
    let severities = ["low", "critical", "medium", "high"];
    for n in 0..120 {
        let form = vec![
            ("input[project_id]".to_owned(), s.project.clone()),
            ("input[fields][title]".to_owned(), format!("Issue {n}")),
            ("input[fields][priority]".to_owned(), priorities[n % 5].to_owned()),
            ("input[fields][severity]".to_owned(), severities[n % 4].to_owned()),
        ];
        assert_eq!(app.call("create_issue", &form, Some(&s.owner.cookie)).await.status(), StatusCode::OK);
    }
    let rank = |value: &str, order: &[&str]| order.iter().position(|v| *v == value).expect("known value");
    for sort in ["number", "updated", "priority", "severity"] {
        let mut seen: Vec<serde_json::Value> = Vec::new();
        let (mut after, mut after_key) = (0_i64, None::<i64>);
        let mut pages = 0;
        loop {
            let mut form = vec![
                ("input[project_id]".to_owned(), s.project.clone()),
                ("input[sort]".to_owned(), sort.to_owned()),
                ("input[after]".to_owned(), after.to_string()),
            ];
            if let Some(key) = after_key {
                form.push(("input[after_key]".to_owned(), key.to_string()));
            }
            let page: serde_json::Value =
                app.call("list_issues", &form, Some(&s.owner.cookie)).await.json().await.expect("json");
            pages += 1;
            seen.extend(page["issues"].as_array().expect("issues").iter().cloned());
            match page["next_after"].as_i64() {
                Some(next) => {
                    after = next;
                    after_key = page["next_after_key"].as_i64();
                }
                None => break,
            }
        }
        assert_eq!(pages, 3, "{sort}: 50 + 50 + 20");
        let numbers: std::collections::BTreeSet<i64> = seen.iter().map(|i| i["number"].as_i64().expect("n")).collect();
        assert_eq!(numbers.len(), 120, "{sort}: every issue exactly once");
        let ordered = seen.windows(2).all(|w| {
            let (a, b) = (&w[0], &w[1]);
            let by_number = a["number"].as_i64() < b["number"].as_i64();
            match sort {
                "priority" => {
                    let order = ["urgent", "high", "medium", "low", "none"];
                    let (x, y) = (
                        rank(a["priority"].as_str().expect("p"), &order),
                        rank(b["priority"].as_str().expect("p"), &order),
                    );
                    x < y || (x == y && by_number)
                }
                "severity" => {
                    let order = ["critical", "high", "medium", "low"];
                    let (x, y) = (
                        rank(a["severity"].as_str().expect("s"), &order),
                        rank(b["severity"].as_str().expect("s"), &order),
                    );
                    x < y || (x == y && by_number)
                }
                "updated" => {
                    let (x, y) = (a["updated_at"].as_i64(), b["updated_at"].as_i64());
                    x > y || (x == y && by_number)
                }
                _ => by_number,
            }
        });
        assert!(ordered, "{sort}: pages are in order");
    }
}

#[tokio::test]
async fn an_absurd_cursor_is_harmless() {
    let s = setup().await;
    s.app.issue(&s.owner.cookie, &s.project, "public").await;
    for sort in ["priority", "severity", "updated", "number"] {
        for key in [i64::MIN, -1, 99_999_999_999, i64::MAX] {
            let form = vec![
                ("input[project_id]".to_owned(), s.project.clone()),
                ("input[sort]".to_owned(), sort.to_owned()),
                ("input[after_key]".to_owned(), key.to_string()),
            ];
            let response = s.app.call("list_issues", &form, Some(&s.owner.cookie)).await;
            assert_eq!(response.status(), StatusCode::OK, "{sort} after {key}");
        }
    }
}

#[tokio::test]
async fn lists_carry_what_a_list_shows_and_the_issue_page_the_rest() {
    let s = setup().await;
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "Slow export".to_owned()),
        ("input[fields][description]".to_owned(), "Takes **minutes**".to_owned()),
        ("input[fields][environment][browser]".to_owned(), "Firefox".to_owned()),
    ];
    let issue: serde_json::Value =
        s.app.call("create_issue", &form, Some(&s.owner.cookie)).await.json().await.expect("json");
    let page: serde_json::Value = s
        .app
        .call("list_issues", &input(&[("project_id", &s.project)]), Some(&s.owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    let listed = &page["issues"][0];
    assert_eq!(listed["title"], "Slow export");
    for absent in ["description", "description_html", "environment"] {
        assert!(listed.get(absent).is_none(), "a list carries {absent}: {listed}");
    }
    let reference = issue["reference"].as_str().expect("reference").to_owned();
    let shown: serde_json::Value =
        get(&s.app, &s.owner.cookie, &TestIssue { id: String::new(), reference, title: String::new() })
            .await
            .json()
            .await
            .expect("json");
    assert_eq!(shown["issue"]["description_html"], "<p>Takes <strong>minutes</strong></p>\n");
    assert_eq!(shown["issue"]["environment"]["browser"], "Firefox");
}

#[tokio::test]
async fn markdown_is_rendered_once_when_written_and_older_rows_at_start() {
    let s = setup().await;
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "Rendered".to_owned()),
        ("input[fields][description]".to_owned(), "Takes **minutes**".to_owned()),
    ];
    let issue: serde_json::Value =
        s.app.call("create_issue", &form, Some(&s.owner.cookie)).await.json().await.expect("json");
    let id = issue["id"].as_str().expect("id").to_owned();
    s.app.comment(&s.owner.cookie, &id, "A *comment*", false).await;
    let mut db = s.app.db().await;
    let (stored,): (Option<String>,) = sqlx::query_as("SELECT description_html FROM issues WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .expect("row");
    assert_eq!(stored.as_deref(), Some("<p>Takes <strong>minutes</strong></p>\n"), "rendered when written");

    // Reads use what was stored, not a new rendering.
    sqlx::query("UPDATE issues SET description_html = '<p>stored</p>' WHERE id = $1")
        .bind(&id)
        .execute(&mut db)
        .await
        .expect("mark");
    let reference = issue["reference"].as_str().expect("reference").to_owned();
    let shown = TestIssue { id: id.clone(), reference, title: String::new() };
    let detail: serde_json::Value = get(&s.app, &s.owner.cookie, &shown).await.json().await.expect("json");
    assert_eq!(detail["issue"]["description_html"], "<p>stored</p>");

    // Rows from before the rendered columns existed are rendered at start.
    sqlx::query("UPDATE issues SET description_html = NULL WHERE id = $1")
        .bind(&id)
        .execute(&mut db)
        .await
        .expect("null");
    sqlx::query("UPDATE comments SET body_html = NULL WHERE issue_id = $1")
        .bind(&id)
        .execute(&mut db)
        .await
        .expect("null");
    let server_db = server::db::Db::connect(&s.app.database_url).await.expect("connect");
    assert!(server::db::issues::render_missing(&server_db).await.expect("render") >= 2);
    let (issue_html,): (Option<String>,) = sqlx::query_as("SELECT description_html FROM issues WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .expect("row");
    let (comment_html,): (Option<String>,) = sqlx::query_as("SELECT body_html FROM comments WHERE issue_id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .expect("row");
    assert_eq!(issue_html.as_deref(), Some("<p>Takes <strong>minutes</strong></p>\n"));
    assert_eq!(comment_html.as_deref(), Some("<p>A <em>comment</em></p>\n"));
    let detail: serde_json::Value = get(&s.app, &s.owner.cookie, &shown).await.json().await.expect("json");
    assert_eq!(detail["comments"][0]["body_html"], "<p>A <em>comment</em></p>\n");
}

/// The text search reads a trigram index kept by triggers: it must follow creates, edits of the title
/// and description, and deletes, match any substring of three characters or more in either field
/// (case-folded), and treat quotes and wildcards as text.
#[tokio::test]
async fn text_search_follows_every_write_and_matches_substrings() {
    let s = setup().await;
    let app = &s.app;
    let owner = s.owner.cookie.clone();
    let search = |q: &'static str| {
        let form =
            vec![("input[project_id]".to_owned(), s.project.clone()), ("input[filter][q]".to_owned(), q.to_owned())];
        let cookie = owner.clone();
        async move {
            let page: serde_json::Value =
                app.call("list_issues", &form, Some(&cookie)).await.json().await.expect("json");
            sorted_titles(&page)
        }
    };
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "Zebra crossing flickers".to_owned()),
        ("input[fields][description]".to_owned(), "Seen with \"quoted\" text and 50% zoom".to_owned()),
    ];
    let created: serde_json::Value = app.call("create_issue", &form, Some(&owner)).await.json().await.expect("json");
    app.issue(&owner, &s.project, "public").await;

    assert_eq!(search("ebra CRO").await, ["Zebra crossing flickers"], "a substring, case-folded");
    assert_eq!(search("\"quoted\"").await, ["Zebra crossing flickers"], "quotes are text");
    assert_eq!(search("50% z").await, ["Zebra crossing flickers"], "% is text");
    assert_eq!(search("0%z").await, Vec::<String>::new());
    assert_eq!(search("Ze").await, ["Zebra crossing flickers"], "short texts still match");

    let status = created["status"]["id"].as_str().expect("status").to_owned();
    let edit = vec![
        ("input[issue_id]".to_owned(), created["id"].as_str().expect("id").to_owned()),
        ("input[status_id]".to_owned(), status),
        ("input[fields][title]".to_owned(), "Lion enclosure open".to_owned()),
    ];
    assert_eq!(app.call("update_issue", &edit, Some(&owner)).await.status(), StatusCode::OK);
    assert_eq!(search("zebra").await, Vec::<String>::new(), "the old title is gone from the index");
    assert_eq!(search("quoted").await, Vec::<String>::new(), "so is the old description");
    assert_eq!(search("enclosure").await, ["Lion enclosure open"]);

    let delete = vec![("input[issue_id]".to_owned(), created["id"].as_str().expect("id").to_owned())];
    assert_eq!(app.call("delete_issue", &delete, Some(&owner)).await.status(), StatusCode::OK);
    assert_eq!(search("enclosure").await, Vec::<String>::new(), "deleted issues are not found");
}

/// Issue and comment ids are time-ordered (`UUIDv7`, so that new rows land at the end of the indexes
/// keyed by them): each carries the moment it was made, and a later issue's id sorts after an
/// earlier one's, as text too (the databases store them as text).
#[tokio::test]
async fn issue_and_comment_ids_carry_the_time_they_were_made() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let unix_ms = || {
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis())
            .expect("ms")
    };
    let made_at = |id: &str| {
        let id = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(id.get_version_num(), 7, "{id} is not time-ordered");
        let (seconds, nanos) = id.get_timestamp().expect("a timestamp").to_unix();
        i64::try_from(seconds).expect("s") * 1000 + i64::from(nanos / 1_000_000)
    };
    let before = unix_ms();
    let first = app.issue(&owner.cookie, &project, "public").await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let second = app.issue(&owner.cookie, &project, "public").await;
    let comment = app.comment(&owner.cookie, &second.id, "Seen again", false).await;
    let after = unix_ms();
    for id in [&first.id, &second.id, &comment] {
        let at = made_at(id);
        assert!((before..=after).contains(&at), "{id} was made at {at}, not between {before} and {after}");
    }
    assert!(second.id > first.id, "{} should sort after {}", second.id, first.id);
}

/// A search is words, each of which must appear in the title or the description, in any order and
/// as parts of words (three characters and more through the trigram indexes, shorter ones by
/// `LIKE`), or an issue's key; it never widens what the reader may see, and a search of more than
/// eight words is refused with a clear message rather than run.
#[tokio::test]
async fn a_search_finds_words_in_any_order_and_an_issue_by_its_key() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("search").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, key) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    for (title, description, visibility) in [
        ("Login fails at 100%", "The form hangs when the server is busy", "public"),
        ("Logout is slow", "Sessions take seconds to end", "internal"),
        ("Typo on the login page", "", "public"),
    ] {
        let form = vec![
            ("input[project_id]".to_owned(), project.clone()),
            ("input[fields][title]".to_owned(), title.to_owned()),
            ("input[fields][description]".to_owned(), description.to_owned()),
            ("input[fields][visibility]".to_owned(), visibility.to_owned()),
        ];
        assert_eq!(app.call("create_issue", &form, Some(&owner.cookie)).await.status(), StatusCode::OK);
    }
    let search = |cookie: String, q: String| {
        let form = vec![("input[project_id]".to_owned(), project.clone()), ("input[filter][q]".to_owned(), q)];
        let app = &app;
        async move {
            let response = app.call("list_issues", &form, Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            sorted_titles(&response.json().await.expect("json"))
        }
    };
    let owner_searches = |q: &str| search(owner.cookie.clone(), q.to_owned());
    assert_eq!(owner_searches("page login").await, ["Typo on the login page"], "any order");
    assert_eq!(owner_searches("busy LOGIN").await, ["Login fails at 100%"], "title and description together");
    assert_eq!(owner_searches("hang serv").await, ["Login fails at 100%"], "parts of words");
    assert_eq!(owner_searches("at 10").await, ["Login fails at 100%"], "short words");
    assert_eq!(owner_searches("login slow").await, Vec::<String>::new(), "every word must match");
    assert_eq!(owner_searches(&format!("{key}-3")).await, ["Typo on the login page"]);
    assert_eq!(owner_searches(&format!("{}-2", key.to_lowercase())).await, ["Logout is slow"]);
    assert_eq!(owner_searches("ZZ9-3").await, Vec::<String>::new(), "another project's key");
    assert_eq!(owner_searches(&format!("{key}-99")).await, Vec::<String>::new());
    // The guest's search sees what the guest's list sees: not the internal issue, by words or key.
    assert_eq!(search(guest.cookie.clone(), "slow".into()).await, Vec::<String>::new());
    assert_eq!(search(guest.cookie.clone(), format!("{key}-2")).await, Vec::<String>::new());
    assert_eq!(search(guest.cookie.clone(), format!("{key}-1")).await, ["Login fails at 100%"]);

    let nine = vec![
        ("input[project_id]".to_owned(), project.clone()),
        ("input[filter][q]".to_owned(), "one two three four five six seven eight nine".to_owned()),
    ];
    let refused = app.call("list_issues", &nine, Some(&owner.cookie)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::helpers::error_body(refused).await;
    assert_eq!(body["fields"][0]["field"], "filter.q", "{body}");
    assert_eq!(body["fields"][0]["message"], "At most 8 words.", "{body}");
}

/// The CSV export is the list's other door: its search obeys the same shared rule.
#[tokio::test]
async fn the_csv_export_refuses_a_search_the_list_refuses() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("export-words").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let nine = "one+two+three+four+five+six+seven+eight+nine";
    let refused = export(&app, Some(&owner.cookie), &format!("project={project}&q={nine}")).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::helpers::error_body(refused).await;
    assert_eq!(body["fields"][0]["message"], "At most 8 words.", "{body}");
    let eight = "one+two+three+four+five+six+seven+eight";
    let allowed = export(&app, Some(&owner.cookie), &format!("project={project}&q={eight}")).await;
    assert_eq!(allowed.status(), StatusCode::OK);
}

/// Issue keys in descriptions and comments become links only for issues their reader may open, by
/// the reader's own scope: another team's, an internal one for a guest, a project the guest is not
/// in, and anything not public for an anonymous reader stay plain text.
#[tokio::test]
async fn issue_keys_in_text_link_only_what_the_reader_may_open() {
    let s = setup().await;
    let app = &s.app;
    let public = app.issue(&s.owner.cookie, &s.project, "public").await;
    let internal = app.issue(&s.owner.cookie, &s.project, "internal").await;
    let (elsewhere_project, _) = app.project(&s.owner.cookie, "private").await;
    let elsewhere = app.issue(&s.owner.cookie, &elsewhere_project, "public").await;
    let (stranger, _) = app.owner("stranger").await;
    let (strangers_project, _) = app.project(&stranger.cookie, "public").await;
    let strangers = app.issue(&stranger.cookie, &strangers_project, "public").await;
    let mentions = [&public, &internal, &elsewhere, &strangers].map(|i| i.reference.clone()).join(", ");
    let form = vec![
        ("input[project_id]".to_owned(), s.project.clone()),
        ("input[fields][title]".to_owned(), "Mentions".to_owned()),
        ("input[fields][description]".to_owned(), format!("Related: {mentions}. `{}`", public.reference)),
        ("input[fields][visibility]".to_owned(), "public".to_owned()),
    ];
    let response = app.call("create_issue", &form, Some(&s.owner.cookie)).await;
    let mentioning: serde_json::Value = response.json().await.expect("json");
    let mentioning = crate::helpers::TestIssue {
        id: mentioning["id"].as_str().expect("id").to_owned(),
        reference: mentioning["reference"].as_str().expect("reference").to_owned(),
        title: "Mentions".to_owned(),
    };
    app.comment(&s.owner.cookie, &mentioning.id, &format!("Same as {}", internal.reference), false).await;

    let linked = |detail: &serde_json::Value, issue: &crate::helpers::TestIssue| {
        let (key, number) = issue.reference.split_once('-').expect("KEY-n");
        let link = format!(r#"href="/projects/{key}/issues/{number}""#);
        let texts = std::iter::once(&detail["issue"]["description_html"])
            .chain(detail["comments"].as_array().expect("comments").iter().map(|c| &c["body_html"]));
        let texts: Vec<&str> = texts.filter_map(|t| t.as_str()).collect();
        assert!(texts.iter().any(|t| t.contains(&issue.reference)), "{} is in the text: {texts:?}", issue.reference);
        texts.iter().map(|t| t.matches(&link).count()).sum::<usize>()
    };
    let owners: serde_json::Value = get(app, &s.owner.cookie, &mentioning).await.json().await.expect("json");
    assert_eq!(linked(&owners, &public), 1, "once: the key in code stays text");
    assert_eq!(linked(&owners, &internal), 2, "in the description and the comment");
    assert_eq!(linked(&owners, &elsewhere), 1);
    assert_eq!(linked(&owners, &strangers), 0, "another team's issue");
    let guests: serde_json::Value = get(app, &s.guest.cookie, &mentioning).await.json().await.expect("json");
    assert_eq!(linked(&guests, &public), 1);
    assert_eq!(linked(&guests, &internal), 0, "internal, for a guest");
    assert_eq!(linked(&guests, &elsewhere), 0, "a project the guest is not in");
    assert_eq!(linked(&guests, &strangers), 0);
}

/// The preview of what is being written is what saving it gives: the same sanitiser, and issue keys
/// linked by the writer's own scope. It needs a session and obeys the text rule.
#[tokio::test]
async fn the_markdown_preview_renders_as_saving_would_for_its_reader() {
    let s = setup().await;
    let app = &s.app;
    let public = app.issue(&s.owner.cookie, &s.project, "public").await;
    let internal = app.issue(&s.owner.cookie, &s.project, "internal").await;
    let text = format!("**Seen** in {} and {} <script>alert(1)</script>", public.reference, internal.reference);
    let preview = |cookie: Option<String>, text: String| async move {
        app.call("preview_markdown", &input(&[("text", &text)]), cookie.as_deref()).await
    };
    let owners: String = preview(Some(s.owner.cookie.clone()), text.clone()).await.json().await.expect("json");
    assert!(owners.contains("<strong>Seen</strong>") && !owners.contains("<script"), "{owners}");
    let link = |issue: &crate::helpers::TestIssue| {
        let (key, number) = issue.reference.split_once('-').expect("KEY-n");
        format!(r#"href="/projects/{key}/issues/{number}""#)
    };
    assert!(owners.contains(&link(&public)) && owners.contains(&link(&internal)), "{owners}");
    let guests: String = preview(Some(s.guest.cookie.clone()), text.clone()).await.json().await.expect("json");
    assert!(guests.contains(&link(&public)), "{guests}");
    assert!(!guests.contains(&link(&internal)) && guests.contains(&internal.reference), "{guests}");

    assert_eq!(preview(None, text).await.status(), StatusCode::UNAUTHORIZED, "anonymous");
    let refused = preview(Some(s.owner.cookie.clone()), "x".repeat(20_001)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = crate::helpers::error_body(refused).await;
    assert_eq!(body["fields"][0]["field"], "text", "{body}");
}
