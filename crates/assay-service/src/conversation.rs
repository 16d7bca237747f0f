//! The conversation on a version, and holds.
//!
//! Members of the listing's partner who submit (owners, developers) and staff exchange plain-text
//! messages on a version; staff can also write internal notes partners never see. A reviewer
//! can put a version that awaits review on hold, with a reason the partner reads ("waiting for
//! a test account"); the hold stops the review clock until it is released — by a reviewer, or
//! by the version's next decision or move. Every message and hold is audited (internal notes
//! off the listing's timeline, which partners read).

use assay_core::VersionState;
use assay_core::conversation::{Hold, MAX_MESSAGE_CHARS, MAX_REASON_CHARS, Message};
use assay_core::identity::Principal;

use crate::access::{Permission, require, require_owner};
use crate::{Service, ServiceError};

pub use assay_core::conversation::{Hold as VersionHold, Message as VersionMessage};

/// `text` trimmed, or why it cannot be taken: empty, or longer than `max` characters (the
/// field at `pointer`, described as `what`).
pub(crate) fn bounded(text: &str, pointer: &str, what: &str, max: usize) -> Result<String, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ServiceError::invalid(pointer, format!("{what} is required")));
    }
    if text.chars().count() > max {
        return Err(ServiceError::invalid(pointer, format!("{what} is longer than {max} characters")));
    }
    Ok(text.to_owned())
}

impl Service {
    /// Write on a version's conversation: a partner member who submits for the listing, or
    /// staff (`internal`: a note only staff read).
    pub async fn post_message(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        body: &str,
        internal: bool,
    ) -> Result<Message, ServiceError> {
        let listing = self.listing(who, slug).await?;
        require(who, Permission::Converse)?;
        if !who.is_staff() {
            require_owner(who, &listing, Permission::Submit)?;
            if internal {
                return Err(ServiceError::invalid("/internal", "internal notes are for staff".into()));
            }
        }
        let body = bounded(body, "/body", "the message", MAX_MESSAGE_CHARS)?;
        self.version_record(slug, version).await?;
        let at = self.clock.now();
        Ok(self.store.post_message(&who.actor, slug, version, who.is_staff(), internal, &body, at).await?)
    }

    /// A version's conversation, oldest first (staff also read the internal notes).
    pub async fn messages(&self, who: &Principal, slug: &str, version: &str) -> Result<Vec<Message>, ServiceError> {
        self.listing(who, slug).await?;
        self.version_record(slug, version).await?;
        Ok(self.store.messages(slug, version, who.is_staff()).await?)
    }

    /// A reviewer puts a version awaiting review on hold, with a reason the partner reads.
    pub async fn place_hold(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        reason: &str,
    ) -> Result<Hold, ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, slug).await?;
        let reason = bounded(reason, "/reason", "the reason", MAX_REASON_CHARS)?;
        let record = self.version_record(slug, version).await?;
        if record.state != VersionState::AwaitingReview {
            return Err(ServiceError::NotAllowed {
                message: format!("only a version awaiting review is put on hold; {slug} {version} is {}", record.state),
                current: record.state,
            });
        }
        match self.store.place_hold(&who.actor, slug, version, &reason, self.clock.now()).await {
            Err(assay_store::StoreError::Exists(_)) => {
                Err(ServiceError::AlreadyDecided(format!("{slug} {version} is on hold already; release it first")))
            }
            other => Ok(other?),
        }
    }

    /// A reviewer releases a version's hold; the review clock runs again.
    pub async fn release_hold(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        note: &str,
    ) -> Result<Hold, ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, slug).await?;
        let record = self.version_record(slug, version).await?;
        let note = if note.trim().is_empty() { "released" } else { note.trim() };
        let released = self.store.release_hold(&who.actor, slug, version, note, self.clock.now()).await?;
        let released = released.ok_or_else(|| ServiceError::NotAllowed {
            message: format!("{slug} {version} is not on hold"),
            current: record.state,
        })?;
        record_hold(&released);
        Ok(released)
    }

    /// A version's holds, oldest first; the last one holds if it has not been released.
    pub async fn holds(&self, who: &Principal, slug: &str, version: &str) -> Result<Vec<Hold>, ServiceError> {
        self.listing(who, slug).await?;
        self.version_record(slug, version).await?;
        Ok(self.store.holds(slug, version).await?)
    }

    /// A decision or move ends the version's hold, if it has one: the wait is over.
    pub(crate) async fn end_hold(&self, who: &Principal, slug: &str, version: &str, why: &str) {
        match self.store.release_hold(&who.actor, slug, version, why, self.clock.now()).await {
            Ok(Some(released)) => record_hold(&released),
            Ok(None) => {}
            Err(e) => tracing::warn!(%slug, %version, error = %e, "could not release the hold of a decided version"),
        }
    }
}

/// A released hold's span, for the time-on-hold histogram.
fn record_hold(hold: &Hold) {
    if let Some((_, at)) = &hold.released {
        metrics::histogram!("assay_review_hold_seconds").record((at - hold.placed_at).max(0) as f64);
    }
}
