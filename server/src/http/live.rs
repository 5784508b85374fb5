//! `GET /live`: Server-Sent Events for a signed-in browser. Events are hints without content: `inbox`
//! (data: the unread count) when the person's inbox has a new entry they may read, and `issue` (data:
//! the issue's id) when the issue the page follows (`?issue=<id>`) had activity they may hear of. The
//! page then reads what changed through the server functions, with its reader's rules.
//!
//! Each event's id is `<newest inbox entry>.<latest issue activity>`; a browser reconnecting sends it
//! as `Last-Event-ID` and hears only of what it missed. The session is read again on every wake (a
//! hint, or every [`RECHECK`]): a signed-out session, a removed member or a switched team ends or
//! re-scopes the stream. Connections are bounded per person and per instance (`live::Hub`), a comment
//! line every 15 s keeps proxies from closing them, and one whose client stops reading is dropped.

use std::{collections::HashMap, convert::Infallible, sync::Arc, time::Duration};

use app::{
    error::{AppError, ErrorCode},
    model::IssueId,
};
use axum::{
    body::Body,
    extract::{Query, Request, State},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tower_sessions::{session::Id, Session};

use super::{error_response, AppState};
use crate::{
    actor::Actor,
    db::notifications,
    notify::live::{Connection, Refused},
};

/// How often a connection looks again without a hint (other instances' activity, a session ended).
const RECHECK: Duration = Duration::from_secs(10);
/// How long an event may wait for a client that does not read before the connection is dropped.
const SLOW_READER: Duration = Duration::from_secs(30);

/// Where a connection stands: what the client has been told.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Seen {
    inbox: i64,
    issue: i64,
}

impl Seen {
    fn parse(id: &str) -> Option<Self> {
        let (inbox, issue) = id.split_once('.')?;
        Some(Self { inbox: inbox.parse().ok()?, issue: issue.parse().ok()? })
    }

    fn id(self) -> String {
        format!("{}.{}", self.inbox, self.issue)
    }
}

pub async fn live(State(state): State<AppState>, request: Request<Body>) -> Response {
    let Ok(Query(query)) = Query::<HashMap<String, String>>::try_from_uri(request.uri()) else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The live address is not valid."));
    };
    let issue = match query.get("issue").map(|id| id.parse::<IssueId>()) {
        None => None,
        Some(Ok(issue)) => Some(issue),
        Some(Err(_)) => return error_response(&AppError::field("issue", "Not an issue id.")),
    };
    let seen = request.headers().get("last-event-id").and_then(|v| v.to_str().ok()).and_then(Seen::parse);
    let (parts, _) = request.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::unauthenticated());
    };
    let actor = match state.service.live_actor(&session).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return error_response(&AppError::unauthenticated()),
        Err(e) => return error_response(&e),
    };
    let Some(session_id) = session.id() else { return error_response(&AppError::unauthenticated()) };
    let place = match state.live.open(actor.user_id()) {
        Ok(place) => place,
        Err(Refused::PerUser) => {
            let message = "You have too many live connections open: close some tabs of Moth.";
            return error_response(&AppError::new(ErrorCode::RateLimited, message));
        }
        Err(Refused::Instance) => {
            let message = "The server holds as many live connections as it can; the page will try again.";
            return error_response(&AppError::new(ErrorCode::Unavailable, message));
        }
    };
    let (events, stream) = mpsc::channel(4);
    let follower = Follower { state, session_id, issue, place, events };
    tokio::spawn(follower.run(actor, seen));
    Sse::new(ReceiverStream::new(stream)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

/// The task behind one connection.
struct Follower {
    state: AppState,
    session_id: Id,
    issue: Option<IssueId>,
    /// The connection's place (freed when the task ends).
    #[allow(dead_code)]
    place: Connection,
    events: mpsc::Sender<Result<Event, Infallible>>,
}

impl Follower {
    async fn run(self, mut actor: Actor, seen: Option<Seen>) {
        let mut hints = self.state.live.subscribe();
        // Without `Last-Event-ID` the page has just read everything: it learns the count, and of
        // issue activity from now on.
        let mut told = match seen {
            Some(seen) => seen,
            None => match self.now(&actor).await {
                Some(now) => Seen { inbox: -1, issue: now.issue },
                None => return,
            },
        };
        loop {
            // The database is read in turn with the instance's other connections (`Hub::checking`).
            let turn = self.state.live.checking().await;
            let Some(now) = self.now(&actor).await else { return };
            let unread = if now.inbox == told.inbox {
                None
            } else {
                let scope = notifications::scope_of(&actor);
                let Ok(unread) = notifications::unread(&self.state.db, &scope, actor.user_id()).await else { return };
                Some(unread)
            };
            drop(turn);
            if let Some(unread) = unread {
                told.inbox = now.inbox;
                if !self.send(Event::default().event("inbox").id(told.id()).data(unread.to_string())).await {
                    return;
                }
            }
            if let (Some(issue), true) = (self.issue, now.issue != told.issue) {
                told.issue = now.issue;
                if !self.send(Event::default().event("issue").id(told.id()).data(issue.to_string())).await {
                    return;
                }
            }
            if !self.wait(&mut hints, &actor).await {
                return;
            }
            // The session and membership as they are now: signed out or removed ends the stream.
            let turn = self.state.live.checking().await;
            let now = self.actor_now().await;
            drop(turn);
            actor = match now {
                Some(now) if now.user_id() == actor.user_id() => now,
                _ => return,
            };
        }
    }

    /// What the actor may hear of now; `None` if the database cannot say (the stream ends; the
    /// browser reconnects).
    async fn now(&self, actor: &Actor) -> Option<Seen> {
        let scope = notifications::scope_of(actor);
        let db = &self.state.db;
        let inbox = notifications::newest(db, &scope, actor.user_id()).await.ok()?;
        let issue = match self.issue {
            Some(issue) => notifications::issue_activity(db, &scope, issue).await.ok()?,
            None => 0,
        };
        Some(Seen { inbox, issue })
    }

    /// Waits for a hint that concerns this connection, or for the recheck; false once the client left.
    async fn wait(
        &self,
        hints: &mut tokio::sync::broadcast::Receiver<crate::notify::live::Hint>,
        actor: &Actor,
    ) -> bool {
        let recheck = tokio::time::sleep(RECHECK);
        tokio::pin!(recheck);
        loop {
            tokio::select! {
                () = self.events.closed() => return false,
                () = &mut recheck => return true,
                hint = hints.recv() => match hint {
                    Ok(hint) => {
                        let mine = hint.team == actor.team_id()
                            && (hint.users.contains(&actor.user_id()) || Some(hint.issue) == self.issue);
                        if mine {
                            return true;
                        }
                    }
                    Err(RecvError::Lagged(_)) => return true,
                    Err(RecvError::Closed) => return false,
                },
            }
        }
    }

    async fn actor_now(&self) -> Option<Actor> {
        let store = Arc::new(self.state.session_store.clone());
        let session = Session::new(Some(self.session_id), store, None);
        self.state.service.live_actor(&session).await.ok().flatten()
    }

    /// Sends an event; false if the client left or has not read for [`SLOW_READER`].
    async fn send(&self, event: Event) -> bool {
        matches!(tokio::time::timeout(SLOW_READER, self.events.send(Ok(event))).await, Ok(Ok(())))
    }
}
