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
//! chain in the same transaction. Rows are read by column name only: every query decodes into a
//! private `#[derive(sqlx::FromRow)]` row struct whose fields are its columns' names, and each
//! row's column list is written once, beside its struct; a column out of order cannot become a
//! wrong value (`tests::rows_are_decoded_by_name` keeps it so).

pub mod audit;
pub mod model;
pub mod store;
pub mod token;

pub use model::{Capability, JobId, ListingId, PartnerId, Principal, Role, VersionId, VersionRecord};
pub use store::{
    Affected, AppealFilter, Attempt, AttemptOutcome, AutoPaused, Backend, CapabilityChange, CapabilityDecision,
    ClaimedRecheck, ClaimedReview, Completed, DISPATCHER, DeadJob, DeliveryRecord, DeprecationRecord,
    DeprecationTarget, DueEmail, DueMessage, EmailAttempt, EmailCounts, EndpointHealth, EndpointRecord,
    ExceptionDecision, ExceptionFilter, HealthPolicy, InvitationRecord, InvitationRefused, JobCounts, JobFate,
    JobGauge, LAST_USED_RESOLUTION_SECS, LastDecision, Lease, ListingRecord, MAX_ATTEMPTS, MAX_LOST, MemberChange,
    NewCheck, NewDeprecation, NewEmail, NewException, NewMessage, NewNotice, NewPack, NewToken, NewUser, NewWaiver,
    NodeJoin, NoticeRecord, PackMode, PackRecord, PartnerRecord, PendingLogin, QueueEntry, RecheckRecord,
    RecheckResult, ReviewRecord, Store, StoreError, StoredReview, Submission, TokenFilter, TokenOwner, TokenRecord,
    TokenStatus, UserRecord, VerdictCounts, WaiverRecord,
};

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What reads a column by position, or can, and why it is refused. (Split with `concat!` so
    /// this table does not match itself.)
    const POSITIONAL: &[(&str, &str)] = &[
        (concat!("try", "_get"), "reads a column by hand; derive `sqlx::FromRow` on a row struct"),
        (concat!("query", "_scalar"), "decodes the first column, whatever it is"),
        (concat!("query", "_as::<_, ("), "decodes a tuple by position"),
        (concat!("query", "_as("), "infers its row type, which may be a tuple; name it: `query_as::<_, SomeRow>`"),
        (concat!("Any", "Row"), "hands out a row to read by hand"),
        (concat!("sqlx::", "Row"), "brings `Row::get` into scope"),
    ];

    /// Every place in `source` that reads, or can read, a column by position: `line: why`.
    fn positional_reads(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (n, line) in source.lines().enumerate() {
            for (pattern, why) in POSITIONAL {
                if line.contains(pattern) {
                    found.push(format!("{}: `{pattern}` {why}", n + 1));
                }
            }
        }
        // `use sqlx::{…, Row}`, `use sqlx::prelude::*`, `use sqlx::*`: `Row::get` in scope.
        let mut offset = 0;
        for (n, line) in source.split_inclusive('\n').enumerate() {
            let code = line.trim_start();
            let is_use = code.starts_with("use ") || (code.starts_with("pub") && code.contains(" use "));
            if is_use {
                let start = offset + line.len() - code.len();
                let statement = &source[start..source[start..].find(';').map_or(source.len(), |end| start + end)];
                let words: Vec<&str> =
                    statement.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '*')).collect();
                if words.contains(&"sqlx") && words.iter().any(|w| ["Row", "prelude", "*"].contains(w)) {
                    found.push(format!("{}: `{statement}` brings `Row::get` into scope", n + 1));
                }
            }
            offset += line.len();
        }
        found
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// No column of the store is read by its position: a column list out of order fails
    /// instead of decoding into the wrong field.
    #[test]
    fn rows_are_decoded_by_name() {
        let mut files = Vec::new();
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        assert!(files.len() > 5, "the store's sources were not found");
        let mut found = Vec::new();
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            found.extend(positional_reads(&source).into_iter().map(|at| format!("{}:{at}", file.display())));
        }
        assert!(found.is_empty(), "rows must be decoded by column name:\n{}", found.join("\n"));
    }

    #[test]
    fn positional_reads_are_seen() {
        let positional = [
            concat!("let id: i64 = row.try", "_get(0)?;"),
            concat!("let v = row.try", "_get::<i64, _>(i)?;"),
            concat!("let n: i64 = sqlx::query", "_scalar(\"SELECT COUNT(*) FROM jobs\")"),
            concat!("let (a, b): (i64, String) = sqlx::query", "_as(\"SELECT a, b FROM t\")"),
            concat!("sqlx::query", "_as::<_, (i64, String)>(\"SELECT a, b FROM t\")"),
            concat!("fn f(row: &sqlx::any::Any", "Row) {}"),
            concat!("use sqlx::{Any, ", "Row};"),
            concat!("use sqlx::{\n    Any,\n    ", "Row,\n};"),
            concat!("use sqlx::pre", "lude::*;"),
        ];
        for source in positional {
            assert!(!positional_reads(source).is_empty(), "not seen: {source}");
        }
        let by_name = [
            "let Id { id } = sqlx::query_as::<_, Id>(\"SELECT id FROM t\").fetch_one(&pool).await?;",
            "use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};",
            "#[derive(sqlx::FromRow)]",
        ];
        for source in by_name {
            assert_eq!(positional_reads(source), Vec::<String>::new(), "{source}");
        }
    }
}
