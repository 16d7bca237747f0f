//! Change notices and deprecation schedules: written once with an audit event, never edited.
//! The store keeps them; `assay_core::{notice, deprecation}` decide whether they may be made.

use assay_core::deprecation::{Schedule, Stability};
use assay_core::notice::{Audience, NoticeKind};
use jiff::civil::Date;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, append, listing_id, now};
use crate::model::PartnerId;
pub use assay_core::deprecation::{DeprecationRecord, DeprecationTarget};
pub use assay_core::notice::NoticeRecord;

/// A notice to publish.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    /// The listing it is about; `None` for a platform notice.
    pub slug: Option<&'a str>,
    /// What kind of change.
    pub kind: NoticeKind,
    /// What changes.
    pub summary: &'a str,
    /// The day it takes effect.
    pub effective: Date,
    /// What the audience has to do.
    pub action_required: Option<&'a str>,
    /// Who it is for.
    pub audience: Audience,
}

/// A deprecation schedule to record, with the notice that announces it.
#[derive(Debug, Clone)]
pub struct NewDeprecation<'a> {
    /// What is deprecated.
    pub target: &'a DeprecationTarget,
    /// How stable it was declared.
    pub stability: Stability,
    /// Its dates.
    pub schedule: Schedule,
    /// The announcing notice (kind `deprecation`, effective at the sunset).
    pub notice: NewNotice<'a>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn date(row: &AnyRow, index: usize) -> Result<Date, StoreError> {
    let text: String = row.try_get(index)?;
    text.parse().map_err(corrupt)
}

/// `SELECT` every notice column, then `$rest` (static text: the queries stay literals).
macro_rules! select_notices {
    ($rest:literal) => {
        concat!(
            "SELECT n.id, l.slug, n.kind, n.summary, n.effective, n.action_required, n.audience, n.author, \
             n.created_at FROM notices n LEFT JOIN listings l ON l.id = n.listing_id ",
            $rest
        )
    };
}

fn notice(row: &AnyRow) -> Result<NoticeRecord, StoreError> {
    Ok(NoticeRecord {
        id: row.try_get(0)?,
        slug: row.try_get(1)?,
        kind: row.try_get::<String, _>(2)?.parse().map_err(corrupt)?,
        summary: row.try_get(3)?,
        effective: date(row, 4)?,
        action_required: row.try_get(5)?,
        audience: row.try_get::<String, _>(6)?.parse().map_err(corrupt)?,
        author: row.try_get(7)?,
        created_at: row.try_get(8)?,
    })
}

/// `SELECT` every deprecation column, then `$rest`.
macro_rules! select_deprecations {
    ($rest:literal) => {
        concat!(
            "SELECT d.id, l.slug, d.versions, d.api_version, d.stability, d.announced, d.deprecated_from, d.sunset, \
             d.notice_id, d.author, d.created_at FROM deprecations d LEFT JOIN listings l ON l.id = d.listing_id ",
            $rest
        )
    };
}

fn deprecation(row: &AnyRow) -> Result<DeprecationRecord, StoreError> {
    let slug: Option<String> = row.try_get(1)?;
    let versions: Option<String> = row.try_get(2)?;
    let api_version: Option<String> = row.try_get(3)?;
    let target = match (slug, versions, api_version) {
        (Some(slug), Some(versions), None) => {
            DeprecationTarget::Listing { slug, versions: versions.parse().map_err(corrupt)? }
        }
        (None, None, Some(api)) => DeprecationTarget::ApiVersion(api),
        _ => return Err(corrupt("a deprecation has neither a listing range nor an API version")),
    };
    Ok(DeprecationRecord {
        id: row.try_get(0)?,
        target,
        stability: row.try_get::<String, _>(4)?.parse().map_err(corrupt)?,
        schedule: Schedule { announced: date(row, 5)?, deprecated_from: date(row, 6)?, sunset: date(row, 7)? },
        notice_id: row.try_get(8)?,
        author: row.try_get(9)?,
        created_at: row.try_get(10)?,
    })
}

impl Store {
    /// Publish a notice (`actor` is its author), with an audit event.
    pub async fn create_notice(&self, actor: &str, new: &NewNotice<'_>) -> Result<NoticeRecord, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_notice(&mut tx, actor, new).await?;
        tx.commit().await?;
        self.notice(id).await?.ok_or_else(|| StoreError::NotFound(format!("notice {id}")))
    }

    /// One notice.
    pub async fn notice(&self, id: i64) -> Result<Option<NoticeRecord>, StoreError> {
        sqlx::query(select_notices!("WHERE n.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(notice)
            .transpose()
    }

    /// Notices, newest first: a listing's (`Some(slug)`), the platform's (`None`), or with
    /// `partner`, those of every listing the partner owns plus the platform's.
    pub async fn notices(
        &self,
        slug: Option<&str>,
        partner: Option<PartnerId>,
    ) -> Result<Vec<NoticeRecord>, StoreError> {
        let rows = match (slug, partner) {
            (Some(slug), _) => {
                sqlx::query(select_notices!("WHERE l.slug = $1 ORDER BY n.id DESC"))
                    .bind(slug)
                    .fetch_all(&self.pool)
                    .await?
            }
            (None, Some(partner)) => {
                sqlx::query(select_notices!("WHERE n.listing_id IS NULL OR l.partner_id = $1 ORDER BY n.id DESC"))
                    .bind(partner.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            (None, None) => {
                sqlx::query(select_notices!("WHERE n.listing_id IS NULL ORDER BY n.id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(notice).collect()
    }

    /// Record a deprecation schedule and the notice that announces it, in one transaction.
    pub async fn create_deprecation(
        &self,
        actor: &str,
        new: &NewDeprecation<'_>,
    ) -> Result<DeprecationRecord, StoreError> {
        let mut tx = self.write().await?;
        let notice_id = insert_notice(&mut tx, actor, &new.notice).await?;
        let (listing, versions, api, subject) = match new.target {
            DeprecationTarget::Listing { slug, versions } => {
                (Some(listing_id(&mut tx, slug).await?), Some(versions.to_string()), None, format!("listing:{slug}"))
            }
            DeprecationTarget::ApiVersion(api) => (None, None, Some(api.clone()), format!("api:{api}")),
        };
        let Schedule { announced, deprecated_from, sunset } = new.schedule;
        let at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO deprecations (listing_id, versions, api_version, stability, announced, deprecated_from, sunset, \
             notice_id, author, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(listing)
        .bind(versions.as_deref())
        .bind(api.as_deref())
        .bind(new.stability.as_str())
        .bind(announced.to_string())
        .bind(deprecated_from.to_string())
        .bind(sunset.to_string())
        .bind(notice_id)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let detail = format!(
            "{} {}: announced {announced}, deprecated from {deprecated_from}, sunset {sunset}",
            new.stability,
            versions.as_deref().or(api.as_deref()).unwrap_or_default()
        );
        append(&mut tx, actor, "deprecation.schedule", &subject, &detail).await?;
        tx.commit().await?;
        let row = sqlx::query(select_deprecations!("WHERE d.id = $1")).bind(id).fetch_one(&self.pool).await?;
        deprecation(&row)
    }

    /// The schedules of one platform API version, by sunset.
    pub async fn api_deprecations(&self, api_version: &str) -> Result<Vec<DeprecationRecord>, StoreError> {
        let rows = sqlx::query(select_deprecations!("WHERE d.api_version = $1 ORDER BY d.sunset, d.id"))
            .bind(api_version)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(deprecation).collect()
    }

    /// Deprecation schedules, by sunset: a listing's (`Some(slug)`), or every one.
    pub async fn deprecations(&self, slug: Option<&str>) -> Result<Vec<DeprecationRecord>, StoreError> {
        let rows = match slug {
            Some(slug) => {
                sqlx::query(select_deprecations!("WHERE l.slug = $1 ORDER BY d.sunset, d.id"))
                    .bind(slug)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query(select_deprecations!("ORDER BY d.sunset, d.id")).fetch_all(&self.pool).await?,
        };
        rows.iter().map(deprecation).collect()
    }
}

pub(super) async fn insert_notice(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &str,
    new: &NewNotice<'_>,
) -> Result<i64, StoreError> {
    let listing = match new.slug {
        Some(slug) => Some(listing_id(tx, slug).await?),
        None => None,
    };
    let id: i64 = sqlx::query(
        "INSERT INTO notices (listing_id, kind, summary, effective, action_required, audience, author, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(listing)
    .bind(new.kind.as_str())
    .bind(new.summary)
    .bind(new.effective.to_string())
    .bind(new.action_required)
    .bind(new.audience.as_str())
    .bind(actor)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let subject = new.slug.map_or_else(|| "platform".to_owned(), |slug| format!("listing:{slug}"));
    let detail = format!("{} effective {}: {}", new.kind, new.effective, new.summary);
    append(tx, actor, "notice.publish", &subject, &detail).await?;
    Ok(id)
}
