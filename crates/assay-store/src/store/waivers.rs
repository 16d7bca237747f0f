//! Waivers: granted by reviewers, recorded with approver and justification. A waiver is never
//! edited, except that a reviewer may end it early ([`Store::expire_waiver`]), which is audited.

use assay_core::Waiver;

use super::{Id, Store, StoreError, append, corrupt, now};
pub use assay_core::waiver::WaiverRecord;

/// A waiver to grant.
#[derive(Debug, Clone, Copy)]
pub struct NewWaiver<'a> {
    /// The listing it is for.
    pub slug: &'a str,
    /// The rule it exempts.
    pub rule_id: &'a str,
    /// The versions it covers (a semver requirement such as `>=1.0.0, <2.0.0`).
    pub versions: &'a semver::VersionReq,
    /// Why the exception is acceptable.
    pub justification: &'a str,
    /// When it stops covering, seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Store {
    /// Grant a waiver (`actor` is its approver). Recorded with an audit event.
    pub async fn create_waiver(&self, actor: &str, new: &NewWaiver<'_>) -> Result<WaiverRecord, StoreError> {
        if new.justification.trim().is_empty() {
            return Err(StoreError::NoteRequired);
        }
        let mut tx = self.write().await?;
        let listing = super::listing_id(&mut tx, new.slug).await?;
        let at = now();
        let versions = new.versions.to_string();
        let Id { id } = sqlx::query_as::<_, Id>(
            "INSERT INTO waivers (listing_id, rule_id, versions, justification, approver, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(listing)
        .bind(new.rule_id)
        .bind(&versions)
        .bind(new.justification)
        .bind(actor)
        .bind(new.expires_at)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let detail = format!("{} for {versions} until {}; {}", new.rule_id, new.expires_at, new.justification);
        append(&mut tx, actor, "waiver.grant", &format!("listing:{}", new.slug), &detail).await?;
        tx.commit().await?;
        Ok(WaiverRecord {
            waiver: Waiver {
                id,
                rule_id: new.rule_id.to_owned(),
                versions: new.versions.clone(),
                expires_at: new.expires_at,
            },
            slug: new.slug.to_owned(),
            justification: new.justification.to_owned(),
            approver: actor.to_owned(),
            created_at: at,
        })
    }

    /// End waiver `id` of listing `slug` at `at`, if it is still live then; recorded with an
    /// audit event naming `actor` and `note`. Returns the waiver as it is now, or
    /// [`StoreError::NotFound`] when the listing has no such waiver. An expired waiver stays
    /// expired: the call changes nothing and returns it.
    pub async fn expire_waiver(
        &self,
        actor: &str,
        slug: &str,
        id: i64,
        at: i64,
        note: &str,
    ) -> Result<WaiverRecord, StoreError> {
        if note.trim().is_empty() {
            return Err(StoreError::NoteRequired);
        }
        let mut tx = self.write().await?;
        let listing = super::listing_id(&mut tx, slug).await?;
        let ended =
            sqlx::query("UPDATE waivers SET expires_at = $1 WHERE id = $2 AND listing_id = $3 AND expires_at > $1")
                .bind(at)
                .bind(id)
                .bind(listing)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if ended > 0 {
            append(&mut tx, actor, "waiver.expire", &format!("listing:{slug}"), &format!("waiver {id}; {note}"))
                .await?;
        }
        tx.commit().await?;
        self.waivers(slug)
            .await?
            .into_iter()
            .find(|w| w.waiver.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("waiver {id} of `{slug}`")))
    }

    /// Every waiver of a listing, expired ones included, oldest first.
    pub async fn waivers(&self, slug: &str) -> Result<Vec<WaiverRecord>, StoreError> {
        let rows = sqlx::query_as::<_, WaiverRecordRow>(concat!(
            "SELECT ",
            waiver_columns!(),
            ", w.justification, w.approver, w.created_at FROM waivers w \
             JOIN listings l ON l.id = w.listing_id WHERE l.slug = $1 ORDER BY w.id"
        ))
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(WaiverRecord {
                    waiver: row.waiver.waiver()?,
                    slug: slug.to_owned(),
                    justification: row.justification,
                    approver: row.approver,
                    created_at: row.created_at,
                })
            })
            .collect()
    }
}

/// The [`WaiverRow`] columns of waivers `w`.
macro_rules! waiver_columns {
    () => {
        "w.id, w.rule_id, w.versions, w.expires_at"
    };
}
pub(super) use waiver_columns;

/// What a verdict needs of a waiver ([`waiver_columns!`]).
#[derive(sqlx::FromRow)]
pub(super) struct WaiverRow {
    id: i64,
    rule_id: String,
    versions: String,
    expires_at: i64,
}

impl WaiverRow {
    pub(super) fn waiver(self) -> Result<Waiver, StoreError> {
        Ok(Waiver {
            id: self.id,
            rule_id: self.rule_id,
            versions: self.versions.parse().map_err(corrupt)?,
            expires_at: self.expires_at,
        })
    }
}

/// A waiver as a reviewer granted it.
#[derive(sqlx::FromRow)]
struct WaiverRecordRow {
    #[sqlx(flatten)]
    waiver: WaiverRow,
    justification: String,
    approver: String,
    created_at: i64,
}
