//! Listings as callers browse them, and the review queue.

use assay_core::VersionState;
use sqlx::Row;

use super::{Store, StoreError};
use crate::model::{ListingId, PartnerId, VersionId};
pub use assay_core::listing::{ListingRecord, QueueEntry};

/// Listings with their partner's name and their versions (in order), then `$rest`.
macro_rules! select_listings {
    ($rest:literal) => {
        concat!(
            "SELECT l.id, l.slug, l.name, l.partner_id, p.name, v.version, v.state FROM listings l \
             JOIN partners p ON p.id = l.partner_id LEFT JOIN versions v ON v.listing_id = l.id ",
            $rest,
            " ORDER BY l.slug, v.id"
        )
    };
}

fn state(row: &sqlx::any::AnyRow, index: usize) -> Result<VersionState, StoreError> {
    let name: String = row.try_get(index)?;
    name.parse().map_err(|e: assay_core::lifecycle::UnknownState| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// One listing by slug.
    pub async fn listing(&self, slug: &str) -> Result<Option<ListingRecord>, StoreError> {
        let rows = sqlx::query(select_listings!("WHERE l.slug = $1")).bind(slug).fetch_all(&self.pool).await?;
        Ok(listing_records(&rows, true)?.pop())
    }

    /// Every listing `owner` owns, or every listing when `owner` is `None`, by slug.
    pub async fn listings(&self, owner: Option<PartnerId>) -> Result<Vec<ListingRecord>, StoreError> {
        // One statement per case, each condition a plain bound: an `($n IS NULL OR …)` keeps
        // SQLite from using the slug index, so looking up one listing would read them all.
        let rows = match owner {
            Some(owner) => {
                sqlx::query(select_listings!("WHERE l.partner_id = $1")).bind(owner.0).fetch_all(&self.pool).await?
            }
            None => sqlx::query(select_listings!("")).fetch_all(&self.pool).await?,
        };
        listing_records(&rows, true)
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
            "SELECT l.id, l.slug, l.name, l.partner_id, p.name FROM listings l JOIN partners p ON p.id = l.partner_id \
             WHERE l.slug{c} {op} $1 AND l.slug{c} < $2 {owner_clause} ORDER BY l.slug{c} LIMIT $3"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(format!("{prefix}~")).bind(limit);
        if let Some(owner) = owner {
            query = query.bind(owner.0);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut listings = listing_records(&rows, false)?;
        if listings.is_empty() {
            return Ok(listings);
        }
        // The page's versions by listing id: index lookups, whatever the table's size.
        let sql = format!(
            "SELECT listing_id, version, state FROM versions WHERE listing_id IN ({}) ORDER BY listing_id, id",
            super::jobs::params(1, listings.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for listing in &listings {
            query = query.bind(listing.id.0);
        }
        let mut by_id: std::collections::HashMap<i64, Vec<(String, VersionState)>> = std::collections::HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            by_id.entry(row.try_get(0)?).or_default().push((row.try_get(1)?, state(&row, 2)?));
        }
        for listing in &mut listings {
            listing.versions = by_id.remove(&listing.id.0).unwrap_or_default();
        }
        Ok(listings)
    }

    /// How many listings `owner` owns (everyone's when `None`).
    pub async fn count_listings(&self, owner: Option<PartnerId>) -> Result<i64, StoreError> {
        let row = match owner {
            Some(owner) => {
                sqlx::query("SELECT COUNT(*) FROM listings WHERE partner_id = $1")
                    .bind(owner.0)
                    .fetch_one(&self.pool)
                    .await?
            }
            None => sqlx::query("SELECT COUNT(*) FROM listings").fetch_one(&self.pool).await?,
        };
        Ok(row.try_get(0)?)
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
            "SELECT l.slug, v.version, p.name, v.updated_at, \
             (SELECT r.verdict FROM review_runs r WHERE r.version_id = v.id ORDER BY r.id DESC LIMIT 1), v.id \
             FROM versions v JOIN listings l ON l.id = v.listing_id JOIN partners p ON p.id = l.partner_id \
             WHERE v.state = 'awaiting_review' {cursor} ORDER BY v.updated_at, v.id LIMIT $1"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit);
        if let Some((since, id)) = after {
            query = query.bind(since).bind(id.0);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let verdict: Option<String> = row.try_get(4)?;
                Ok(QueueEntry {
                    id: VersionId(row.try_get(5)?),
                    slug: row.try_get(0)?,
                    version: row.try_get(1)?,
                    partner_name: row.try_get(2)?,
                    waiting_since: row.try_get(3)?,
                    verdict: verdict
                        .map(|v| v.parse())
                        .transpose()
                        .map_err(|e: assay_core::outcome::UnknownName| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// How many versions await a reviewer's decision.
    pub async fn count_waiting(&self) -> Result<i64, StoreError> {
        let row =
            sqlx::query("SELECT COUNT(*) FROM versions WHERE state = 'awaiting_review'").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// A partner's capabilities.
    pub async fn partner_capabilities(&self, partner: PartnerId) -> Result<Vec<crate::Capability>, StoreError> {
        let row = sqlx::query("SELECT capabilities FROM partners WHERE id = $1")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Err(StoreError::NotFound(format!("partner {}", partner.0))) };
        Ok(crate::model::decode_capabilities(&row.try_get::<String, _>(0)?))
    }
}

/// Listings from rows of listing id, slug, name, partner id, partner name and, `with_versions`,
/// version and state, ordered by listing.
fn listing_records(rows: &[sqlx::any::AnyRow], with_versions: bool) -> Result<Vec<ListingRecord>, StoreError> {
    let mut out: Vec<ListingRecord> = Vec::new();
    for row in rows {
        let id = ListingId(row.try_get(0)?);
        if out.last().is_none_or(|l| l.id != id) {
            out.push(ListingRecord {
                id,
                slug: row.try_get(1)?,
                name: row.try_get(2)?,
                partner: PartnerId(row.try_get(3)?),
                partner_name: row.try_get(4)?,
                versions: Vec::new(),
            });
        }
        if with_versions {
            let version: Option<String> = row.try_get(5)?;
            if let (Some(version), Some(listing)) = (version, out.last_mut()) {
                listing.versions.push((version, state(row, 6)?));
            }
        }
    }
    Ok(out)
}
