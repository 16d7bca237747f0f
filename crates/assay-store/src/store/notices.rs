//! Change notices and deprecation schedules: written once with an audit event, never edited.
//! The store keeps them; `assay_core::{notice, deprecation}` decide whether they may be made.

use assay_core::deprecation::{Schedule, Stability};
use assay_core::notice::{Audience, NoticeKind};
use jiff::civil::Date;

use super::{Id, Store, StoreError, append, corrupt, listing_id, now};
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

/// A stored day (`YYYY-MM-DD`).
fn date(text: &str) -> Result<Date, StoreError> {
    text.parse().map_err(corrupt)
}

/// `SELECT` every [`NoticeRow`] column, then `$rest` (static text: the queries stay literals).
macro_rules! select_notices {
    ($rest:literal) => {
        concat!(
            "SELECT n.id, l.slug, n.kind, n.summary, n.effective, n.action_required, n.audience, n.author, \
             n.created_at FROM notices n LEFT JOIN listings l ON l.id = n.listing_id ",
            $rest
        )
    };
}

/// A notice and its listing's slug ([`select_notices!`]).
#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    slug: Option<String>,
    kind: String,
    summary: String,
    effective: String,
    action_required: Option<String>,
    audience: String,
    author: String,
    created_at: i64,
}

impl NoticeRow {
    fn record(self) -> Result<NoticeRecord, StoreError> {
        Ok(NoticeRecord {
            id: self.id,
            slug: self.slug,
            kind: self.kind.parse().map_err(corrupt)?,
            summary: self.summary,
            effective: date(&self.effective)?,
            action_required: self.action_required,
            audience: self.audience.parse().map_err(corrupt)?,
            author: self.author,
            created_at: self.created_at,
        })
    }
}

/// `SELECT` every [`DeprecationRow`] column, then `$rest`.
macro_rules! select_deprecations {
    ($rest:literal) => {
        concat!(
            "SELECT d.id, l.slug, d.versions, d.api_version, d.stability, d.announced, d.deprecated_from, d.sunset, \
             d.notice_id, d.author, d.created_at FROM deprecations d LEFT JOIN listings l ON l.id = d.listing_id ",
            $rest
        )
    };
}

/// A deprecation schedule: a listing's slug and versions, or an API version
/// ([`select_deprecations!`]).
#[derive(sqlx::FromRow)]
struct DeprecationRow {
    id: i64,
    slug: Option<String>,
    versions: Option<String>,
    api_version: Option<String>,
    stability: String,
    announced: String,
    deprecated_from: String,
    sunset: String,
    notice_id: i64,
    author: String,
    created_at: i64,
}

impl DeprecationRow {
    fn record(self) -> Result<DeprecationRecord, StoreError> {
        let target = match (self.slug, self.versions, self.api_version) {
            (Some(slug), Some(versions), None) => {
                DeprecationTarget::Listing { slug, versions: versions.parse().map_err(corrupt)? }
            }
            (None, None, Some(api)) => DeprecationTarget::ApiVersion(api),
            _ => return Err(corrupt("a deprecation has neither a listing range nor an API version")),
        };
        Ok(DeprecationRecord {
            id: self.id,
            target,
            stability: self.stability.parse().map_err(corrupt)?,
            schedule: Schedule {
                announced: date(&self.announced)?,
                deprecated_from: date(&self.deprecated_from)?,
                sunset: date(&self.sunset)?,
            },
            notice_id: self.notice_id,
            author: self.author,
            created_at: self.created_at,
        })
    }
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
        let row = sqlx::query_as::<_, NoticeRow>(select_notices!("WHERE n.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(NoticeRow::record).transpose()
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
                sqlx::query_as::<_, NoticeRow>(select_notices!("WHERE l.slug = $1 ORDER BY n.id DESC"))
                    .bind(slug)
                    .fetch_all(&self.pool)
                    .await?
            }
            (None, Some(partner)) => {
                sqlx::query_as::<_, NoticeRow>(select_notices!(
                    "WHERE n.listing_id IS NULL OR l.partner_id = $1 ORDER BY n.id DESC"
                ))
                .bind(partner.0)
                .fetch_all(&self.pool)
                .await?
            }
            (None, None) => {
                sqlx::query_as::<_, NoticeRow>(select_notices!("WHERE n.listing_id IS NULL ORDER BY n.id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(NoticeRow::record).collect()
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
        let Id { id } = sqlx::query_as::<_, Id>(
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
        .await?;
        let detail = format!(
            "#{id} {} {}: announced {announced}, deprecated from {deprecated_from}, sunset {sunset}",
            new.stability,
            versions.as_deref().or(api.as_deref()).unwrap_or_default()
        );
        append(&mut tx, actor, "deprecation.schedule", &subject, &detail).await?;
        tx.commit().await?;
        let row = sqlx::query_as::<_, DeprecationRow>(select_deprecations!("WHERE d.id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        row.record()
    }

    /// One deprecation schedule.
    pub async fn deprecation(&self, id: i64) -> Result<Option<DeprecationRecord>, StoreError> {
        let row = sqlx::query_as::<_, DeprecationRow>(select_deprecations!("WHERE d.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(DeprecationRow::record).transpose()
    }

    /// The schedules of one platform API version, by sunset.
    pub async fn api_deprecations(&self, api_version: &str) -> Result<Vec<DeprecationRecord>, StoreError> {
        let rows = sqlx::query_as::<_, DeprecationRow>(select_deprecations!(
            "WHERE d.api_version = $1 ORDER BY d.sunset, d.id"
        ))
        .bind(api_version)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(DeprecationRow::record).collect()
    }

    /// Deprecation schedules, by sunset: a listing's (`Some(slug)`), or every one.
    pub async fn deprecations(&self, slug: Option<&str>) -> Result<Vec<DeprecationRecord>, StoreError> {
        let rows = match slug {
            Some(slug) => {
                sqlx::query_as::<_, DeprecationRow>(select_deprecations!("WHERE l.slug = $1 ORDER BY d.sunset, d.id"))
                    .bind(slug)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as::<_, DeprecationRow>(select_deprecations!("ORDER BY d.sunset, d.id"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(DeprecationRow::record).collect()
    }
}

pub(super) async fn insert_notice(
    tx: &mut sqlx::AnyConnection,
    actor: &str,
    new: &NewNotice<'_>,
) -> Result<i64, StoreError> {
    let listing = match new.slug {
        Some(slug) => Some(listing_id(tx, slug).await?),
        None => None,
    };
    let Id { id } = sqlx::query_as::<_, Id>(
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
    .fetch_one(&mut *tx)
    .await?;
    let subject = new.slug.map_or_else(|| "platform".to_owned(), |slug| format!("listing:{slug}"));
    // `#id` first: the webhook dispatcher reads the notice back by it.
    let detail = format!("#{id} {} effective {}: {}", new.kind, new.effective, new.summary);
    append(tx, actor, "notice.publish", &subject, &detail).await?;
    Ok(id)
}
