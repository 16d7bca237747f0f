//! Listings as callers browse them, and the review queue.

use assay_core::{Verdict, VersionState};
use sqlx::Row;

use super::{Store, StoreError};
use crate::model::{ListingId, PartnerId};

/// A listing with its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRecord {
    /// Its id.
    pub id: ListingId,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// The partner that owns it.
    pub partner: PartnerId,
    /// That partner's name.
    pub partner_name: String,
    /// Its versions, oldest first: version and state.
    pub versions: Vec<(String, VersionState)>,
}

/// A version waiting for a reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The listing's slug.
    pub slug: String,
    /// The version.
    pub version: String,
    /// The owning partner's name.
    pub partner_name: String,
    /// Since when it has waited (its last state change), seconds since the Unix epoch.
    pub waiting_since: i64,
    /// The verdict of its latest review.
    pub verdict: Option<Verdict>,
}

fn state(row: &sqlx::any::AnyRow, index: usize) -> Result<VersionState, StoreError> {
    let name: String = row.try_get(index)?;
    name.parse().map_err(|e: assay_core::lifecycle::UnknownState| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// One listing by slug.
    pub async fn listing(&self, slug: &str) -> Result<Option<ListingRecord>, StoreError> {
        Ok(self.listings_where(Some(slug), None).await?.pop())
    }

    /// Every listing `owner` owns, or every listing when `owner` is `None`, by slug.
    pub async fn listings(&self, owner: Option<PartnerId>) -> Result<Vec<ListingRecord>, StoreError> {
        self.listings_where(None, owner).await
    }

    async fn listings_where(
        &self,
        slug: Option<&str>,
        owner: Option<PartnerId>,
    ) -> Result<Vec<ListingRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.slug, l.name, l.partner_id, p.name, v.version, v.state FROM listings l \
             JOIN partners p ON p.id = l.partner_id LEFT JOIN versions v ON v.listing_id = l.id \
             WHERE ($1 IS NULL OR l.slug = $1) AND ($2 IS NULL OR l.partner_id = $2) ORDER BY l.slug, v.id",
        )
        .bind(slug)
        .bind(owner.map(|p| p.0))
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<ListingRecord> = Vec::new();
        for row in &rows {
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
            let version: Option<String> = row.try_get(5)?;
            if let (Some(version), Some(listing)) = (version, out.last_mut()) {
                listing.versions.push((version, state(row, 6)?));
            }
        }
        Ok(out)
    }

    /// Versions awaiting a reviewer's decision, longest-waiting first.
    pub async fn review_queue(&self) -> Result<Vec<QueueEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.slug, v.version, p.name, v.updated_at, \
             (SELECT r.verdict FROM review_runs r WHERE r.version_id = v.id ORDER BY r.id DESC LIMIT 1) \
             FROM versions v JOIN listings l ON l.id = v.listing_id JOIN partners p ON p.id = l.partner_id \
             WHERE v.state = 'awaiting_review' ORDER BY v.updated_at, v.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let verdict: Option<String> = row.try_get(4)?;
                Ok(QueueEntry {
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

    /// A partner's capabilities.
    pub async fn partner_capabilities(&self, partner: PartnerId) -> Result<Vec<crate::Capability>, StoreError> {
        let row = sqlx::query("SELECT capabilities FROM partners WHERE id = $1")
            .bind(partner.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Err(StoreError::NotFound(format!("partner {}", partner.0))) };
        Ok(crate::Capability::decode(&row.try_get::<String, _>(0)?))
    }
}
