//! # assay-store: the lifecycle store
//!
//! Partners, API tokens, listings, listing versions, review runs and jobs, partner check
//! components (by digest), waivers and the hash-chained audit log, behind one
//! [`Store`] that runs on either backend:
//!
//! - **SQLite** (the embedded default): created and migrated on first open in the data
//!   directory, WAL journal, and every write transaction begins `IMMEDIATE`, so a transaction
//!   never fails with "database is locked" when it upgrades from reading to writing.
//! - **PostgreSQL** (`postgres://…`), for several API nodes and workers on one database.
//!
//! Migrations live in `migrations/sqlite` and `migrations/postgres` and are applied on open;
//! released migrations are never edited. The SQL is shared between backends wherever it can be
//! (`$N` placeholders work on both); the conformance suite (`tests/conformance.rs`) runs every
//! operation against both.
//!
//! Rules this crate keeps: it knows rows and SQL, not HTTP; lifecycle decisions come from
//! [`assay_core::lifecycle`], applied here with optimistic concurrency (a transition names the
//! state it read; of several concurrent ones exactly one wins); every change appends to the audit
//! chain in the same transaction.

pub mod audit;
pub mod model;
pub mod store;
pub mod token;

pub use model::{Capability, JobId, ListingId, PartnerId, Principal, Role, VersionId, VersionRecord};
pub use store::{
    Affected, AttemptOutcome, Backend, ClaimedRecheck, ClaimedReview, Completed, DeadJob, DeliveryRecord,
    DeprecationRecord, DeprecationTarget, DueMessage, EndpointRecord, JobCounts, JobFate, Lease, ListingRecord,
    MAX_ATTEMPTS, MAX_LOST, NewCheck, NewDeprecation, NewMessage, NewNotice, NewPack, NewWaiver, NoticeRecord,
    PackMode, PackRecord, QueueEntry, RecheckRecord, RecheckResult, ReviewRecord, Store, StoreError, StoredReview,
    Submission, VerdictCounts, WaiverRecord,
};
