//! Exception requests: asked for by partners, granted (as a waiver) or denied by staff, each
//! decision audited. A decision names the state it read and moves the request only from it, so
//! of concurrent deciders exactly one wins ([`StoreError::AlreadyDecided`] for the others).

use assay_core::exception::{ExceptionRecord, ExceptionState};
use assay_core::identity::PartnerId;

use super::{Id, Store, StoreError, append, corrupt};

/// An exception to ask for.
#[derive(Debug, Clone, Copy)]
pub struct NewException<'a> {
    /// The listing.
    pub slug: &'a str,
    /// The version whose finding it is.
    pub version: &'a str,
    /// The rule that reported the finding.
    pub rule_id: &'a str,
    /// The finding's severity.
    pub severity: &'a str,
    /// The versions it should cover (a semver range).
    pub versions: &'a str,
    /// Why.
    pub justification: &'a str,
    /// Until when (Unix seconds).
    pub expires_at: i64,
}

/// A decision on an exception request.
#[derive(Debug, Clone, Copy)]
pub enum ExceptionDecision<'a> {
    /// Grant it for `versions` until `expires_at`: a waiver, at once.
    Grant { versions: &'a semver::VersionReq, expires_at: i64, rationale: &'a str },
    /// Grant it, pending a second reviewer's confirmation.
    GrantPending { versions: &'a semver::VersionReq, expires_at: i64, rationale: &'a str },
    /// Deny it.
    Deny { rationale: &'a str },
}

/// Which exception requests to list.
#[derive(Debug, Clone, Default)]
pub struct ExceptionFilter {
    /// One partner's (`None`: every partner's).
    pub partner: Option<PartnerId>,
    /// For one rule.
    pub rule: Option<String>,
    /// In one stored state.
    pub state: Option<ExceptionState>,
    /// For one listing (by slug).
    pub slug: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    id: i64,
    slug: String,
    partner_id: i64,
    partner_name: String,
    version: String,
    rule_id: String,
    severity: String,
    versions: String,
    justification: String,
    expires_at: i64,
    requested_by: String,
    requested_at: i64,
    state: String,
    first_decider: Option<String>,
    first_rationale: Option<String>,
    granted_versions: Option<String>,
    granted_expires_at: Option<i64>,
    decided_by: Option<String>,
    rationale: Option<String>,
    decided_at: Option<i64>,
    waiver_id: Option<i64>,
}

impl ExceptionRow {
    fn record(self) -> Result<ExceptionRecord, StoreError> {
        Ok(ExceptionRecord {
            id: self.id,
            slug: self.slug,
            partner: PartnerId(self.partner_id),
            partner_name: self.partner_name,
            version: self.version,
            rule_id: self.rule_id,
            severity: self.severity,
            versions: self.versions,
            justification: self.justification,
            expires_at: self.expires_at,
            requested_by: self.requested_by,
            requested_at: self.requested_at,
            state: self.state.parse().map_err(corrupt)?,
            first_decision: self.first_decider.zip(self.first_rationale),
            granted_versions: self.granted_versions,
            granted_expires_at: self.granted_expires_at,
            decided_by: self.decided_by,
            rationale: self.rationale,
            decided_at: self.decided_at,
            waiver: self.waiver_id,
        })
    }
}

/// Every request with its listing and partner, filtered by the clause that follows.
macro_rules! select_exceptions {
    ($where:literal) => {
        concat!(
            "SELECT e.id, l.slug, l.partner_id, p.name AS partner_name, e.version, e.rule_id, e.severity, e.versions, \
             e.justification, e.expires_at, e.requested_by, e.requested_at, e.state, e.first_decider, \
             e.first_rationale, e.granted_versions, e.granted_expires_at, e.decided_by, e.rationale, e.decided_at, \
             e.waiver_id FROM exception_requests e JOIN listings l ON l.id = e.listing_id \
             JOIN partners p ON p.id = l.partner_id ",
            $where
        )
    };
}

impl Store {
    /// Record a partner's request (`actor` asked), audited as `exception.request`.
    pub async fn request_exception(&self, actor: &str, new: &NewException<'_>, at: i64) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let listing = super::listing_id(&mut tx, new.slug).await?;
        let Id { id } = sqlx::query_as::<_, Id>(
            "INSERT INTO exception_requests (listing_id, version, rule_id, severity, versions, justification, \
             expires_at, requested_by, requested_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'requested') \
             RETURNING id",
        )
        .bind(listing)
        .bind(new.version)
        .bind(new.rule_id)
        .bind(new.severity)
        .bind(new.versions)
        .bind(new.justification)
        .bind(new.expires_at)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let detail =
            format!("#{id} {} for {} until {}: {}", new.rule_id, new.versions, new.expires_at, new.justification);
        let subject = format!("listing:{}@{}", new.slug, new.version);
        append(&mut tx, actor, "exception.request", &subject, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One request.
    pub async fn exception(&self, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
        let row = sqlx::query_as::<_, ExceptionRow>(select_exceptions!("WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ExceptionRow::record).transpose()
    }

    /// The register: requests newest first, filtered.
    pub async fn exceptions(&self, filter: &ExceptionFilter) -> Result<Vec<ExceptionRecord>, StoreError> {
        let rows = sqlx::query_as::<_, ExceptionRow>(select_exceptions!(
            "WHERE ($1 IS NULL OR l.partner_id = $1) AND ($2 IS NULL OR e.rule_id = $2) \
             AND ($3 IS NULL OR e.state = $3) AND ($4 IS NULL OR l.slug = $4) ORDER BY e.id DESC"
        ))
        .bind(filter.partner.map(|p| p.0))
        .bind(filter.rule.as_deref())
        .bind(filter.state.map(ExceptionState::as_str))
        .bind(filter.slug.as_deref())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ExceptionRow::record).collect()
    }

    /// Decide request `id`, which the decider read in state `from`: a grant becomes a waiver in
    /// the same transaction. [`StoreError::AlreadyDecided`] when another decision came first.
    pub async fn decide_exception(
        &self,
        actor: &str,
        id: i64,
        from: ExceptionState,
        decision: ExceptionDecision<'_>,
        at: i64,
    ) -> Result<ExceptionRecord, StoreError> {
        let current = self.exception(id).await?.ok_or_else(|| StoreError::NotFound(format!("exception {id}")))?;
        let mut tx = self.write().await?;
        let moved = match decision {
            ExceptionDecision::Deny { rationale } => sqlx::query(
                "UPDATE exception_requests SET state = 'denied', decided_by = $1, rationale = $2, decided_at = $3 \
                     WHERE id = $4 AND state = $5",
            )
            .bind(actor)
            .bind(rationale)
            .bind(at)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            ExceptionDecision::GrantPending { versions, expires_at, rationale } => sqlx::query(
                "UPDATE exception_requests SET state = 'confirming', first_decider = $1, first_rationale = $2, \
                     granted_versions = $3, granted_expires_at = $4 WHERE id = $5 AND state = $6",
            )
            .bind(actor)
            .bind(rationale)
            .bind(versions.to_string())
            .bind(expires_at)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            ExceptionDecision::Grant { versions, expires_at, rationale } => {
                let range = versions.to_string();
                let listing = super::listing_id(&mut tx, &current.slug).await?;
                let justification = format!("exception {id}: {}", current.justification);
                let Id { id: waiver } = sqlx::query_as::<_, Id>(
                    "INSERT INTO waivers (listing_id, rule_id, versions, justification, approver, expires_at, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(listing)
                .bind(&current.rule_id)
                .bind(&range)
                .bind(&justification)
                .bind(actor)
                .bind(expires_at)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE exception_requests SET state = 'granted', granted_versions = $1, granted_expires_at = $2, \
                     decided_by = $3, rationale = $4, decided_at = $5, waiver_id = $6 WHERE id = $7 AND state = $8",
                )
                .bind(&range)
                .bind(expires_at)
                .bind(actor)
                .bind(rationale)
                .bind(at)
                .bind(waiver)
                .bind(id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected()
            }
        };
        if moved == 0 {
            // Dropping the transaction rolls back the waiver a grant inserted.
            drop(tx);
            let now = self.exception(id).await?.map_or(current.state, |e| e.state);
            return Err(StoreError::AlreadyDecided(format!("exception {id} is {now} already")));
        }
        let (action, detail) = match decision {
            ExceptionDecision::Deny { rationale } => ("exception.deny", format!("#{id} denied: {rationale}")),
            ExceptionDecision::GrantPending { versions, expires_at, rationale } => (
                "exception.grant_pending",
                format!("#{id} granted for {versions} until {expires_at}, awaiting a second reviewer: {rationale}"),
            ),
            ExceptionDecision::Grant { versions, expires_at, rationale } => {
                ("exception.grant", format!("#{id} granted for {versions} until {expires_at}: {rationale}"))
            }
        };
        let subject = format!("listing:{}@{}", current.slug, current.version);
        append(&mut tx, actor, action, &subject, &detail).await?;
        tx.commit().await?;
        self.exception(id).await?.ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
    }
}
