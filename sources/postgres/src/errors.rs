//! Database errors as one readable line: sqlx repeats the server's message (with the line
//! of PostgreSQL's C source) in its cause, which reads badly in a `{:#}` chain.

use sqlx::postgres::PgDatabaseError;
use std::fmt;

/// A driver error, shown once: `relation "factures" does not exist (SQLSTATE 42P01)`.
#[derive(Debug)]
pub struct DbError(pub sqlx::Error);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            sqlx::Error::Database(db) => {
                f.write_str(db.message())?;
                if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                    if let Some(detail) = pg.detail() {
                        write!(f, " ({detail})")?;
                    }
                    if let Some(hint) = pg.hint() {
                        write!(f, "; hint: {hint}")?;
                    }
                }
                match db.code() {
                    Some(code) => write!(f, " (SQLSTATE {code})"),
                    None => Ok(()),
                }
            }
            sqlx::Error::Io(io) => write!(f, "{io}"),
            other => write!(f, "{other}"),
        }
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            // Their text is all in the message above.
            sqlx::Error::Database(_) | sqlx::Error::Io(_) => None,
            other => std::error::Error::source(other),
        }
    }
}
