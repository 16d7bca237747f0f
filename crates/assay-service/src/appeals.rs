//! Appeals: a partner asks for a second look at a reviewer's rejection or request for changes.
//!
//! An appeal is against one decision, once, with a statement. A reviewer other than the one who
//! decided hears it: the decision stands (`upheld`) or is overturned, which approves the version.
//! Either way the outcome has a rationale the partner reads. Of concurrent hearings exactly one
//! wins; the others get a conflict. A `changes_requested` that no reviewer decided (the checks
//! found blocking findings) is not appealed: its findings are answered by a fix or an exception.

use assay_core::appeal::{AppealRecord, AppealState};
use assay_core::identity::Principal;
use assay_store::AppealFilter;

use crate::access::{Permission, require, require_owner};
use crate::conversation::bounded;
use crate::{Service, ServiceError};

pub use assay_core::appeal::{AppealRecord as Appeal, AppealState as State};

/// The longest statement or rationale, in characters.
pub const MAX_STATEMENT_CHARS: usize = 10_000;

/// How a reviewer decides an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealOutcome {
    /// The decision stands.
    Uphold,
    /// The decision is overturned: the version is approved.
    Overturn,
}

/// Which appeals to list.
#[derive(Debug, Clone, Default)]
pub struct AppealQuery {
    /// One partner's (staff only; a partner always sees its own).
    pub partner: Option<String>,
    /// `open`, `upheld` or `overturned`.
    pub status: Option<String>,
    /// For one listing.
    pub listing: Option<String>,
}

impl Service {
    /// A partner appeals the reviewer decision that left `version` rejected or with changes
    /// requested. Refused: any other state, a state no reviewer decided, a decision appealed
    /// already.
    pub async fn appeal(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        statement: &str,
    ) -> Result<Appeal, ServiceError> {
        let listing = self.listing(who, slug).await?;
        require_owner(who, &listing, Permission::Submit)?;
        let statement =
            bounded(statement, "/statement", "a statement of why the decision should change", MAX_STATEMENT_CHARS)?;
        let record = self.version_record(slug, version).await?;
        use assay_core::VersionState as S;
        if !matches!(record.state, S::Rejected | S::ChangesRequested) {
            return Err(ServiceError::NotAllowed {
                message: format!(
                    "an appeal is of a rejection or a request for changes; {slug} {version} is {}",
                    record.state
                ),
                current: record.state,
            });
        }
        let decision = self.store.last_decision(slug, version).await?;
        let Some(decision) = decision.filter(|d| {
            matches!(d.action.as_str(), "reject" | "request_changes") && d.to_state == record.state.as_str()
        }) else {
            return Err(ServiceError::NotAllowed {
                message: format!(
                    "no reviewer decided that {slug} {version} is {}: its checks did; fix the findings in a new \
                     version, or ask for an exception to one",
                    record.state
                ),
                current: record.state,
            });
        };
        let id =
            match self.store.file_appeal(&who.actor, slug, version, decision.id, &statement, self.clock.now()).await {
                Ok(id) => id,
                Err(assay_store::StoreError::Exists(_)) => {
                    let filter = AppealFilter { slug: Some(slug.to_owned()), ..AppealFilter::default() };
                    let earlier = self.store.appeals(&filter).await?.into_iter().find(|a| a.version == version);
                    return Err(ServiceError::AlreadyDecided(match earlier {
                        Some(a) => format!("this decision was appealed already (appeal {}, {})", a.id, a.state),
                        None => "this decision was appealed already".into(),
                    }));
                }
                Err(e) => return Err(e.into()),
            };
        self.appeal_record(id).await
    }

    /// A reviewer other than the one who decided hears an appeal, with a rationale.
    pub async fn decide_appeal(
        &self,
        who: &Principal,
        id: i64,
        outcome: AppealOutcome,
        rationale: &str,
    ) -> Result<Appeal, ServiceError> {
        require(who, Permission::Review)?;
        let rationale = bounded(rationale, "/rationale", "a rationale the partner reads", MAX_STATEMENT_CHARS)?;
        let current = self.appeal_record(id).await?;
        if current.state != AppealState::Open {
            return Err(ServiceError::AlreadyDecided(format!(
                "appeal {id} was {} already by {}",
                current.state,
                current.heard_by.as_deref().unwrap_or("someone")
            )));
        }
        if current.decided_by == who.actor {
            return Err(ServiceError::Forbidden(format!(
                "appeal {id} is of your own decision; a reviewer other than {} hears it",
                current.decided_by
            )));
        }
        let overturn = outcome == AppealOutcome::Overturn;
        match self.store.decide_appeal(&who.actor, id, overturn, &rationale, self.clock.now()).await {
            Ok(record) => {
                if overturn {
                    self.auto_release(&record.slug, &record.version).await?;
                }
                Ok(record)
            }
            // The version moved since (the partner withdrew it): nothing was recorded.
            Err(assay_store::StoreError::Conflict { current }) => Err(ServiceError::NotAllowed {
                message: format!("the version is {current} now; the appeal can only be upheld"),
                current,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Appeals the caller may see, newest first (a partner's own; staff: all, or one partner's).
    pub async fn appeals(&self, who: &Principal, query: &AppealQuery) -> Result<Vec<Appeal>, ServiceError> {
        require(who, Permission::Read)?;
        let partner = self.scope_to_partner(who, query.partner.as_deref()).await?;
        let state = query
            .status
            .as_deref()
            .map(|s| s.parse::<AppealState>().map_err(|e| ServiceError::invalid("/status", e)))
            .transpose()?;
        let filter = AppealFilter { partner, state, slug: query.listing.clone() };
        Ok(self.store.appeals(&filter).await?)
    }

    /// One appeal (another partner's is *not found*).
    pub async fn appeal_by_id(&self, who: &Principal, id: i64) -> Result<Appeal, ServiceError> {
        require(who, Permission::Read)?;
        let record = self.appeal_record(id).await?;
        if !who.is_staff() && who.partner != Some(record.partner) {
            return Err(ServiceError::NotFound(format!("appeal {id}")));
        }
        Ok(record)
    }

    async fn appeal_record(&self, id: i64) -> Result<AppealRecord, ServiceError> {
        self.store.appeal(id).await?.ok_or_else(|| ServiceError::NotFound(format!("appeal {id}")))
    }
}
