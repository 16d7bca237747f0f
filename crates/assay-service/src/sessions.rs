//! Console sessions and the browsing the console does: a token traded for a session, pages of
//! listings and of the review queue, the version a new one is compared against, and waivers
//! ended early. Permissions are the API's: the same [`access`](crate::access) checks decide.

use assay_store::{ListingRecord, Principal, QueueEntry, Role, VersionId, VersionRecord, WaiverRecord};

use crate::ServiceError;
use crate::access::require_role;
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
        let limit = limit.clamp(1, 500);
        let mut listings = self.store().listings_page(owner, prefix, after, limit + 1).await?;
        let more = listings.len() as i64 > limit;
        listings.truncate(limit as usize);
        let next = if more { listings.last().map(|l| l.slug.clone()) } else { None };
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
        require_role(who, &[Role::Reviewer, Role::Admin], "see the review queue")?;
        let limit = limit.clamp(1, 500);
        let mut entries = self.store().review_queue_page(after, limit + 1).await?;
        let more = entries.len() as i64 > limit;
        entries.truncate(limit as usize);
        let next = if more { entries.last().map(|e| (e.waiting_since, e.id)) } else { None };
        Ok(QueuePage { entries, next, total: self.store().count_waiting().await? })
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
        require_role(who, &[Role::Reviewer], "expire waivers")?;
        self.listing(who, slug).await?;
        if note.trim().is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        Ok(self.store().expire_waiver(&who.actor, slug, id, self.now(), note).await?)
    }
}
