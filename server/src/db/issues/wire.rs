//! The wire forms of visible issues: names of statuses and people looked up once per page.

use std::collections::{BTreeSet, HashMap};

use app::model::{Issue, IssueSummary, Person, ProjectId, StatusId, StatusRef, TeamId, UserId};

use super::{StoredIssue, Visible};
use crate::{
    db::{scope::Statement, Backend, Db, DbError, TeamScope},
    markdown::to_safe_html,
};

/// The statuses of `projects` of the team and the names of `users` as the team knows them
/// (members, reporters and authors of the team; anyone else is a "Former member"): one statement,
/// one row of two JSON arrays, however long the page.
async fn names_of(
    db: &Db,
    team_id: TeamId,
    projects: &BTreeSet<ProjectId>,
    users: &BTreeSet<UserId>,
) -> Result<Names, DbError> {
    let (array, object, empty) = match db.backend() {
        Backend::Sqlite => ("json_group_array(", "json_object(", "'[]'"),
        Backend::Postgres => ("json_agg(", "json_build_object(", "CAST('[]' AS json)"),
    };
    let mut s = Statement::new("SELECT CAST(COALESCE((SELECT ");
    s.push(array).push(object).push("'id', s.id, 'name', s.name, 'category', s.category)) FROM project_statuses s ");
    s.push("WHERE s.team_id = ").bind(team_id).push(" AND s.project_id IN (").bind_list(projects.iter().copied());
    s.push(")), ").push(empty).push(") AS TEXT), CAST(COALESCE((SELECT ").push(array).push(object);
    s.push("'id', u.id, 'display_name', u.display_name)) FROM users u WHERE u.id IN (")
        .bind_list(users.iter().copied());
    s.push(") AND (EXISTS (SELECT 1 FROM memberships m WHERE m.team_id = ").bind(team_id);
    s.push(" AND m.user_id = u.id) OR EXISTS (SELECT 1 FROM issues i WHERE i.team_id = ").bind(team_id);
    s.push(" AND i.reporter_id = u.id) OR EXISTS (SELECT 1 FROM comments c WHERE c.team_id = ").bind(team_id);
    s.push(" AND c.author_id = u.id))), ").push(empty).push(") AS TEXT)");
    let (statuses, people) = s.query_as::<(String, String)>().fetch_one(db.pool()).await?;
    let statuses: Vec<StatusRef> =
        serde_json::from_str(&statuses).map_err(|_| DbError::Inconsistent("the statuses of a page"))?;
    let people: Vec<Person> =
        serde_json::from_str(&people).map_err(|_| DbError::Inconsistent("the people of a page"))?;
    let mut names: HashMap<UserId, String> = people.into_iter().map(|p| (p.id, p.display_name)).collect();
    Ok(Names {
        statuses: statuses.into_iter().map(|status| (status.id, status)).collect(),
        people: users
            .iter()
            .map(|id| {
                let display_name = names.remove(id).unwrap_or_else(|| "Former member".to_owned());
                (*id, Person { id: *id, display_name })
            })
            .collect(),
    })
}

/// The names a page of issues shows: statuses and people, looked up for the whole page at once, not
/// once per issue.
struct Names {
    statuses: HashMap<StatusId, StatusRef>,
    people: HashMap<UserId, Person>,
}

async fn names_for(db: &Db, visible: &[Visible<StoredIssue>]) -> Result<Names, DbError> {
    let Some(team_id) = visible.first().map(TeamScope::team_id) else {
        return Ok(Names { statuses: HashMap::new(), people: HashMap::new() });
    };
    // Every issue of a page comes from one finder call, so from one team.
    if visible.iter().any(|v| v.team_id() != team_id) {
        return Err(DbError::Inconsistent("issues of several teams in one page"));
    }
    let projects: BTreeSet<ProjectId> = visible.iter().map(|v| v.project_id).collect();
    let users: BTreeSet<UserId> =
        visible.iter().flat_map(|v| std::iter::once(v.reporter_id).chain(v.fields.assignees.iter().copied())).collect();
    names_of(db, team_id, &projects, &users).await
}

fn summary(names: &Names, stored: &StoredIssue) -> Result<IssueSummary, DbError> {
    let known = |user: &UserId| names.people.get(user).cloned().ok_or(DbError::Inconsistent("issues people"));
    let f = &stored.fields;
    Ok(IssueSummary {
        id: stored.id,
        project_id: stored.project_id,
        reference: format!("{}-{}", stored.key, stored.number),
        number: stored.number,
        title: f.title.clone(),
        kind: f.kind,
        severity: f.severity,
        priority: f.priority,
        visibility: f.visibility,
        status: names.statuses.get(&stored.status_id).cloned().ok_or(DbError::Inconsistent("issues.status_id"))?,
        reporter: known(&stored.reporter_id)?,
        assignees: f.assignees.iter().map(known).collect::<Result<Vec<_>, _>>()?,
        tags: f.tags.clone(),
        due_date: f.due_date.clone(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

/// What lists show of visible issues: no descriptions, so no Markdown to render.
pub async fn to_summaries(db: &Db, visible: Vec<Visible<StoredIssue>>) -> Result<Vec<IssueSummary>, DbError> {
    let names = names_for(db, &visible).await?;
    visible.iter().map(|v| summary(&names, v)).collect()
}

/// The whole wire form of visible issues, description rendered.
pub async fn to_issues(db: &Db, visible: Vec<Visible<StoredIssue>>) -> Result<Vec<Issue>, DbError> {
    let names = names_for(db, &visible).await?;
    let mut issues = Vec::with_capacity(visible.len());
    for visible in visible {
        let s = summary(&names, &visible)?;
        let rendered = visible.value.description_html;
        let f = visible.value.fields;
        issues.push(Issue {
            id: s.id,
            project_id: s.project_id,
            reference: s.reference,
            number: s.number,
            description_html: rendered.unwrap_or_else(|| to_safe_html(&f.description)),
            title: s.title,
            description: f.description,
            kind: s.kind,
            severity: s.severity,
            priority: s.priority,
            visibility: s.visibility,
            status: s.status,
            reporter: s.reporter,
            assignees: s.assignees,
            tags: s.tags,
            environment: f.environment,
            due_date: s.due_date,
            created_at: s.created_at,
            updated_at: s.updated_at,
        });
    }
    Ok(issues)
}

/// Builds the wire form of one visible issue.
pub async fn to_issue(db: &Db, visible: Visible<StoredIssue>) -> Result<Issue, DbError> {
    to_issues(db, vec![visible]).await?.pop().ok_or(DbError::Inconsistent("issues"))
}
