//! The service layer's error: anything that went wrong inside the server. It becomes an
//! [`AppError::internal`] for the client, after being logged here with its details.

use app::error::AppError;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("CSV export: {0}")]
    Csv(#[from] csv::Error),
    #[error("request has no session layer")]
    NoSession,
    /// A bounded pool (password hashing) stayed full for as long as a request may wait.
    #[error("busy")]
    Busy,
}

/// A 500 for the client, logged here, once, with what failed and why. Every internal error of the
/// server becomes one through this function or through [`ServiceError`] (`code_shape.rs` holds it).
pub fn internal(what: &'static str, cause: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %cause, "{what}");
    AppError::internal()
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Busy => {
                tracing::warn!("refused: the password hashing pool is busy");
                busy()
            }
            // Nothing was written; the client may try again, as it is told (503, `Retry-After`).
            ServiceError::Db(e) if e.is_busy() => {
                tracing::warn!(error = %e, "refused: the database is busy");
                busy()
            }
            ServiceError::Db(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "refused: the database cannot be reached");
                database_unavailable()
            }
            ServiceError::Session(tower_sessions::session::Error::Store(
                tower_sessions::session_store::Error::Backend(message),
            )) if message == crate::db::sessions::DATABASE_UNAVAILABLE => database_unavailable(),
            e => internal("internal error", e),
        }
    }
}

/// The database went away (a failover, a restart): what was asked may or may not have been done if
/// the connection broke during its commit, so the client retries, with the same `Idempotency-Key`
/// where the API takes one (503, `Retry-After`).
fn database_unavailable() -> AppError {
    AppError::new(
        app::error::ErrorCode::Unavailable,
        "Moth cannot reach its database just now. Please try again in a moment.",
    )
}

fn busy() -> AppError {
    AppError::new(app::error::ErrorCode::Busy, "Moth is busy. Please try again in a moment.")
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        ServiceError::Db(e).into()
    }
}
