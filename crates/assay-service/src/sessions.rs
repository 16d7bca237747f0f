//! Console sessions and the browsing the console does: a token traded for a session, pages of
//! listings, of the review queue and of a listing's timeline, the version a new one is compared against, and waivers
//! ended early. Permissions are the API's: the same [`access`](crate::access) checks decide.

use assay_core::audit::AuditEvent;
use assay_core::identity::{Principal, VersionId};
use assay_core::listing::{ListingRecord, QueueEntry, VersionRecord};
use assay_core::waiver::WaiverRecord;

use crate::ServiceError;
use crate::access::{Permission, require};
use crate::service::Service;

/// A page of listings and how to ask for the next one.
#[derive(Debug, Clone)]
pub struct ListingPage {
    /// The listings on this page, by slug.
    pub listings: Vec<ListingRecord>,
    /// The cursor of the next page (the last slug shown), when there is one.
    pub next: Option<String>,
    /// How many listings the caller may see in all.
    pub total: i64,
}

/// A page of the review queue.
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// The versions on this page, longest-waiting first.
    pub entries: Vec<QueueEntry>,
    /// The cursor of the next page, when there is one.
    pub next: Option<(i64, VersionId)>,
    /// How many versions wait in all.
    pub total: i64,
}

/// A page of a listing's timeline.
#[derive(Debug, Clone)]
pub struct TimelinePage {
    /// The events on this page, newest first.
    pub events: Vec<AuditEvent>,
    /// The cursor of the next, older page (the last event's number), when there is one.
    pub older: Option<i64>,
}

/// The most a page holds, whatever the caller asks for.
const MAX_PAGE: i64 = 500;

/// Of the rows a store query returned for `limit + 1`, the page of at most `limit`, and the
/// cursor of the next page (taken from the page's last row) when the extra row says there is one.
fn split_page<T, C>(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> C) -> (Vec<T>, Option<C>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(cursor) } else { None };
    (rows, next)
}

impl Service {
    /// Trade API token `token` for a console session lasting `ttl_secs`: the session secret
    /// (for an HttpOnly cookie) and who it acts as.
    pub async fn open_session(&self, token: &str, ttl_secs: i64) -> Result<(String, Principal), ServiceError> {
        let opened = self.store().create_session(token.trim(), self.now(), ttl_secs).await?;
        let (session, principal) = opened.ok_or(ServiceError::Unauthenticated)?;
        tracing::info!(actor = %principal.actor, "console session opened");
        Ok((session, principal))
    }

    /// Who a live console session acts as.
    pub async fn session(&self, session: &str) -> Result<Principal, ServiceError> {
        self.store().session(session, self.now()).await?.ok_or(ServiceError::Unauthenticated)
    }

    /// End a console session (signing out twice is not an error).
    pub async fn close_session(&self, session: &str) -> Result<(), ServiceError> {
        self.store().end_session(session).await?;
        Ok(())
    }

    /// A page of at most `limit` of the listings the caller may see whose slug starts with
    /// `prefix`, after slug `after`.
    pub async fn listings_page(
        &self,
        who: &Principal,
        prefix: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<ListingPage, ServiceError> {
        let owner = crate::access::owner_scope(who)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store().listings_page(owner, prefix, after, limit + 1).await?;
        let (listings, next) = split_page(rows, limit, |l| l.slug.clone());
        let total = self.store().count_listings(owner).await?;
        Ok(ListingPage { listings, next, total })
    }

    /// A page of at most `limit` versions waiting for a reviewer, longest-waiting first.
    pub async fn review_queue_page(
        &self,
        who: &Principal,
        after: Option<(i64, VersionId)>,
        limit: i64,
    ) -> Result<QueuePage, ServiceError> {
        require(who, Permission::SeeOperations)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store().review_queue_page(after, limit + 1).await?;
        let (entries, next) = split_page(rows, limit, |e| (e.waiting_since, e.id));
        Ok(QueuePage { entries, next, total: self.store().count_waiting().await? })
    }

    /// A page of at most `limit` events of a listing's timeline, newest first, older than event
    /// `before` when given.
    pub async fn timeline_page(
        &self,
        who: &Principal,
        slug: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<TimelinePage, ServiceError> {
        self.listing(who, slug).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store().listing_events_page(slug, before, limit + 1).await?;
        let (events, older) = split_page(rows, limit, |e| e.seq);
        Ok(TimelinePage { events, older })
    }

    /// The version a reviewer compares `record` with: the listing's latest earlier version a
    /// reviewer approved. The caller must be able to see the listing.
    pub async fn last_approved(
        &self,
        who: &Principal,
        record: &VersionRecord,
    ) -> Result<Option<VersionRecord>, ServiceError> {
        self.listing(who, &record.slug).await?;
        Ok(self.store().last_approved(&record.slug, record.id).await?)
    }

    /// A reviewer ends a waiver now, with a note saying why; the findings it covered count
    /// again from now on.
    pub async fn expire_waiver(
        &self,
        who: &Principal,
        slug: &str,
        id: i64,
        note: &str,
    ) -> Result<WaiverRecord, ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, slug).await?;
        if note.trim().is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        Ok(self.store().expire_waiver(&who.actor, slug, id, self.now(), note).await?)
    }
}
