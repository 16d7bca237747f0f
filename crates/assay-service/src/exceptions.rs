//! Exception requests and the exception register.
//!
//! A partner asks for an exception to a finding its version has — the rule, the versions, why,
//! until when (at most [`ServiceConfig::max_exception_days`](crate::ServiceConfig) ahead). Staff
//! grant it, possibly for fewer versions or a shorter time, or deny it, always with a rationale.
//! A grant is a waiver: the finding stops counting against the verdict until it lapses, and
//! then counts again. With the two-person rule
//! ([`ServiceConfig::two_person_blockers`](crate::ServiceConfig)), an exception to a `blocker`
//! needs a second reviewer to confirm the first one's grant. Every step is audited; concurrent
//! deciders: exactly one wins, the others get a conflict.

use assay_core::exception::{ExceptionRecord, ExceptionState};
use assay_core::identity::Principal;
use assay_store::{ExceptionDecision, ExceptionFilter, NewException};

use crate::access::{Permission, require, require_owner};
use crate::{Service, ServiceError};

pub use assay_core::exception::{ExceptionRecord as Exception, ExceptionState as State};

/// What a partner asks for.
#[derive(Debug, Clone)]
pub struct ExceptionRequest {
    /// The rule whose finding it is about.
    pub rule_id: String,
    /// The versions it should cover, a semver range (`None`: this version only).
    pub versions: Option<String>,
    /// Why the finding is acceptable for now.
    pub justification: String,
    /// Until when (Unix seconds).
    pub expires_at: i64,
}

/// A staff decision on a request.
#[derive(Debug, Clone)]
pub enum ExceptionVerdict {
    /// Grant it: for `versions` (`None`: as asked) until `expires_at` (`None`: as asked; never
    /// later than asked).
    Grant { versions: Option<String>, expires_at: Option<i64>, rationale: String },
    /// Deny it.
    Deny { rationale: String },
}

/// Which requests the register lists.
#[derive(Debug, Clone, Default)]
pub struct ExceptionQuery {
    /// One partner's (staff only; a partner always sees its own).
    pub partner: Option<String>,
    /// For one rule.
    pub rule: Option<String>,
    /// `requested`, `confirming`, `granted`, `denied`, or `live` / `lapsed` (granted ones
    /// by whether their waiver still covers).
    pub status: Option<String>,
    /// For one listing.
    pub listing: Option<String>,
}

fn range(text: &str, pointer: &str) -> Result<semver::VersionReq, ServiceError> {
    text.parse().map_err(|e| ServiceError::invalid(pointer, format!("`{text}` is not a semver range: {e}")))
}

impl Service {
    /// A partner asks for an exception to a finding of `version`. Refused: a rule that
    /// reported no finding on it, a range that does not cover it, an expiry in the past or
    /// beyond the policy's maximum, an empty justification.
    pub async fn request_exception(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        request: &ExceptionRequest,
    ) -> Result<Exception, ServiceError> {
        let view = self.version(who, slug, version).await?;
        require_owner(who, &view.listing, Permission::Submit)?;
        let rule = request.rule_id.trim();
        let Some(finding) = view.findings.iter().find(|f| f.finding.rule_id == rule) else {
            let fired: std::collections::BTreeSet<&str> =
                view.findings.iter().map(|f| f.finding.rule_id.as_str()).collect();
            let known = if fired.is_empty() { "none".to_owned() } else { Vec::from_iter(fired).join(", ") };
            return Err(ServiceError::invalid(
                "/rule_id",
                format!(
                    "`{rule}` reported no finding on {slug} {version}; exceptions are for findings (here: {known})"
                ),
            ));
        };
        let versions = request.versions.clone().unwrap_or_else(|| format!("={version}"));
        let req = range(&versions, "/versions")?;
        let this = semver::Version::parse(version).map_err(ServiceError::internal)?;
        if !req.matches(&this) {
            return Err(ServiceError::invalid("/versions", format!("`{versions}` does not cover {version}")));
        }
        if request.justification.trim().is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        let now = self.clock.now();
        let max_days = i64::from(self.config.max_exception_days);
        if request.expires_at <= now {
            return Err(ServiceError::invalid("/expires_at", "an exception must expire in the future".into()));
        }
        if request.expires_at > now + max_days * 86_400 {
            return Err(ServiceError::invalid(
                "/expires_at",
                format!("an exception lasts at most {max_days} days; ask again before it lapses"),
            ));
        }
        let new = NewException {
            slug,
            version,
            rule_id: rule,
            severity: finding.finding.severity.as_str(),
            versions: &req.to_string(),
            justification: request.justification.trim(),
            expires_at: request.expires_at,
        };
        let id = self.store.request_exception(&who.actor, &new, now).await?;
        self.exception_record(id).await
    }

    /// Staff decide on a request. An exception to a `blocker` under the two-person rule is
    /// granted in two steps by two reviewers; the second may narrow what the first granted.
    pub async fn decide_exception(
        &self,
        who: &Principal,
        id: i64,
        verdict: &ExceptionVerdict,
    ) -> Result<Exception, ServiceError> {
        require(who, Permission::Review)?;
        let current = self.exception_record(id).await?;
        if !current.state.open() {
            return Err(ServiceError::AlreadyDecided(format!(
                "exception {id} was {} already by {}",
                current.state,
                current.decided_by.as_deref().unwrap_or("someone")
            )));
        }
        let now = self.clock.now();
        let decision = match verdict {
            ExceptionVerdict::Deny { rationale } => {
                if rationale.trim().is_empty() {
                    return Err(ServiceError::NoteRequired);
                }
                return Ok(self
                    .store
                    .decide_exception(&who.actor, id, current.state, ExceptionDecision::Deny { rationale }, now)
                    .await?);
            }
            ExceptionVerdict::Grant { versions, expires_at, rationale } => {
                (versions.clone(), *expires_at, rationale.trim().to_owned())
            }
        };
        let (versions, expires_at, rationale) = decision;
        if rationale.is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        // What was asked, or what the first reviewer granted: a grant may narrow it, never widen.
        let ceiling = current.granted_expires_at.unwrap_or(current.expires_at);
        let expires_at = expires_at.unwrap_or(ceiling);
        if expires_at <= now {
            return Err(ServiceError::invalid("/expires_at", "an exception must expire in the future".into()));
        }
        if expires_at > ceiling {
            return Err(ServiceError::invalid(
                "/expires_at",
                "a grant can be shorter than what was asked (or first granted), not longer".into(),
            ));
        }
        let asked = current.granted_versions.clone().unwrap_or_else(|| current.versions.clone());
        let asked_range = range(&asked, "/versions")?;
        let versions = range(&versions.unwrap_or(asked.clone()), "/versions")?;
        if !assay_core::waiver::range_within(&versions, &asked_range) {
            return Err(ServiceError::invalid(
                "/versions",
                format!("a grant can cover fewer versions than `{asked}` (what was asked, or first granted), not more"),
            ));
        }
        if semver::Version::parse(&current.version).is_ok_and(|v| !versions.matches(&v)) {
            return Err(ServiceError::invalid(
                "/versions",
                format!("`{versions}` leaves out {}, the version the exception is for", current.version),
            ));
        }
        let second_needed = self.config.two_person_blockers && current.severity == "blocker";
        let decision = match current.state {
            ExceptionState::Requested if second_needed => {
                ExceptionDecision::GrantPending { versions: &versions, expires_at, rationale: &rationale }
            }
            ExceptionState::Confirming => {
                let (first, _) = current.first_decision.clone().unwrap_or_default();
                if first == who.actor {
                    return Err(ServiceError::Forbidden(format!(
                        "exception {id} is to a blocker: a second reviewer confirms it, not {first}, who granted it first"
                    )));
                }
                ExceptionDecision::Grant { versions: &versions, expires_at, rationale: &rationale }
            }
            _ => ExceptionDecision::Grant { versions: &versions, expires_at, rationale: &rationale },
        };
        Ok(self.store.decide_exception(&who.actor, id, current.state, decision, now).await?)
    }

    /// The exception register: every request the caller may see, newest first (a partner's
    /// own; staff: all, or one partner's).
    pub async fn exceptions(&self, who: &Principal, query: &ExceptionQuery) -> Result<Vec<Exception>, ServiceError> {
        require(who, Permission::Read)?;
        let partner = self.scope_to_partner(who, query.partner.as_deref()).await?;
        let (state, after) = match query.status.as_deref() {
            None => (None, None),
            Some(status @ ("live" | "lapsed")) => (Some(ExceptionState::Granted), Some(status)),
            Some(other) => (Some(other.parse().map_err(|e: String| ServiceError::invalid("/status", e))?), None),
        };
        let filter = ExceptionFilter { partner, rule: query.rule.clone(), state, slug: query.listing.clone() };
        let now = self.clock.now();
        let all = self.store.exceptions(&filter).await?;
        Ok(all.into_iter().filter(|e| after.is_none_or(|status| e.status(now) == status)).collect())
    }

    /// One request (another partner's is *not found*).
    pub async fn exception(&self, who: &Principal, id: i64) -> Result<Exception, ServiceError> {
        require(who, Permission::Read)?;
        let record = self.exception_record(id).await?;
        if !who.is_staff() && who.partner != Some(record.partner) {
            return Err(ServiceError::NotFound(format!("exception {id}")));
        }
        Ok(record)
    }

    async fn exception_record(&self, id: i64) -> Result<ExceptionRecord, ServiceError> {
        self.store.exception(id).await?.ok_or_else(|| ServiceError::NotFound(format!("exception {id}")))
    }
}
