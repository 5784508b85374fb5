//! Who reads what, written once as SQL.
//!
//! [`ReadScope`] is the reader's rule ([`Reader`]) and the team, made only from an [`Actor`] or a
//! [`PublishedProject`]. It appends its own predicates, with their values, to a [`Statement`], which
//! numbers its own placeholders (`$1`, `$2`, ... as both backends take them through sqlx's `Any`
//! driver), so no query refers to a scope's parameter by position and no caller binds a scope by hand.
//!
//! The predicates name fixed aliases: `p` for `projects`, `i` for `issues`, `c` for `comments`, `h`
//! for `issue_history`. What each reader reads:
//!
//! | reader    | projects                              | issues                        | comments | history                    |
//! |-----------|---------------------------------------|-------------------------------|----------|----------------------------|
//! | Manager   | every project of the team             | all                           | all      | all                        |
//! | Member    | the projects they belong to           | all                           | all      | all                        |
//! | Guest     | the public projects they belong to    | public ones and their own     | public   | own reports: all; others: recorded while public |
//! | Anonymous | the one published project             | public ones                   | public   | none                       |

use app::model::{Project, ProjectId, TeamId, UserId};
use sqlx::{any::AnyArguments, error::BoxDynError, Any, Arguments, Encode, Type};

use super::{Db, DbError, TeamScope};
use crate::{
    actor::Actor,
    policy::{HistoryShown, Reader},
};

/// A SQL statement and its values. Its text is made only of `&'static str` pieces, so nothing a
/// client sends becomes SQL; every value goes in through [`Statement::bind`], which writes the
/// placeholder of its place.
pub struct Statement {
    text: String,
    arguments: Option<Result<AnyArguments<'static>, BoxDynError>>,
    count: usize,
}

impl Statement {
    pub fn new(text: &'static str) -> Self {
        Self { text: text.to_owned(), arguments: Some(Ok(AnyArguments::default())), count: 0 }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &'static str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the placeholder of a value and binds it.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        self.count += 1;
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        if let Some(Ok(arguments)) = &mut self.arguments {
            if let Err(e) = arguments.add(value) {
                self.arguments = Some(Err(e));
            }
        }
        self
    }

    /// Appends `$a, $b, ...`, one placeholder per value, for an `IN (...)`.
    pub fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        for (n, value) in values.into_iter().enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self
    }

    /// The text as it is sent.
    pub fn sql(&self) -> &str {
        &self.text
    }

    /// The statement as a query returning rows of `O`. A statement runs once: its values go with it.
    pub fn query_as<O>(&mut self) -> sqlx::query::QueryAs<'_, Any, O, AnyArguments<'_>>
    where
        O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.take_arguments();
        sqlx_core::query_as::query_as_with_result(&self.text, arguments)
    }

    /// The statement as a query returning one value per row.
    pub fn query_scalar<O>(&mut self) -> sqlx::query::QueryScalar<'_, Any, O, AnyArguments<'_>>
    where
        (O,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.take_arguments();
        sqlx_core::query_scalar::query_scalar_with_result(&self.text, arguments)
    }

    /// The statement as a query whose rows are read by hand (or not at all).
    pub fn query(&mut self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        let arguments = self.take_arguments();
        sqlx_core::query::query_with_result(&self.text, arguments)
    }

    fn take_arguments(&mut self) -> Result<AnyArguments<'static>, BoxDynError> {
        self.arguments.take().unwrap_or_else(|| Err("a statement runs once".into()))
    }
}

/// A published project, found by its id alone: the capability for anonymous, read-only access to its
/// public issues and comments. Only [`find_published`] makes one.
#[derive(sqlx::FromRow)]
pub struct PublishedProject {
    team_id: app::model::TeamId,
    #[sqlx(flatten)]
    pub project: Project,
}

impl TeamScope for PublishedProject {
    fn team_id(&self) -> app::model::TeamId {
        self.team_id
    }
}

/// The project with this id if it is published and not archived.
pub async fn find_published(db: &Db, id: ProjectId) -> Result<Option<PublishedProject>, DbError> {
    Ok(sqlx::query_as(
        "SELECT team_id, id, key, name, description, visibility, published, archived, created_at FROM projects \
         WHERE id = $1 AND published = 1 AND archived = 0 AND visibility = 'public'",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// What a reader may read, and of which team. See the module's table.
#[derive(Clone, Copy, Debug)]
pub struct ReadScope {
    team: TeamId,
    reader: Reader,
    /// The published project an anonymous reader reads (the only project they may).
    published: Option<ProjectId>,
}

impl ReadScope {
    pub fn of(actor: &Actor) -> Self {
        Self { team: actor.team_id(), reader: Reader::of(actor), published: None }
    }

    pub fn published(project: &PublishedProject) -> Self {
        Self {
            team: super::TeamScope::team_id(project),
            reader: Reader::Anonymous,
            published: Some(project.project.id),
        }
    }

    /// The scope of a notification's recipient, from their membership as it is when the notification
    /// is delivered or read ([`crate::db::notifications`] reads it; nothing else makes one).
    pub(in crate::db) fn recipient(team: TeamId, user: UserId, role: app::model::Role) -> Self {
        Self { team, reader: Reader::member(user, role), published: None }
    }

    /// A scope to show query plans with (`EXPLAIN` statements only: see [`explain`]).
    fn for_plans(team: TeamId, reader: Reader) -> Self {
        Self { team, reader, published: None }
    }

    pub fn team(&self) -> TeamId {
        self.team
    }

    pub fn reader(&self) -> Reader {
        self.reader
    }

    /// The published project an anonymous reader reads, if this is such a scope.
    pub fn published_project(&self) -> Option<ProjectId> {
        self.published
    }

    /// The projects `p` the reader may read.
    pub fn projects(&self, s: &mut Statement) {
        s.push("p.team_id = ").bind(self.team);
        match (self.reader, self.published) {
            (Reader::Manager(_), _) => {}
            (Reader::Member(user), _) => member_of_project(s, user),
            (Reader::Guest(user), _) => {
                member_of_project(s, user);
                s.push(" AND p.visibility = 'public'");
            }
            (Reader::Anonymous, Some(project)) => {
                s.push(" AND p.id = ").bind(project);
                s.push(" AND p.published = 1 AND p.archived = 0 AND p.visibility = 'public'");
            }
            // An anonymous reader without a published project reads nothing (fail closed).
            (Reader::Anonymous, None) => {
                s.push(" AND 1 = 0");
            }
        }
    }

    /// The live issues `i` the reader may read, of a project that [`ReadScope::projects`] allows.
    pub fn issues(&self, s: &mut Statement) {
        s.push("i.team_id = ").bind(self.team).push(" AND i.deleted_at IS NULL");
        match self.reader {
            Reader::Manager(_) | Reader::Member(_) => {}
            Reader::Guest(user) => {
                s.push(" AND (i.visibility = 'public' OR i.reporter_id = ").bind(user).push(")");
            }
            Reader::Anonymous => {
                s.push(" AND i.visibility = 'public'");
            }
        }
    }

    /// The live comments `c` the reader may read, of an issue they may read. A comment's visibility is
    /// fixed when it is posted.
    pub fn comments(&self, s: &mut Statement) {
        s.push("c.team_id = ").bind(self.team).push(" AND c.deleted_at IS NULL");
        if !self.reader.sees_internal() {
            s.push(" AND c.visibility = 'public'");
        }
    }

    /// The text columns of an issue `i` a reader's search may match: its title and description, and
    /// the copies of its tags and comments (migrations 0027 and 0028) that the reader may read
    /// ([`ReadScope::comments`]'s rule: internal comments for members only).
    pub fn searched_columns(&self) -> &'static [&'static str] {
        if self.reader.sees_internal() {
            &["title", "description", "search_public", "search_internal"]
        } else {
            &["title", "description", "search_public"]
        }
    }

    /// The entries `h` of the history of an issue reported by `reporter` that the reader may read
    /// ([`Reader::history_of`]).
    pub fn history(&self, s: &mut Statement, reporter: UserId) {
        s.push("h.team_id = ").bind(self.team);
        match self.reader.history_of(reporter) {
            HistoryShown::All => {}
            HistoryShown::RecordedWhilePublic => {
                s.push(" AND h.public_throughout = 1");
            }
            HistoryShown::None => {
                s.push(" AND 1 = 0");
            }
        }
    }
}

fn member_of_project(s: &mut Statement, user: UserId) {
    s.push(" AND EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = ")
        .bind(user)
        .push(")");
}

/// Query plans of statements built for a made-up scope. Each statement starts with `EXPLAIN`, so
/// it shows how the database would read and reads nothing itself.
pub mod explain {
    use super::{ReadScope, Statement};
    use crate::{db::Backend, policy::Reader};
    use app::model::{TeamId, UserId};

    /// The kinds of signed-in reader a plan is shown for.
    #[derive(Clone, Copy, Debug)]
    pub enum PlanReader {
        Manager,
        Member,
        Guest,
    }

    impl PlanReader {
        pub const ALL: [PlanReader; 3] = [PlanReader::Manager, PlanReader::Member, PlanReader::Guest];
    }

    /// A scope of `reader` in `team`, and an empty `EXPLAIN` statement of `backend` to build on.
    pub(crate) fn start(backend: Backend, team: TeamId, user: UserId, reader: PlanReader) -> (ReadScope, Statement) {
        let reader = match reader {
            PlanReader::Manager => Reader::Manager(user),
            PlanReader::Member => Reader::Member(user),
            PlanReader::Guest => Reader::Guest(user),
        };
        (ReadScope::for_plans(team, reader), statement(backend))
    }

    /// An empty `EXPLAIN` statement of `backend`.
    pub(crate) fn statement(backend: Backend) -> Statement {
        Statement::new(match backend {
            Backend::Sqlite => "EXPLAIN QUERY PLAN ",
            Backend::Postgres => "EXPLAIN ",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Statement;

    #[test]
    fn a_statement_numbers_its_own_placeholders() {
        let mut s = Statement::new("SELECT 1 WHERE a = ");
        s.bind(1_i64).push(" AND b IN (").bind_list(["x".to_owned(), "y".to_owned()]).push(")");
        assert_eq!(s.sql(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
    }
}
