//! Why a use case refused or failed. The server maps each variant to a status and a stable code.

use assay_core::identity::{Capability, Scope};
use assay_core::{ManifestError, VersionState};
use assay_store::StoreError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No valid token.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The token expired at this time (Unix seconds).
    #[error("the token expired at {}; create a new one", crate::error::timestamp(*.0))]
    TokenExpired(i64),
    /// The token was revoked at this time (Unix seconds).
    #[error("the token was revoked at {}", crate::error::timestamp(*.0))]
    TokenRevoked(i64),
    /// The token's person left their organisation at this time (Unix seconds).
    #[error("the token's owner left their organisation at {}; its tokens no longer work", crate::error::timestamp(*.0))]
    OwnerLeft(i64),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's role may do this, but the token lacks the scope.
    #[error("the token lacks the `{0}` scope; create one that has it")]
    InsufficientScope(Scope),
    /// The caller's partner is suspended: it can create and submit nothing until restored.
    #[error("the partner is suspended; nothing can be created or submitted until the platform restores it")]
    PartnerSuspended,
    /// The change would leave a partner without an owner.
    #[error("{0}")]
    LastOwner(String),
    /// The partner lacks a capability the operation needs.
    #[error("the partner does not hold the `{0}` capability")]
    CapabilityRequired(Capability),
    /// Nothing the caller may see has this identity.
    #[error("{0} not found")]
    NotFound(String),
    /// It exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// The manifest does not parse or validate.
    #[error("the manifest is invalid: {0}")]
    InvalidManifest(Box<ManifestError>),
    /// A request field is invalid.
    #[error("{message}")]
    Invalid {
        /// A JSON Pointer to the field (into the manifest or the request body).
        pointer: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A partner check component was refused.
    #[error("check `{name}` was refused: {message}")]
    InvalidPlugin {
        /// Its file name.
        name: String,
        /// Why.
        message: String,
    },
    /// Another decision won; the version is now in `current`.
    #[error("the version changed concurrently; it is now {current}")]
    Conflict {
        /// Its state now.
        current: VersionState,
    },
    /// The action is not possible from the version's state.
    #[error("{message}")]
    NotAllowed {
        /// Why, naming the state.
        message: String,
        /// Its state now.
        current: VersionState,
    },
    /// A decision or waiver needs a note.
    #[error("a note saying why is required")]
    NoteRequired,
    /// Another decision came first (an exception, an appeal).
    #[error("{0}")]
    AlreadyDecided(String),
    /// A notice or schedule breaks a lifecycle policy rule.
    #[error(transparent)]
    Policy(assay_core::policy::PolicyViolation),
    /// The service is saturated; the request can be repeated unchanged.
    #[error("{message}")]
    Busy {
        /// What is saturated, and what to do.
        message: String,
        /// When to try again, in seconds.
        retry_after_secs: u64,
    },
    /// The operation needs something to finish first (a shadow re-check); try again later.
    #[error("{0}")]
    NotReady(String),
    /// Something underneath failed (the database, a stored pack that no longer loads); the
    /// cause is for the log, never for the caller.
    #[error("the service failed")]
    Internal(#[source] Internal),
}

impl ServiceError {
    /// [`ServiceError::Invalid`]: the field at `pointer`, and what is wrong with it.
    pub fn invalid(pointer: &str, message: String) -> ServiceError {
        ServiceError::Invalid { pointer: pointer.to_owned(), message }
    }
}

/// An error and its sources, `: `-separated, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists(what) => ServiceError::Exists(what),
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict { current } => ServiceError::Conflict { current },
            StoreError::NoteRequired => ServiceError::NoteRequired,
            StoreError::AlreadyDecided(what) => ServiceError::AlreadyDecided(what),
            e @ StoreError::LastOwner(_) => ServiceError::LastOwner(e.to_string()),
            other => ServiceError::Internal(Internal(Box::new(other))),
        }
    }
}

/// The cause of a [`ServiceError::Internal`]: opaque, so no store or host type reaches callers;
/// its `Display` and `source` chain are for the log.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Internal(Box<dyn std::error::Error + Send + Sync>);

impl ServiceError {
    /// An internal failure with `cause`.
    pub(crate) fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> ServiceError {
        ServiceError::Internal(Internal(Box::new(cause)))
    }
}

/// Unix seconds as RFC 3339, for messages.
pub(crate) fn timestamp(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}
