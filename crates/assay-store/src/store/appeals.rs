//! Appeals: a partner appeals a reviewer's rejection or request for changes, once per decision;
//! a reviewer other than the one who decided hears it. A hearing moves the appeal only out of
//! `open` — and an overturn moves the version only out of the state the decision left it in —
//! so of concurrent deciders exactly one wins ([`StoreError::AlreadyDecided`] for the others).

use assay_core::appeal::{AppealRecord, AppealState};
use assay_core::identity::PartnerId;
use assay_core::{Transition, VersionState};

use super::{Id, Store, StoreError, advance, append, corrupt};

/// The latest reviewer decision on a version: what an appeal is against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDecision {
    /// Its id.
    pub id: i64,
    /// Who decided.
    pub actor: String,
    /// `approve`, `request_changes`, `reject` or `certify`.
    pub action: String,
    /// Their note.
    pub note: String,
    /// The state it left the version in.
    pub to_state: String,
}

/// Which appeals to list.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    /// One partner's (`None`: every partner's).
    pub partner: Option<PartnerId>,
    /// In one state.
    pub state: Option<AppealState>,
    /// For one listing (by slug).
    pub slug: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LastDecisionRow {
    id: i64,
    actor: String,
    action: String,
    note: String,
    to_state: String,
}

#[derive(sqlx::FromRow)]
struct AppealRow {
    id: i64,
    slug: String,
    partner_id: i64,
    partner_name: String,
    version: String,
    decision: String,
    decided_by: String,
    decision_note: String,
    statement: String,
    appealed_by: String,
    appealed_at: i64,
    state: String,
    heard_by: Option<String>,
    rationale: Option<String>,
    decided_at: Option<i64>,
}

impl AppealRow {
    fn record(self) -> Result<AppealRecord, StoreError> {
        Ok(AppealRecord {
            id: self.id,
            slug: self.slug,
            partner: PartnerId(self.partner_id),
            partner_name: self.partner_name,
            version: self.version,
            decision: self.decision,
            decided_by: self.decided_by,
            decision_note: self.decision_note,
            statement: self.statement,
            appealed_by: self.appealed_by,
            appealed_at: self.appealed_at,
            state: self.state.parse().map_err(corrupt)?,
            heard_by: self.heard_by,
            rationale: self.rationale,
            decided_at: self.decided_at,
        })
    }
}

/// Every appeal with its version, listing, partner and decision, filtered by what follows.
macro_rules! select_appeals {
    ($where:literal) => {
        concat!(
            "SELECT a.id, l.slug, l.partner_id, p.name AS partner_name, v.version, d.action AS decision, \
             d.actor AS decided_by, d.note AS decision_note, a.statement, a.appealed_by, a.appealed_at, a.state, \
             a.heard_by, a.rationale, a.decided_at FROM appeals a JOIN versions v ON v.id = a.version_id \
             JOIN listings l ON l.id = v.listing_id JOIN partners p ON p.id = l.partner_id \
             JOIN decisions d ON d.id = a.decision_id ",
            $where
        )
    };
}

impl Store {
    /// The latest reviewer decision on a version, if any.
    pub async fn last_decision(&self, slug: &str, version: &str) -> Result<Option<LastDecision>, StoreError> {
        let row = sqlx::query_as::<_, LastDecisionRow>(
            "SELECT d.id, d.actor, d.action, d.note, d.to_state FROM decisions d \
             JOIN versions v ON v.id = d.version_id JOIN listings l ON l.id = v.listing_id \
             WHERE l.slug = $1 AND v.version = $2 ORDER BY d.id DESC LIMIT 1",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| LastDecision { id: r.id, actor: r.actor, action: r.action, note: r.note, to_state: r.to_state }))
    }

    /// Record `actor`'s appeal of decision `decision` on a version, audited as `appeal.file`.
    /// [`StoreError::Exists`] if that decision was appealed already.
    pub async fn file_appeal(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        decision: i64,
        statement: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query_as::<_, Id>(
            "INSERT INTO appeals (version_id, decision_id, statement, appealed_by, appealed_at, state) \
             SELECT d.version_id, d.id, $1, $2, $3, 'open' FROM decisions d WHERE d.id = $4 \
             ON CONFLICT (decision_id) DO NOTHING RETURNING id",
        )
        .bind(statement)
        .bind(actor)
        .bind(at)
        .bind(decision)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Id { id }) = inserted else {
            return Err(StoreError::Exists(format!("an appeal of this decision on {slug} {version}")));
        };
        let subject = format!("listing:{slug}@{version}");
        append(&mut tx, actor, "appeal.file", &subject, &format!("#{id}: {statement}")).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One appeal.
    pub async fn appeal(&self, id: i64) -> Result<Option<AppealRecord>, StoreError> {
        let row = sqlx::query_as::<_, AppealRow>(select_appeals!("WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(AppealRow::record).transpose()
    }

    /// Appeals, newest first, filtered.
    pub async fn appeals(&self, filter: &AppealFilter) -> Result<Vec<AppealRecord>, StoreError> {
        let rows = sqlx::query_as::<_, AppealRow>(select_appeals!(
            "WHERE ($1 IS NULL OR l.partner_id = $1) AND ($2 IS NULL OR a.state = $2) \
             AND ($3 IS NULL OR l.slug = $3) ORDER BY a.id DESC"
        ))
        .bind(filter.partner.map(|p| p.0))
        .bind(filter.state.map(AppealState::as_str))
        .bind(filter.slug.as_deref())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AppealRow::record).collect()
    }

    /// `actor` hears appeal `id`: it stands (`overturn` false) or is overturned, which approves
    /// the version — only if it is still in the state the decision left it in. Audited as
    /// `appeal.uphold` / `appeal.overturn` (and `version.overturn`), in one transaction.
    pub async fn decide_appeal(
        &self,
        actor: &str,
        id: i64,
        overturn: bool,
        rationale: &str,
        at: i64,
    ) -> Result<AppealRecord, StoreError> {
        let current = self.appeal(id).await?.ok_or_else(|| StoreError::NotFound(format!("appeal {id}")))?;
        let outcome = if overturn { AppealState::Overturned } else { AppealState::Upheld };
        let mut tx = self.write().await?;
        let moved = sqlx::query(
            "UPDATE appeals SET state = $1, heard_by = $2, rationale = $3, decided_at = $4 \
             WHERE id = $5 AND state = 'open'",
        )
        .bind(outcome.as_str())
        .bind(actor)
        .bind(rationale)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            drop(tx);
            let now = self.appeal(id).await?.map_or(current.state, |a| a.state);
            return Err(StoreError::AlreadyDecided(format!("appeal {id} is {now} already")));
        }
        let subject = format!("listing:{}@{}", current.slug, current.version);
        if overturn {
            let from: VersionState = match current.decision.as_str() {
                "reject" => VersionState::Rejected,
                _ => VersionState::ChangesRequested,
            };
            let next = assay_core::lifecycle::apply(from, Transition::Overturn)?;
            if advance(&mut tx, &current.slug, &current.version, from, next, false).await?.is_none() {
                drop(tx);
                return Err(self.lost_race(&current.slug, &current.version).await);
            }
            let detail = format!("{from} -> {next}; appeal #{id} overturned: {rationale}");
            append(&mut tx, actor, "version.overturn", &subject, &detail).await?;
        }
        let action = if overturn { "appeal.overturn" } else { "appeal.uphold" };
        append(&mut tx, actor, action, &subject, &format!("#{id} {outcome}: {rationale}")).await?;
        tx.commit().await?;
        self.appeal(id).await?.ok_or_else(|| StoreError::NotFound(format!("appeal {id}")))
    }
}
