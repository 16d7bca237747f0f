//! [`Store`]: one interface, two backends.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use assay_core::lifecycle::{self, TransitionError};
use assay_core::{CheckRun, Finding, Transition, Verdict, VersionState};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row, Transaction};

use crate::audit::{self, AuditEvent, ChainBroken};
use crate::model::{Capability, ListingId, PartnerId, Principal, Role, VersionId, VersionRecord};
use crate::token;

/// A finished review, as [`Store::record_review`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewRecord<'a> {
    /// The rule pack's name.
    pub pack_name: &'a str,
    /// The rule pack's version.
    pub pack_version: &'a str,
    /// Every check run, with findings and resource usage.
    pub runs: &'a [CheckRun],
    /// The verdict over them.
    pub verdict: Verdict,
}

/// Which database is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one file in the data directory.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    Url(String),
    /// The data directory could not be created.
    #[error("could not create the data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Migrations failed.
    #[error("could not migrate the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database failed (connection, constraint, IO).
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Something with this identity already exists.
    #[error("{0} already exists")]
    Exists(String),
    /// Nothing has this identity.
    #[error("{0} not found")]
    NotFound(String),
    /// The transition is not allowed from the state the caller named.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Another writer changed the version first; it is now in `current`.
    #[error("the version changed concurrently; it is now {current}")]
    Conflict {
        /// The state it is in now.
        current: VersionState,
    },
    /// A reviewer decision needs a note saying why.
    #[error("a decision needs a note saying why")]
    NoteRequired,
    /// A row the store wrote cannot be read back (e.g. an unknown state name).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// The lifecycle store. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

const SQLITE_FILE: &str = "assay.db";

/// Serializes writers on PostgreSQL (the audit chain has one head), as `BEGIN IMMEDIATE` does
/// on SQLite. Readers are never blocked.
const PG_WRITE_LOCK: &str = "SELECT pg_advisory_xact_lock(7245001)";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Open (creating and migrating if needed) the SQLite store in `dir`.
    pub async fn open_data_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::DataDir { path: dir.display().to_string(), source })?;
        Store::open(&format!("sqlite://{}?mode=rwc", dir.join(SQLITE_FILE).display())).await
    }

    /// Open a store by URL (`sqlite://PATH?mode=rwc` or `postgres://…`) and apply migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Url(url.split('@').next_back().unwrap_or_default().to_owned()));
        };
        let mut options = AnyPoolOptions::new().max_connections(16);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("../../migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("../../migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite (it takes the write lock up front, so
    /// it never fails upgrading from read to write), a serialized writer on PostgreSQL.
    async fn write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                tx.execute(PG_WRITE_LOCK).await?;
                Ok(tx)
            }
        }
    }

    /// The partner named `name`, created with `capabilities` if it does not exist yet.
    pub async fn ensure_partner(
        &self,
        actor: &str,
        name: &str,
        capabilities: &[Capability],
    ) -> Result<PartnerId, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO partners (name, capabilities, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(Capability::encode(capabilities))
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let id: i64 =
            sqlx::query("SELECT id FROM partners WHERE name = $1").bind(name).fetch_one(&mut *tx).await?.try_get(0)?;
        if inserted > 0 {
            append(&mut tx, actor, "partner.create", &format!("partner:{name}"), &Capability::encode(capabilities))
                .await?;
        }
        tx.commit().await?;
        Ok(PartnerId(id))
    }

    /// Create a token and return it. It is shown once: only its hash is stored.
    pub async fn create_token(
        &self,
        actor: &str,
        role: Role,
        partner: Option<PartnerId>,
    ) -> Result<String, StoreError> {
        let secret = token::generate();
        let mut tx = self.write().await?;
        let id: i64 =
            sqlx::query("INSERT INTO tokens (hash, role, partner_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(token::hash(&secret))
                .bind(role.as_str())
                .bind(partner.map(|p| p.0))
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let detail = match partner {
            Some(p) => format!("role={role} partner={}", p.0),
            None => format!("role={role}"),
        };
        append(&mut tx, actor, "token.create", &format!("token:{id}"), &detail).await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// The principal a bearer token stands for, if it is a token this store issued.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        if !secret.starts_with(token::PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT t.id, t.role, t.partner_id, p.capabilities FROM tokens t LEFT JOIN partners p ON p.id = t.partner_id WHERE t.hash = $1",
        )
        .bind(token::hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get(0)?;
        let role: String = row.try_get(1)?;
        let partner: Option<i64> = row.try_get(2)?;
        let capabilities: Option<String> = row.try_get(3)?;
        Ok(Some(Principal {
            role: role.parse().map_err(StoreError::Corrupt)?,
            partner: partner.map(PartnerId),
            capabilities: capabilities.as_deref().map(Capability::decode).unwrap_or_default(),
            actor: format!("token:{id}"),
        }))
    }

    /// Create a listing owned by `owner`.
    pub async fn create_listing(
        &self,
        actor: &str,
        owner: PartnerId,
        slug: &str,
        name: &str,
    ) -> Result<ListingId, StoreError> {
        let mut tx = self.write().await?;
        let id = sqlx::query("INSERT INTO listings (slug, name, partner_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(owner.0)
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Err(StoreError::Exists(format!("listing `{slug}`"))) };
        let id: i64 = id.try_get(0)?;
        append(&mut tx, actor, "listing.create", &format!("listing:{slug}"), name).await?;
        tx.commit().await?;
        Ok(ListingId(id))
    }

    /// Record a submitted version (state `submitted`).
    pub async fn create_version(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        manifest: &str,
    ) -> Result<VersionRecord, StoreError> {
        let mut tx = self.write().await?;
        let listing =
            sqlx::query("SELECT id FROM listings WHERE slug = $1").bind(slug).fetch_optional(&mut *tx).await?;
        let Some(listing) = listing else { return Err(StoreError::NotFound(format!("listing `{slug}`"))) };
        let listing: i64 = listing.try_get(0)?;
        let digest = hex::encode(Sha256::digest(manifest.as_bytes()));
        let at = now();
        let inserted = sqlx::query(
            "INSERT INTO versions (listing_id, version, manifest, digest, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (listing_id, version) DO NOTHING RETURNING id",
        )
        .bind(listing)
        .bind(version)
        .bind(manifest)
        .bind(&digest)
        .bind(VersionState::Submitted.as_str())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(inserted) = inserted else { return Err(StoreError::Exists(format!("version {version} of `{slug}`"))) };
        let id: i64 = inserted.try_get(0)?;
        append(&mut tx, actor, "version.submit", &format!("listing:{slug}@{version}"), &format!("digest={digest}"))
            .await?;
        tx.commit().await?;
        Ok(VersionRecord {
            id: VersionId(id),
            listing: ListingId(listing),
            slug: slug.to_owned(),
            version: version.to_owned(),
            manifest: manifest.to_owned(),
            digest,
            state: VersionState::Submitted,
            revision: 0,
            certified: false,
        })
    }

    /// A version by listing slug and version.
    pub async fn version(&self, slug: &str, version: &str) -> Result<Option<VersionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT v.id, v.listing_id, l.slug, v.version, v.manifest, v.digest, v.state, v.revision, v.certified \
             FROM versions v JOIN listings l ON l.id = v.listing_id WHERE l.slug = $1 AND v.version = $2",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| version_record(&row)).transpose()
    }

    /// Move a version from the state the caller read (`expected`) by `transition`. Exactly one
    /// of several concurrent transitions from the same state wins; the others get
    /// [`StoreError::Conflict`] with the state the winner left. A reviewer's decision (approve,
    /// request changes, reject, certify) needs a `note` and is recorded in `decisions` with its
    /// actor, in the same transaction.
    pub async fn transition(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        expected: VersionState,
        transition: Transition,
        note: &str,
    ) -> Result<VersionRecord, StoreError> {
        let next = lifecycle::apply(expected, transition)?;
        if is_decision(transition) && note.trim().is_empty() {
            return Err(StoreError::NoteRequired);
        }
        let mut tx = self.write().await?;
        let Some(version_id) =
            advance(&mut tx, slug, version, expected, next, transition == Transition::Certify).await?
        else {
            drop(tx);
            return Err(self.lost_race(slug, version).await);
        };
        if is_decision(transition) {
            sqlx::query(
                "INSERT INTO decisions (version_id, actor, action, note, from_state, to_state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(version_id)
            .bind(actor)
            .bind(transition.as_str())
            .bind(note)
            .bind(expected.as_str())
            .bind(next.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        let detail = format!("{expected} -> {next}; {note}");
        append(
            &mut tx,
            actor,
            &format!("version.{}", transition.as_str()),
            &format!("listing:{slug}@{version}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        self.version(slug, version).await?.ok_or_else(|| StoreError::NotFound(format!("version {version} of `{slug}`")))
    }

    /// Record a finished review of a version that is `checking`: the review run, every check run
    /// and finding, the version's transition by the verdict and the audit event, in one
    /// transaction. A version that is no longer `checking` (a concurrent or repeated delivery)
    /// records nothing and gets [`StoreError::Conflict`].
    pub async fn record_review(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        review: &ReviewRecord<'_>,
    ) -> Result<VersionRecord, StoreError> {
        let next = lifecycle::apply(VersionState::Checking, Transition::ChecksFinished(review.verdict))?;
        let mut tx = self.write().await?;
        let Some(version_id) = advance(&mut tx, slug, version, VersionState::Checking, next, false).await? else {
            drop(tx);
            return Err(self.lost_race(slug, version).await);
        };
        let review_id: i64 = sqlx::query(
            "INSERT INTO review_runs (version_id, pack_name, pack_version, verdict, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(version_id)
        .bind(review.pack_name)
        .bind(review.pack_version)
        .bind(review.verdict.as_str())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for run in review.runs {
            let micros = i64::try_from(run.usage.wall_time.as_micros()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO check_runs (review_id, check_id, digest, rule_version, platform, outcome, message, wall_time_us, fuel, \
                 peak_memory_bytes, output_bytes, log_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(review_id)
            .bind(&run.check_id)
            .bind(&run.digest)
            .bind(run.rule.as_ref().map(|r| r.version.to_string()))
            .bind(i64::from(run.platform))
            .bind(run.outcome.as_str())
            .bind(run.message.as_deref())
            .bind(micros)
            .bind(run.usage.fuel.map(|f| i64::try_from(f).unwrap_or(i64::MAX)))
            .bind(i64::try_from(run.usage.peak_memory).unwrap_or(i64::MAX))
            .bind(i64::try_from(run.usage.output_bytes).unwrap_or(i64::MAX))
            .bind(i64::try_from(run.usage.log_bytes).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
            for f in &run.findings {
                sqlx::query(
                    "INSERT INTO findings (review_id, rule_id, severity, message, pointer, remediation, help_url, author) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(review_id)
                .bind(&f.rule_id)
                .bind(f.severity.as_str())
                .bind(&f.message)
                .bind(&f.pointer)
                .bind(f.remediation.as_deref())
                .bind(&f.help_url)
                .bind(if run.platform { "platform" } else { "partner" })
                .execute(&mut *tx)
                .await?;
            }
        }
        let findings: usize = review.runs.iter().map(|r| r.findings.len()).sum();
        let detail = format!(
            "checking -> {next}; verdict {} from {}@{} ({} checks, {findings} findings)",
            review.verdict,
            review.pack_name,
            review.pack_version,
            review.runs.len()
        );
        append(&mut tx, actor, "version.review", &format!("listing:{slug}@{version}"), &detail).await?;
        tx.commit().await?;
        self.version(slug, version).await?.ok_or_else(|| StoreError::NotFound(format!("version {version} of `{slug}`")))
    }

    /// The findings of a version's latest review, most severe first.
    pub async fn latest_findings(&self, slug: &str, version: &str) -> Result<Vec<Finding>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.rule_id, f.severity, f.message, f.pointer, f.remediation, f.help_url FROM findings f \
             WHERE f.review_id = (SELECT r.id FROM review_runs r JOIN versions v ON v.id = r.version_id \
             JOIN listings l ON l.id = v.listing_id WHERE l.slug = $1 AND v.version = $2 ORDER BY r.id DESC LIMIT 1) ORDER BY f.id",
        )
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        let mut findings = rows
            .iter()
            .map(|row| {
                let severity: String = row.try_get(1)?;
                Ok(Finding {
                    rule_id: row.try_get(0)?,
                    severity: severity
                        .parse()
                        .map_err(|e: assay_core::severity::UnknownSeverity| StoreError::Corrupt(e.to_string()))?,
                    message: row.try_get(2)?,
                    pointer: row.try_get(3)?,
                    remediation: row.try_get(4)?,
                    help_url: row.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        Ok(findings)
    }

    /// Why a conditional update changed nothing: the version is in another state now, or gone.
    async fn lost_race(&self, slug: &str, version: &str) -> StoreError {
        match self.version(slug, version).await {
            Ok(Some(current)) => StoreError::Conflict { current: current.state },
            Ok(None) => StoreError::NotFound(format!("version {version} of `{slug}`")),
            Err(e) => e,
        }
    }

    /// The decisions on a version, oldest first: (actor, action, note).
    pub async fn decisions(&self, slug: &str, version: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.actor, d.action, d.note FROM decisions d JOIN versions v ON v.id = d.version_id \
             JOIN listings l ON l.id = v.listing_id WHERE l.slug = $1 AND v.version = $2 ORDER BY d.id",
        )
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// Every audit event, in order.
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_events ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    seq: row.try_get(0)?,
                    at: row.try_get(1)?,
                    actor: row.try_get(2)?,
                    action: row.try_get(3)?,
                    subject: row.try_get(4)?,
                    detail: row.try_get(5)?,
                    prev_hash: row.try_get(6)?,
                    hash: row.try_get(7)?,
                })
            })
            .collect()
    }

    /// Verify the whole audit chain; the number of events when it is intact.
    pub async fn verify_audit(&self) -> Result<Result<usize, ChainBroken>, StoreError> {
        Ok(audit::verify(&self.audit_events().await?))
    }

    /// Direct SQL for tests that tamper with rows the way an intruder would.
    #[doc(hidden)]
    pub async fn execute_unchecked(&self, sql: &'static str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }
}

/// Transitions that are a reviewer's decision: recorded with who, when and why.
fn is_decision(transition: Transition) -> bool {
    matches!(transition, Transition::Approve | Transition::RequestChanges | Transition::Reject | Transition::Certify)
}

fn version_record(row: &AnyRow) -> Result<VersionRecord, StoreError> {
    let state: String = row.try_get(6)?;
    let certified: i64 = row.try_get(8)?;
    Ok(VersionRecord {
        id: VersionId(row.try_get(0)?),
        listing: ListingId(row.try_get(1)?),
        slug: row.try_get(2)?,
        version: row.try_get(3)?,
        manifest: row.try_get(4)?,
        digest: row.try_get(5)?,
        state: state.parse().map_err(|e: assay_core::lifecycle::UnknownState| StoreError::Corrupt(e.to_string()))?,
        revision: row.try_get(7)?,
        certified: certified != 0,
    })
}

/// The optimistic step every state change goes through: move the version from `expected` to
/// `next` (bumping its revision, and certifying it if asked) only if it is still in `expected`.
/// Returns its id, or `None` when another writer got there first (or it does not exist).
async fn advance(
    tx: &mut AnyConnection,
    slug: &str,
    version: &str,
    expected: VersionState,
    next: VersionState,
    certify: bool,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE versions SET state = $1, revision = revision + 1, certified = CASE WHEN $2 = 1 THEN 1 ELSE certified END, updated_at = $3 \
         WHERE state = $4 AND listing_id = (SELECT id FROM listings WHERE slug = $5) AND version = $6 RETURNING id",
    )
    .bind(next.as_str())
    .bind(i64::from(certify))
    .bind(now())
    .bind(expected.as_str())
    .bind(slug)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|row| row.try_get(0)).transpose()
}

/// Append to the audit chain inside the caller's write transaction.
async fn append(
    tx: &mut AnyConnection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    let head =
        sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let (seq, prev) = match head {
        Some(row) => (row.try_get::<i64, _>(0)? + 1, row.try_get::<String, _>(1)?),
        None => (1, audit::GENESIS.to_owned()),
    };
    let at = now();
    let hash = audit::hash(&prev, seq, at, actor, action, subject, detail);
    sqlx::query("INSERT INTO audit_events (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(seq)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(prev)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
