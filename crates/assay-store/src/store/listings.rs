//! Listings as callers browse them, and the review queue.

use assay_core::{Verdict, VersionState};

use super::{Count, Store, StoreError, corrupt};
use crate::model::{ListingId, PartnerId, VersionId};
pub use assay_core::listing::{ListingRecord, QueueEntry};

/// The [`ListingRow`] columns of listings `l` and their partner `p`.
macro_rules! listing_columns {
    () => {
        "l.id, l.slug, l.name, l.partner_id, p.name AS partner_name, l.auto_release"
    };
}

/// Listings with their partner's name and their versions (in order), then `$rest`: rows of
/// [`ListingVersionRow`].
macro_rules! select_listings {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            listing_columns!(),
            ", v.version, v.state FROM listings l \
             JOIN partners p ON p.id = l.partner_id LEFT JOIN versions v ON v.listing_id = l.id ",
            $rest,
            " ORDER BY l.slug, v.id"
        )
    };
}

/// A listing and its partner's name ([`listing_columns!`]).
#[derive(sqlx::FromRow)]
struct ListingRow {
    id: i64,
    slug: String,
    name: String,
    partner_id: i64,
    partner_name: String,
    auto_release: i64,
}

impl ListingRow {
    fn record(self) -> ListingRecord {
        ListingRecord {
            id: ListingId(self.id),
            slug: self.slug,
            name: self.name,
            partner: PartnerId(self.partner_id),
            partner_name: self.partner_name,
            versions: Vec::new(),
            auto_release: self.auto_release != 0,
        }
    }
}

/// A listing with one of its versions, if it has any ([`select_listings!`]).
#[derive(sqlx::FromRow)]
struct ListingVersionRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    version: Option<String>,
    state: Option<String>,
}

/// A version of one of a page's listings.
#[derive(sqlx::FromRow)]
struct PageVersionRow {
    listing_id: i64,
    version: String,
    state: String,
}

/// A version waiting for a reviewer.
/// `SELECT` every [`QueueRow`] column `FROM versions v` with its listing `l` and partner `p`.
macro_rules! select_queue {
    () => {
        "SELECT l.slug, v.version, p.name AS partner_name, v.updated_at, \
         (SELECT r.verdict FROM review_runs r WHERE r.version_id = v.id ORDER BY r.id DESC LIMIT 1) AS verdict, v.id, \
         (SELECT a.assignee FROM review_assignments a WHERE a.version_id = v.id) AS assignee, \
         (SELECT h.reason FROM holds h WHERE h.version_id = v.id AND h.released_at IS NULL) AS hold_reason, \
         (SELECT h.placed_at FROM holds h WHERE h.version_id = v.id AND h.released_at IS NULL) AS hold_since, \
         (SELECT CAST(COALESCE(SUM(h.released_at - h.placed_at), 0) AS BIGINT) FROM holds h \
          WHERE h.version_id = v.id AND h.released_at IS NOT NULL AND h.placed_at >= v.updated_at) AS held_secs \
         FROM versions v JOIN listings l ON l.id = v.listing_id JOIN partners p ON p.id = l.partner_id"
    };
}

/// A queue entry with its place: how many wait before it, and in all.
#[derive(sqlx::FromRow)]
struct PlaceRow {
    before: i64,
    waiting: i64,
    #[sqlx(flatten)]
    entry: QueueRow,
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: i64,
    slug: String,
    version: String,
    partner_name: String,
    updated_at: i64,
    /// Its latest review's, if it has one.
    verdict: Option<String>,
    assignee: Option<String>,
    hold_reason: Option<String>,
    hold_since: Option<i64>,
    held_secs: i64,
}

impl QueueRow {
    fn entry(self) -> Result<QueueEntry, StoreError> {
        Ok(QueueEntry {
            id: VersionId(self.id),
            slug: self.slug,
            version: self.version,
            partner_name: self.partner_name,
            waiting_since: self.updated_at,
            verdict: self.verdict.map(|v| v.parse::<Verdict>()).transpose().map_err(corrupt)?,
            assignee: self.assignee,
            hold: self.hold_reason.zip(self.hold_since),
            held_secs: self.held_secs,
        })
    }
}

/// A partner's capabilities, as stored.
#[derive(sqlx::FromRow)]
struct CapabilitiesRow {
    capabilities: String,
}

impl Store {
    /// One listing by slug.
    pub async fn listing(&self, slug: &str) -> Result<Option<ListingRecord>, StoreError> {
        let rows = sqlx::query_as::<_, ListingVersionRow>(select_listings!("WHERE l.slug = $1"))
            .bind(slug)
            .fetch_all(&self.pool)
            .await?;
        Ok(listing_records(rows)?.pop())
    }

    /// Every listing `owner` owns, or every listing when `owner` is `None`, by slug.
    pub async fn listings(&self, owner: Option<PartnerId>) -> Result<Vec<ListingRecord>, StoreError> {
        // One statement per case, each condition a plain bound: an `($n IS NULL OR …)` keeps
        // SQLite from using the slug index, so looking up one listing would read them all.
        let rows = match owner {
            Some(owner) => {
                sqlx::query_as::<_, ListingVersionRow>(select_listings!("WHERE l.partner_id = $1"))
                    .bind(owner.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query_as::<_, ListingVersionRow>(select_listings!("")).fetch_all(&self.pool).await?,
        };
        listing_records(rows)
    }

    /// A page of at most `limit` listings in slug order: `owner`'s (or everyone's), whose slug
    /// starts with `prefix`, after slug `after`. Served by the slug indexes, so a page costs the
    /// same with ten listings or ten thousand.
    pub async fn listings_page(
        &self,
        owner: Option<PartnerId>,
        prefix: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ListingRecord>, StoreError> {
        // Slugs are lower-case ASCII letters, digits and dashes, so in byte order every slug
        // starting with `prefix` sorts below `prefix` followed by `~`.
        let c = self.byte_order();
        // Each condition a plain bound, so the index range starts at the page (an `OR … IS
        // NULL` would make the database scan from the first slug to the cursor).
        let owner_clause = if owner.is_some() { "AND l.partner_id = $4" } else { "" };
        let (from, op) = match after.filter(|after| *after >= prefix) {
            Some(after) => (after, ">"),
            None => (prefix, ">="),
        };
        let sql = format!(
            "SELECT {} FROM listings l JOIN partners p ON p.id = l.partner_id \
             WHERE l.slug{c} {op} $1 AND l.slug{c} < $2 {owner_clause} ORDER BY l.slug{c} LIMIT $3",
            listing_columns!()
        );
        let mut query =
            sqlx::query_as::<_, ListingRow>(sqlx::AssertSqlSafe(sql)).bind(from).bind(format!("{prefix}~")).bind(limit);
        if let Some(owner) = owner {
            query = query.bind(owner.0);
        }
        let mut listings: Vec<ListingRecord> =
            query.fetch_all(&self.pool).await?.into_iter().map(ListingRow::record).collect();
        if listings.is_empty() {
            return Ok(listings);
        }
        // The page's versions by listing id: index lookups, whatever the table's size.
        let sql = format!(
            "SELECT listing_id, version, state FROM versions WHERE listing_id IN ({}) ORDER BY listing_id, id",
            super::jobs::params(1, listings.len())
        );
        let mut query = sqlx::query_as::<_, PageVersionRow>(sqlx::AssertSqlSafe(sql));
        for listing in &listings {
            query = query.bind(listing.id.0);
        }
        let mut by_id: std::collections::HashMap<i64, Vec<(String, VersionState)>> = std::collections::HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            by_id.entry(row.listing_id).or_default().push((row.version, row.state.parse().map_err(corrupt)?));
        }
        for listing in &mut listings {
            listing.versions = by_id.remove(&listing.id.0).unwrap_or_default();
        }
        Ok(listings)
    }

    /// How many listings `owner` owns (everyone's when `None`).
    pub async fn count_listings(&self, owner: Option<PartnerId>) -> Result<i64, StoreError> {
        let Count { n } = match owner {
            Some(owner) => {
                sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM listings WHERE partner_id = $1")
                    .bind(owner.0)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM listings").fetch_one(&self.pool).await?,
        };
        Ok(n)
    }

    /// Whether `slug` releases approved versions at once, audited as `listing.auto_release`;
    /// `false` if there is no such listing.
    pub async fn set_auto_release(&self, actor: &str, slug: &str, on: bool) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE listings SET auto_release = $1 WHERE slug = $2")
            .bind(i64::from(on))
            .bind(slug)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        let detail = if on { "on: approved versions go live at once" } else { "off: the partner releases" };
        super::append(&mut tx, actor, "listing.auto_release", &format!("listing:{slug}"), detail).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Versions awaiting a reviewer's decision, longest-waiting first.
    pub async fn review_queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        self.review_queue_page(None, i64::MAX).await
    }

    /// At most `limit` versions awaiting a reviewer's decision, longest-waiting first, after
    /// the entry with `(waiting_since, id)` = `after` (served by `versions_by_state`).
    pub async fn review_queue_page(
        &self,
        after: Option<(i64, VersionId)>,
        limit: i64,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        // The cursor as one row-value bound on `versions_waiting (updated_at, id)`.
        let cursor = if after.is_some() { "AND (v.updated_at, v.id) > ($2, $3)" } else { "" };
        let sql = format!(
            "{} WHERE v.state = 'awaiting_review' {cursor} ORDER BY v.updated_at, v.id LIMIT $1",
            select_queue!()
        );
        let mut query = sqlx::query_as::<_, QueueRow>(sqlx::AssertSqlSafe(sql)).bind(limit);
        if let Some((since, id)) = after {
            query = query.bind(since).bind(id.0);
        }
        query.fetch_all(&self.pool).await?.into_iter().map(QueueRow::entry).collect()
    }

    /// A version's place in the queue: its entry, how many wait before it, and how many wait
    /// in all; `None` unless it awaits a reviewer. One statement, so the three agree (one
    /// snapshot) and a version's page pays one query for them, not three.
    pub async fn queue_place(&self, id: VersionId) -> Result<Option<(QueueEntry, i64, i64)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT q.*, (SELECT COUNT(*) FROM versions w WHERE w.state = 'awaiting_review' \
             AND (w.updated_at < q.updated_at OR (w.updated_at = q.updated_at AND w.id < q.id))) AS before, \
             (SELECT COUNT(*) FROM versions w WHERE w.state = 'awaiting_review') AS waiting FROM (",
            select_queue!(),
            " WHERE v.state = 'awaiting_review' AND v.id = $1) q"
        );
        let row = sqlx::query_as::<_, PlaceRow>(SQL).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|PlaceRow { before, waiting, entry }| Ok((entry.entry()?, before, waiting))).transpose()
    }

    /// How many versions await a reviewer's decision.
    pub async fn count_waiting(&self) -> Result<i64, StoreError> {
        let Count { n } =
            sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM versions WHERE state = 'awaiting_review'")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// A partner's capabilities.
    pub async fn partner_capabilities(&self, partner: PartnerId) -> Result<Vec<crate::Capability>, StoreError> {
        let row = sqlx::query_as::<_, CapabilitiesRow>("SELECT capabilities FROM partners WHERE id = $1")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Err(StoreError::NotFound(format!("partner {}", partner.0))) };
        Ok(crate::model::decode_capabilities(&row.capabilities))
    }
}

/// Listings from rows of a listing and one of its versions, ordered by listing.
fn listing_records(rows: Vec<ListingVersionRow>) -> Result<Vec<ListingRecord>, StoreError> {
    let mut out: Vec<ListingRecord> = Vec::new();
    for row in rows {
        if out.last().is_none_or(|l| l.id.0 != row.listing.id) {
            out.push(row.listing.record());
        }
        if let (Some(version), Some(state), Some(listing)) = (row.version, row.state, out.last_mut()) {
            listing.versions.push((version, state.parse().map_err(corrupt)?));
        }
    }
    Ok(out)
}
