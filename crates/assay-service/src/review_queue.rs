//! The review queue people plan around: who has each version (claimed or assigned), how long
//! it has waited, whether it is on hold, and when it is due against the review target
//! ([`ServiceConfig::review_target_days`](crate::ServiceConfig) business days; time on hold
//! does not count). Reviewers filter it; a partner sees where its version stands and when it
//! is expected.

use assay_core::VersionState;
use assay_core::identity::{Principal, Role, STAFF, person_label};
use assay_core::listing::QueueEntry;

use crate::access::{Permission, require};
use crate::{Service, ServiceError};

/// Which waiting versions to list.
#[derive(Debug, Clone, Default)]
pub struct ReviewQueueQuery {
    /// `waiting` (not on hold), `held`, `past_target` or `unassigned`.
    pub state: Option<String>,
    /// `pass` or `error`: the latest review's verdict.
    pub verdict: Option<String>,
    /// One partner's versions.
    pub partner: Option<String>,
    /// Versions whose latest review reported a finding of this rule.
    pub rule: Option<String>,
    /// `me`, `none`, or a reviewer's e-mail address.
    pub assignee: Option<String>,
}

/// A waiting version with its place and its clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedVersion {
    /// The version, its assignee and hold.
    pub entry: QueueEntry,
    /// Its place in the whole queue, longest-waiting first (1 is next).
    pub position: i64,
    /// Seconds on hold since it started waiting.
    pub held_secs: i64,
    /// When its review is due (Unix seconds).
    pub due_at: i64,
}

impl QueuedVersion {
    /// Whether it is past its due date at `now`.
    pub fn past_target(&self, now: i64) -> bool {
        now > self.due_at
    }
}

/// Where a partner's version stands in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePlace {
    /// 1 is next.
    pub position: i64,
    /// How many versions wait in all.
    pub waiting: i64,
    /// When its review is expected (its due date; later if it is put on hold).
    pub expected_by: i64,
    /// The reviewer who has it (staff read it; the API does not show it to partners).
    pub assignee: Option<String>,
}

const STATES: &str = "waiting, held, past_target or unassigned";

impl Service {
    /// The queue, filtered, longest-waiting first (reviewers and admins).
    pub async fn review_queue_filtered(
        &self,
        who: &Principal,
        query: &ReviewQueueQuery,
    ) -> Result<Vec<QueuedVersion>, ServiceError> {
        require(who, Permission::SeeOperations)?;
        if let Some(state) = query.state.as_deref()
            && !["waiting", "held", "past_target", "unassigned"].contains(&state)
        {
            return Err(ServiceError::invalid("/state", format!("`{state}` is not a queue state: {STATES}")));
        }
        if let Some(verdict) = query.verdict.as_deref()
            && !["pass", "fail", "error"].contains(&verdict)
        {
            return Err(ServiceError::invalid(
                "/verdict",
                format!("`{verdict}` is not a verdict: pass, fail or error"),
            ));
        }
        let assignee = match query.assignee.as_deref() {
            None | Some("none") => None,
            Some("me") => Some(who.actor.clone()),
            Some(email) => Some(self.reviewer_label(email).await?),
        };
        let with_rule = match query.rule.as_deref() {
            Some(rule) => Some(self.store.waiting_with_rule(rule).await?),
            None => None,
        };
        let now = self.clock.now();
        let target = self.config.review_target_days;
        let all = self.store.review_queue().await?;
        Ok(all
            .into_iter()
            .zip(1..)
            .map(|(entry, position)| QueuedVersion {
                held_secs: entry.held_for(now),
                due_at: entry.due_at(target, now),
                entry,
                position,
            })
            .filter(|q| {
                let e = &q.entry;
                let state = match query.state.as_deref() {
                    Some("waiting") => e.hold.is_none(),
                    Some("held") => e.hold.is_some(),
                    Some("past_target") => q.past_target(now),
                    Some("unassigned") => e.assignee.is_none(),
                    _ => true,
                };
                let assigned = match query.assignee.as_deref() {
                    None => true,
                    Some("none") => e.assignee.is_none(),
                    Some(_) => e.assignee == assignee,
                };
                state
                    && assigned
                    && query.verdict.as_deref().is_none_or(|v| e.verdict.is_some_and(|ev| ev.as_str() == v))
                    && query.partner.as_deref().is_none_or(|p| e.partner_name == p)
                    && with_rule.as_ref().is_none_or(|ids| ids.contains(&e.id))
            })
            .collect())
    }

    /// A queue entry's clock at `now`: seconds on hold, and when it is due.
    pub fn review_clock(&self, entry: &QueueEntry, now: i64) -> (i64, i64) {
        (entry.held_for(now), entry.due_at(self.config.review_target_days, now))
    }

    /// Where a version stands in the queue, for whoever may see it; `None` unless it awaits a
    /// reviewer.
    pub async fn queue_place(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
    ) -> Result<Option<QueuePlace>, ServiceError> {
        self.listing(who, slug).await?;
        let record = self.version_record(slug, version).await?;
        self.place_of(record.id).await
    }

    /// A version's place in the queue; `None` unless it awaits a reviewer.
    pub(crate) async fn place_of(
        &self,
        id: assay_core::identity::VersionId,
    ) -> Result<Option<QueuePlace>, ServiceError> {
        let now = self.clock.now();
        Ok(self.store.queue_place(id).await?.map(|(entry, before, waiting)| QueuePlace {
            position: before + 1,
            waiting,
            expected_by: entry.due_at(self.config.review_target_days, now),
            assignee: entry.assignee,
        }))
    }

    /// A reviewer takes a waiting version (`reviewer` `None`: themselves — refused if another
    /// reviewer has it) or gives it to another reviewer, by e-mail address (taking it from
    /// whoever had it). Returns who has it now.
    pub async fn assign_review(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        reviewer: Option<&str>,
    ) -> Result<String, ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, slug).await?;
        let record = self.version_record(slug, version).await?;
        if record.state != VersionState::AwaitingReview {
            return Err(ServiceError::NotAllowed {
                message: format!("only a version awaiting review is assigned; {slug} {version} is {}", record.state),
                current: record.state,
            });
        }
        let (assignee, take_over) = match reviewer {
            None => (who.actor.clone(), false),
            Some(email) => (self.reviewer_label(email).await?, true),
        };
        let at = self.clock.now();
        self.store.assign_review(&who.actor, slug, version, &assignee, take_over, at).await?;
        Ok(assignee)
    }

    /// Take a version's review away from whoever has it (reviewers).
    pub async fn unassign_review(&self, who: &Principal, slug: &str, version: &str) -> Result<(), ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, slug).await?;
        let record = self.version_record(slug, version).await?;
        match self.store.unassign_review(&who.actor, slug, version).await? {
            Some(_) => Ok(()),
            None => Err(ServiceError::NotAllowed {
                message: format!("no one is assigned {slug} {version}"),
                current: record.state,
            }),
        }
    }

    /// The audit log's name for the reviewer with this e-mail address.
    async fn reviewer_label(&self, email: &str) -> Result<String, ServiceError> {
        let user = self.store.user_by_email(email).await?.filter(|u| u.left_at.is_none());
        match user {
            Some(u) if u.role == Role::Reviewer => Ok(person_label(&u.name, &u.email, STAFF)),
            Some(u) => Err(ServiceError::invalid("/reviewer", format!("{} is not a reviewer", u.email))),
            None => Err(ServiceError::invalid("/reviewer", format!("no reviewer has the address `{email}`"))),
        }
    }
}
