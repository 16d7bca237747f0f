//! # assay-service: the use cases
//!
//! What partners, reviewers and the automation do, independent of how they ask: the server and
//! the CLI both call [`Service`]. Every operation takes the caller's [`Principal`] and decides
//! permission here, once:
//!
//! - [`access`]: who may do what — roles, partner isolation (another partner's listing is
//!   *not found*, never *forbidden*, so existence does not leak) and capabilities.
//! - [`submit`](Service::submit): validate the manifest and every partner check component, then
//!   store the version, its components and its review job in one transaction.
//! - [`worker`]: claim jobs from the durable queue — reviews one at a time, re-checks in
//!   batches — run the rule pack and the partner checks in the plugin host, apply live waivers,
//!   and record each verdict with its job's completion in one transaction.
//! - [`decide`](Service::decide), [`grant_waiver`](Service::grant_waiver): reviewer decisions
//!   with notes, applied with optimistic concurrency; waivers with approver and expiry.
//! - [`bundle`]: run bundles — everything a review ran, replayable bit for bit (`assay replay`).
//! - [`notices`]: change notices (lead time for breaking ones), deprecation schedules
//!   (minimum notice per stability level), and the scheduler that deprecates and retires
//!   versions as their dates pass.
//! - [`webhooks`]: partner webhooks (Standard Webhooks signatures) from a durable outbox fed by
//!   the audit log, with retries, backoff, deprecation reminders and a delivery log.
//! - [`exceptions`]: exception requests (a partner asks, staff grant or deny; a blocker's needs
//!   two reviewers) and the exception register.
//! - [`email`]: e-mail to the people an event concerns (verdicts, decisions, certification,
//!   capabilities, notices, deprecations, paused endpoints, the review queue, invitations),
//!   from a durable outbox fed by the audit log, with per-person preferences and unsubscribe
//!   links.
//! - [`rollout`]: rule packs published in shadow (every live listing re-checked, nothing
//!   blocked), their blast radius, enforcement with a grace deadline and change notices, and
//!   the re-check whose failing verdicts are applied at the deadline.
//! - [`standing`]: a partner's standing (live, blocked by which rule, deprecated, fix-by
//!   dates) and a listing's timeline.
//! - [`sessions`]: console sessions traded for a token, pages of listings and of the review
//!   queue, the last approved version a new one is diffed against, waivers ended early.
//! - [`view`]: a version as callers see it, with the verdict decided *now* from its findings
//!   and the waivers live now (an expired waiver re-opens its finding).
//!
//! - [`readiness`](Service::readiness), [`bootstrap_partner`](Service::bootstrap_partner),
//!   [`bootstrap_token`](Service::bootstrap_token): what operators and installers ask.
//!
//! Rules this crate keeps: no HTTP and no clap; the time comes from an injected [`Clock`];
//! callers see the service's own types and core's, never a store row or a host type — the
//! store stays behind [`Service`] (`tests/architecture.rs` checks the signatures).

pub mod access;
pub mod appeals;
pub mod audit;
pub mod bundle;
mod clock;
pub mod conversation;
pub mod email;
mod error;
pub mod exceptions;
mod group;
mod health;
pub mod notices;
pub mod people;
mod recorder;
pub mod review_queue;
pub mod rollout;
pub mod rules;
mod service;
pub mod sessions;
pub mod signin;
pub mod standing;
pub mod view;
pub mod webhooks;
pub mod worker;

pub use clock::{Clock, SystemClock};
pub use email::{
    EmailConfig, EmailContent, EmailPreference, EmailPreferences, EmailReport, Mailer, OutgoingEmail, Unsubscribed,
};
pub use error::{Internal, ServiceError, error_chain};
pub use health::{OperatorGauges, Readiness};
pub use notices::{DeprecationRequest, NoticeRequest, ScheduleReport, Withdrawal};
pub use people::{
    CapabilityEvent, CapabilityOutcome, CapabilityRequest, Member, MemberRequest, Partner, TokenInfo, TokenRequest,
};
pub use rollout::{PackUpload, Phase, Rollout};
pub use service::{
    Action, LONG_POLL_MAX, LONG_POLL_RECHECK, PartnerMove, Service, ServiceConfig, UploadedCheck, WaiverRequest,
};
pub use sessions::{ListingPage, QueuePage, TimelinePage};
pub use signin::{Invitation, SignIn, VerifiedIdentity};
pub use standing::{ExceptionSummary, FixBy, ListingStanding, Standing};
pub use view::{FindingView, VersionView};
pub use webhooks::{DispatchReport, FailureKind, SendFailure, Sender, WebhookConfig};

pub use assay_core::identity::{Capability, Principal, Role, Scope, Scopes, UserId, VersionId};
pub use assay_core::people::MemberChange;
