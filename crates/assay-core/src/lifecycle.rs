//! The lifecycle of a listing version: a pure state machine.
//!
//! ```text
//! submitted → checking → changes_requested | awaiting_review → approved → published → deprecated → retired
//!                 ↑______________ recheck ______________________|___________|
//! any state before published → withdrawn (by the partner);  awaiting_review → rejected
//! ```
//!
//! The store applies a transition with optimistic concurrency: it names the state it read, and
//! only one of several concurrent transitions from that state can win.

use std::fmt;
use std::str::FromStr;

use crate::Verdict;

/// Where a listing version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionState {
    /// Received; the review has not started.
    Submitted,
    /// The rule pack and partner checks are running.
    Checking,
    /// Blocking findings, or a reviewer asked for changes; the partner submits a new version.
    ChangesRequested,
    /// Checks passed (or could not decide); a reviewer decides.
    AwaitingReview,
    /// A reviewer approved it.
    Approved,
    /// Live in the marketplace.
    Published,
    /// Live, with a sunset scheduled.
    Deprecated,
    /// Past its sunset; no longer offered.
    Retired,
    /// A reviewer refused it.
    Rejected,
    /// The partner took it back.
    Withdrawn,
}

impl VersionState {
    /// Every state, in lifecycle order.
    pub const ALL: [VersionState; 10] = [
        VersionState::Submitted,
        VersionState::Checking,
        VersionState::ChangesRequested,
        VersionState::AwaitingReview,
        VersionState::Approved,
        VersionState::Published,
        VersionState::Deprecated,
        VersionState::Retired,
        VersionState::Rejected,
        VersionState::Withdrawn,
    ];

    /// The snake_case name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Submitted => "submitted",
            VersionState::Checking => "checking",
            VersionState::ChangesRequested => "changes_requested",
            VersionState::AwaitingReview => "awaiting_review",
            VersionState::Approved => "approved",
            VersionState::Published => "published",
            VersionState::Deprecated => "deprecated",
            VersionState::Retired => "retired",
            VersionState::Rejected => "rejected",
            VersionState::Withdrawn => "withdrawn",
        }
    }

    /// Whether nothing can happen to the version any more (save, for `rejected`, an appeal that
    /// overturns the rejection).
    pub fn is_final(self) -> bool {
        matches!(self, VersionState::Retired | VersionState::Rejected | VersionState::Withdrawn)
    }

    /// Whether the version is, or was approved to be, in front of merchants.
    pub fn is_live(self) -> bool {
        matches!(self, VersionState::Approved | VersionState::Published | VersionState::Deprecated)
    }
}

impl fmt::Display for VersionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown version state `{0}`")]
pub struct UnknownState(pub String);

impl FromStr for VersionState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionState::ALL.into_iter().find(|state| state.as_str() == s).ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// Something that moves a version along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A worker starts the review.
    StartChecks,
    /// The review finished with this verdict.
    ChecksFinished(Verdict),
    /// A reviewer approves.
    Approve,
    /// A reviewer asks for changes.
    RequestChanges,
    /// A reviewer refuses.
    Reject,
    /// A reviewer certifies an approved (or live) version. The state does not change; the
    /// version gains the certified mark.
    Certify,
    /// The approved version goes live.
    Publish,
    /// A sunset was scheduled.
    Deprecate,
    /// The sunset passed.
    Retire,
    /// The partner withdraws the version.
    Withdraw,
    /// Something moved (a rule pack, a partner check, the platform API): review again.
    Recheck,
    /// A rule pack enforced after its grace deadline fails the live version: it leaves the
    /// marketplace and the partner ships a fixed version.
    Enforce,
    /// A second reviewer, hearing the partner's appeal, overturns a rejection or a request for
    /// changes: the version is approved.
    Overturn,
    /// The partner rolls back to an earlier approved version: this newer one, approved or
    /// live, is withdrawn.
    RollBack,
}

impl Transition {
    /// The name used in errors and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::StartChecks => "start_checks",
            Transition::ChecksFinished(_) => "checks_finished",
            Transition::Approve => "approve",
            Transition::RequestChanges => "request_changes",
            Transition::Reject => "reject",
            Transition::Certify => "certify",
            Transition::Publish => "publish",
            Transition::Deprecate => "deprecate",
            Transition::Retire => "retire",
            Transition::Withdraw => "withdraw",
            Transition::Recheck => "recheck",
            Transition::Enforce => "enforce",
            Transition::Overturn => "overturn",
            Transition::RollBack => "roll_back",
        }
    }
}

/// A transition that is not allowed from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {}: the version is {from}", transition.as_str().replace('_', " "))]
pub struct TransitionError {
    /// The state the version is in.
    pub from: VersionState,
    /// What was attempted.
    pub transition: Transition,
}

/// The state after `transition`, or why it is not allowed.
pub fn apply(from: VersionState, transition: Transition) -> Result<VersionState, TransitionError> {
    use Transition as T;
    use VersionState as S;
    let to = match (from, transition) {
        (S::Submitted, T::StartChecks) => S::Checking,
        (S::Checking, T::ChecksFinished(Verdict::Fail)) => S::ChangesRequested,
        // A review that could not decide goes to a person rather than back to the partner.
        (S::Checking, T::ChecksFinished(Verdict::Pass | Verdict::Error)) => S::AwaitingReview,
        (S::AwaitingReview, T::Approve) => S::Approved,
        (S::AwaitingReview, T::RequestChanges) => S::ChangesRequested,
        (S::AwaitingReview, T::Reject) => S::Rejected,
        (S::Approved | S::Published | S::Deprecated, T::Certify) => from,
        (S::Approved, T::Publish) => S::Published,
        (S::Approved | S::Published, T::Deprecate) => S::Deprecated,
        (S::Deprecated, T::Retire) => S::Retired,
        (S::Submitted | S::Checking | S::ChangesRequested | S::AwaitingReview | S::Approved, T::Withdraw) => {
            S::Withdrawn
        }
        (S::ChangesRequested | S::AwaitingReview, T::Recheck) => S::Checking,
        // Live versions are re-checked in place: their state does not move while they are.
        (S::Approved | S::Published | S::Deprecated, T::Recheck) => from,
        (S::Approved | S::Published | S::Deprecated, T::Enforce) => S::ChangesRequested,
        // An appeal upheld against a reviewer's decision: the one way out of `rejected`.
        (S::Rejected | S::ChangesRequested, T::Overturn) => S::Approved,
        (S::Approved | S::Published, T::RollBack) => S::Withdrawn,
        _ => return Err(TransitionError { from, transition }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Transition as T;
    use VersionState as S;

    const TRANSITIONS: [Transition; 16] = [
        T::StartChecks,
        T::ChecksFinished(Verdict::Pass),
        T::ChecksFinished(Verdict::Fail),
        T::ChecksFinished(Verdict::Error),
        T::Approve,
        T::RequestChanges,
        T::Reject,
        T::Certify,
        T::Publish,
        T::Deprecate,
        T::Retire,
        T::Withdraw,
        T::Recheck,
        T::Enforce,
        T::Overturn,
        T::RollBack,
    ];

    /// Every allowed (from, transition, to); everything else must be refused.
    const ALLOWED: &[(VersionState, Transition, VersionState)] = &[
        (S::Submitted, T::StartChecks, S::Checking),
        (S::Submitted, T::Withdraw, S::Withdrawn),
        (S::Checking, T::ChecksFinished(Verdict::Pass), S::AwaitingReview),
        (S::Checking, T::ChecksFinished(Verdict::Error), S::AwaitingReview),
        (S::Checking, T::ChecksFinished(Verdict::Fail), S::ChangesRequested),
        (S::Checking, T::Withdraw, S::Withdrawn),
        (S::ChangesRequested, T::Withdraw, S::Withdrawn),
        (S::ChangesRequested, T::Recheck, S::Checking),
        (S::ChangesRequested, T::Overturn, S::Approved),
        (S::AwaitingReview, T::Approve, S::Approved),
        (S::AwaitingReview, T::RequestChanges, S::ChangesRequested),
        (S::AwaitingReview, T::Reject, S::Rejected),
        (S::AwaitingReview, T::Withdraw, S::Withdrawn),
        (S::AwaitingReview, T::Recheck, S::Checking),
        (S::Approved, T::Certify, S::Approved),
        (S::Approved, T::Publish, S::Published),
        (S::Approved, T::Deprecate, S::Deprecated),
        (S::Approved, T::Withdraw, S::Withdrawn),
        (S::Approved, T::Recheck, S::Approved),
        (S::Approved, T::Enforce, S::ChangesRequested),
        (S::Approved, T::RollBack, S::Withdrawn),
        (S::Published, T::RollBack, S::Withdrawn),
        (S::Published, T::Certify, S::Published),
        (S::Published, T::Deprecate, S::Deprecated),
        (S::Published, T::Recheck, S::Published),
        (S::Published, T::Enforce, S::ChangesRequested),
        (S::Deprecated, T::Certify, S::Deprecated),
        (S::Deprecated, T::Retire, S::Retired),
        (S::Deprecated, T::Recheck, S::Deprecated),
        (S::Deprecated, T::Enforce, S::ChangesRequested),
        (S::Rejected, T::Overturn, S::Approved),
    ];

    #[test]
    fn the_transition_table_is_exactly_the_allowed_one() {
        for from in S::ALL {
            for transition in TRANSITIONS {
                let expected = ALLOWED.iter().find(|(f, t, _)| *f == from && *t == transition).map(|(_, _, to)| *to);
                assert_eq!(apply(from, transition).ok(), expected, "{from} + {transition:?}");
            }
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for from in S::ALL.into_iter().filter(|s| s.is_final()) {
            // Save an appeal that overturns a rejection.
            let others = TRANSITIONS.iter().filter(|&&t| !(from == S::Rejected && t == T::Overturn));
            assert!(others.into_iter().all(|&t| apply(from, t).is_err()), "{from}");
        }
    }

    #[test]
    fn refusals_say_what_and_where() {
        let err = apply(S::Rejected, T::Approve).unwrap_err();
        assert_eq!(err.to_string(), "cannot approve: the version is rejected");
        assert_eq!(
            apply(S::Published, T::RequestChanges).unwrap_err().to_string(),
            "cannot request changes: the version is published"
        );
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in S::ALL {
            assert_eq!(state.as_str().parse::<S>(), Ok(state));
        }
        assert!("live".parse::<S>().is_err());
    }
}
