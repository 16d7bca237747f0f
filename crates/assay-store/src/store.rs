//! [`Store`]: one interface, two backends.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use assay_core::lifecycle::{self, TransitionError};
use assay_core::listing::Decision;
use assay_core::{Transition, VersionState};
use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};

use crate::audit::{self, AuditEvent, ChainBroken, Checkpoint};
use crate::model::{Capability, ListingId, PartnerId, Principal, Role, VersionId, VersionRecord};
use crate::token;

mod appeals;
mod conversation;
mod email;
mod exceptions;
mod jobs;
mod listings;
mod notices;
mod packs;
mod people;
mod reviews;
mod sessions;
mod signin;
mod waivers;
mod webhooks;

pub use appeals::{AppealFilter, LastDecision};
pub use email::{DueEmail, EmailAttempt, EmailCounts, NewEmail};
pub use exceptions::{ExceptionDecision, ExceptionFilter, NewException};
pub use jobs::{
    ClaimedRecheck, ClaimedReview, Completed, DeadJob, JobCounts, JobFate, JobGauge, Lease, MAX_ATTEMPTS, MAX_LOST,
    NodeJoin, RecheckResult,
};
pub use listings::{ListingRecord, QueueEntry};
pub use notices::{DeprecationRecord, DeprecationTarget, NewDeprecation, NewNotice, NoticeRecord};
pub use packs::{Affected, NewPack, PackMode, PackRecord, RecheckRecord, VerdictCounts};
pub use people::{
    CapabilityChange, CapabilityDecision, LAST_USED_RESOLUTION_SECS, MemberChange, NewToken, NewUser, PartnerRecord,
    TokenFilter, TokenOwner, TokenRecord, UserRecord,
};
pub use reviews::{ReviewRecord, StoredReview};
pub use signin::{InvitationRecord, InvitationRefused, PendingLogin};
pub use waivers::{NewWaiver, WaiverRecord};
pub use webhooks::{
    Attempt, AttemptOutcome, AutoPaused, DISPATCHER, DeliveryRecord, DueMessage, EndpointHealth, EndpointRecord,
    HealthPolicy, NewMessage,
};

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
    /// Another decision came first.
    #[error("{0}")]
    AlreadyDecided(String),
    /// A job's claim lapsed (or another worker took the job over) before its result was
    /// recorded: the result is refused, and the job's current holder records its own.
    #[error("the job's lease lapsed before its result was recorded; another worker has it")]
    LeaseLost,
    /// The change would leave a partner organisation without an owner.
    #[error("{0} would have no owner left; make another member an owner first")]
    LastOwner(String),
    /// A row the store wrote cannot be read back (e.g. an unknown state name).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// The lifecycle store. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    faults: FaultHook,
    /// This process's node slot, once it joined (`Store::join_as_node`).
    node: Arc<std::sync::OnceLock<jobs::NodeSlot>>,
    /// The writer's turn: this process's write transactions take it, first come first served,
    /// before they begin (see [`WriteTx`]).
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction that holds this process's writer turn until it ends.
///
/// Both databases have one writer at a time: SQLite by its file lock, PostgreSQL by the
/// audit chain's advisory lock. A writer that finds the lock taken waits — on SQLite in its
/// busy handler, which sleeps 1, 2, 5, 10… ms between tries, so under load a write waited
/// several times as long as the writes ahead of it took; on PostgreSQL holding a pooled
/// connection while it waits. Taking the turn first, in a fair queue, lets in-process writers
/// go one after another with no sleeping and no idle connection, and leaves the database's
/// own wait for writers in other processes (`assay worker`, the CLI). Derefs to the
/// connection, as `sqlx::Transaction` does.
///
/// How long writers waited for their turn and held it are the histograms
/// `assay_store_write_wait_seconds` and `assay_store_write_held_seconds`: the second's rate is
/// the share of time the one writer is busy, which says whether it bounds throughput.
pub(crate) struct WriteTx {
    tx: Option<Transaction<'static, Any>>,
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// When the turn was taken (`None`: a PostgreSQL queue transaction, which takes none).
    since: Option<Instant>,
}

impl WriteTx {
    /// Commit, then give up the turn.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let committed = match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        };
        self.held();
        committed
    }

    /// Record how long the turn was held.
    fn held(&mut self) {
        if let Some(since) = self.since.take() {
            metrics::histogram!("assay_store_write_held_seconds").record(since.elapsed().as_secs_f64());
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.tx.as_ref().expect("a write transaction is live until commit or drop")
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.tx.as_mut().expect("a write transaction is live until commit or drop")
    }
}

impl Drop for WriteTx {
    /// Dropped without a commit: roll back, and give up the turn only once the rollback is
    /// done, so the next writer does not find the lock still held. (sqlx's own drop only
    /// queues the rollback.)
    fn drop(&mut self) {
        self.held();
        let (Some(tx), turn) = (self.tx.take(), self.turn.take()) else { return };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = tx.rollback().await {
                    tracing::warn!(error = %e, "rolling back an abandoned write transaction failed");
                }
                drop(turn);
            });
        }
    }
}

/// A new version as [`Store::submit_version`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    /// The listing's slug.
    pub slug: &'a str,
    /// The declared version.
    pub version: &'a str,
    /// The `listing.toml` as submitted.
    pub manifest: &'a str,
    /// The partner checks it ships, in order.
    pub checks: &'a [NewCheck<'a>],
}

/// A partner check component shipped with a version.
#[derive(Debug, Clone, Copy)]
pub struct NewCheck<'a> {
    /// Its file name, for reports when it cannot describe itself.
    pub name: &'a str,
    /// SHA-256 of `bytes`, hex.
    pub digest: &'a str,
    /// The component.
    pub bytes: &'a [u8],
}

#[derive(Clone, Default)]
struct FaultHook(Option<Arc<dyn Fn(&'static str) + Send + Sync>>);

impl std::fmt::Debug for FaultHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "FaultHook(set)" } else { "FaultHook(none)" })
    }
}

const SQLITE_FILE: &str = "assay.db";

/// Begins a write on PostgreSQL: the transaction, and the lock that serializes writers (the
/// audit chain has one head), as `BEGIN IMMEDIATE` does on SQLite. Readers are never blocked.
const PG_BEGIN_WRITE: &str = "BEGIN; SELECT pg_advisory_xact_lock(7245001)";

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
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
            // A file connection does not go stale: no round trip to its thread per acquire.
            options = options.test_before_acquire(false).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // Read pages through a memory map: a write by another connection empties
                    // each connection's page cache, and without the map every page is read back
                    // with a system call into a fresh allocation.
                    conn.execute("PRAGMA mmap_size = 1073741824").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("../../migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("../../migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend, faults: FaultHook::default(), node: Arc::default(), turn: Arc::default() })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The collation that compares text byte by byte, as a suffix for a column in SQL. SQLite
    /// compares bytes already; PostgreSQL's default collation may ignore punctuation such as
    /// the dashes in slugs, so its byte-ordered indexes (migration 0009) are `COLLATE "C"`, and
    /// a query must say so to use them.
    pub(crate) fn byte_order(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " COLLATE \"C\"",
            Backend::Sqlite => "",
        }
    }

    /// Close the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite (it takes the write lock up front, so
    /// it never fails upgrading from read to write), a serialized writer on PostgreSQL.
    /// Writers in this process take their turn first ([`WriteTx`]).
    async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let asked = Instant::now();
        let turn = self.turn.clone().lock_owned().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            // One round trip: both statements go in one simple query.
            Backend::Postgres => self.pool.begin_with(PG_BEGIN_WRITE).await?,
        };
        let since = Instant::now();
        metrics::histogram!("assay_store_write_wait_seconds").record((since - asked).as_secs_f64());
        Ok(WriteTx { tx: Some(tx), turn: Some(turn), since: Some(since) })
    }

    /// The writer's turn for one statement written outside a transaction, on SQLite (where it
    /// would otherwise sleep in the busy handler behind a [`WriteTx`]); `None` on PostgreSQL,
    /// where a single-row write waits on its row's lock only.
    async fn single_write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.turn.clone().lock_owned().await),
            Backend::Postgres => None,
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
        .bind(crate::model::encode_capabilities(capabilities))
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let Id { id } =
            sqlx::query_as::<_, Id>("SELECT id FROM partners WHERE name = $1").bind(name).fetch_one(&mut *tx).await?;
        if inserted > 0 {
            append(
                &mut tx,
                actor,
                "partner.create",
                &format!("partner:{name}"),
                &crate::model::encode_capabilities(capabilities),
            )
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
        self.create_token_for(actor, role, partner, token::DEFAULT_TTL_SECS).await
    }

    /// [`Store::create_token`], expiring `ttl_secs` from now: a service account's token of
    /// the organisation `partner` names (staff if `None`), with every scope `role` allows.
    pub async fn create_token_for(
        &self,
        actor: &str,
        role: Role,
        partner: Option<PartnerId>,
        ttl_secs: i64,
    ) -> Result<String, StoreError> {
        let new = NewToken {
            name: role.as_str(),
            owner: TokenOwner::Service { role, partner },
            scopes: role.scopes(),
            ttl_secs,
        };
        Ok(self.issue_token(actor, &new).await?.0)
    }

    /// The principal a bearer token stands for, if it is a token this store issued.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        match self.token_status(secret, now()).await? {
            TokenStatus::Live(principal, _) => Ok(Some(principal)),
            _ => Ok(None),
        }
    }

    /// What a bearer token is at `now`: live (with its principal and when it was last used),
    /// expired, revoked, its person gone from their organisation, or not one this store issued
    /// (a token that fails its checksum is not looked up).
    pub async fn token_status(&self, secret: &str, now: i64) -> Result<TokenStatus, StoreError> {
        if !token::well_formed(secret) {
            return Ok(TokenStatus::Unknown);
        }
        let row = sqlx::query_as::<_, people::TokenRow>(concat!(
            "SELECT ",
            people::token_columns!(),
            people::token_joins!(),
            "WHERE t.hash = $1"
        ))
        .bind(token::hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(TokenStatus::Unknown) };
        Ok(match (row.revoked_at, row.expires_at, row.left_at) {
            (Some(at), _, _) => TokenStatus::Revoked(at),
            (None, Some(at), _) if at <= now => TokenStatus::Expired(at),
            (None, _, Some(at)) => TokenStatus::OwnerLeft(at),
            _ => TokenStatus::Live(row.principal()?, row.last_used_at),
        })
    }

    /// Revoke token `id` now; whether it was live. Audited.
    pub async fn revoke_token(&self, actor: &str, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let revoked = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if revoked == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE token_id = $1").bind(id).execute(&mut *tx).await?;
        append(&mut tx, actor, "token.revoke", &format!("token:{id}"), "").await?;
        tx.commit().await?;
        Ok(true)
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
        let id = sqlx::query_as::<_, Id>("INSERT INTO listings (slug, name, partner_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING RETURNING id")
            .bind(slug)
            .bind(name)
            .bind(owner.0)
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(Id { id }) = id else { return Err(StoreError::Exists(format!("listing `{slug}`"))) };
        append(&mut tx, actor, "listing.create", &format!("listing:{slug}"), name).await?;
        tx.commit().await?;
        Ok(ListingId(id))
    }

    /// Record a submitted version (state `submitted`) with the partner checks it ships, and
    /// enqueue its review, in one transaction: after a crash the submission is either all there,
    /// job included, or not there at all. Components are stored once per digest.
    pub async fn submit_version(&self, actor: &str, submission: &Submission<'_>) -> Result<VersionRecord, StoreError> {
        let submitted = self.submit_versions(&[(actor, *submission)]).await?;
        submitted
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a submission stored no outcome".into())))
    }

    /// Store several submissions in one transaction — one commit, one fsync — each as
    /// [`Store::submit_version`] would, with its own actor and result: one whose listing does
    /// not exist or whose version exists already stores nothing (both are found before it
    /// writes), and the others are stored. A database error fails the whole batch, and nothing
    /// of it is stored.
    pub async fn submit_versions(
        &self,
        submissions: &[(&str, Submission<'_>)],
    ) -> Result<Vec<Result<VersionRecord, StoreError>>, StoreError> {
        let mut tx = self.write().await?;
        let mut out = Vec::with_capacity(submissions.len());
        for (actor, submission) in submissions {
            out.push(match self.submit_in(&mut tx, actor, submission).await {
                Err(e @ (StoreError::NotFound(_) | StoreError::Exists(_))) => Err(e),
                Err(e) => return Err(e),
                Ok(record) => Ok(record),
            });
        }
        self.fault("submit.before-commit");
        tx.commit().await?;
        Ok(out)
    }

    /// Everything [`Store::submit_version`] writes, on `tx`; *not found* and *exists* are
    /// found before anything is written.
    async fn submit_in(
        &self,
        tx: &mut AnyConnection,
        actor: &str,
        submission: &Submission<'_>,
    ) -> Result<VersionRecord, StoreError> {
        let Submission { slug, version, manifest, checks } = *submission;
        let digest = hex::encode(Sha256::digest(manifest.as_bytes()));
        let at = now();
        // The listing is looked up in the insert itself; only when nothing was inserted does a
        // second look tell a missing listing from an existing version.
        let inserted = sqlx::query_as::<_, InsertedVersion>(
            "INSERT INTO versions (listing_id, version, manifest, digest, state, created_at, updated_at) \
             SELECT l.id, $2, $3, $4, $5, $6, $6 FROM listings l WHERE l.slug = $1 \
             ON CONFLICT (listing_id, version) DO NOTHING RETURNING id, listing_id",
        )
        .bind(slug)
        .bind(version)
        .bind(manifest)
        .bind(&digest)
        .bind(VersionState::Submitted.as_str())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(InsertedVersion { id, listing_id: listing }) = inserted else {
            listing_id(&mut *tx, slug).await?;
            return Err(StoreError::Exists(format!("version {version} of `{slug}`")));
        };
        self.fault("submit.version-inserted");
        insert_components(&mut *tx, Components::Version, id, checks, at).await?;
        sqlx::query(
            "INSERT INTO jobs (kind, version_id, reason, dedupe, state, created_at, enqueued_ms) \
             VALUES ('review', $1, 'submission', $2, 'pending', $3, $4)",
        )
        .bind(id)
        .bind(format!("review:{id}"))
        .bind(at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let detail = format!("digest={digest} checks={}", checks.len());
        append(&mut *tx, actor, "version.submit", &format!("listing:{slug}@{version}"), &detail).await?;
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

    /// Calls the fault hook, if one is set, at a named point (crash tests abort the process here).
    fn fault(&self, point: &'static str) {
        if let Some(hook) = &self.faults.0 {
            hook(point);
        }
    }

    /// Install a hook called at named points inside write transactions. Crash tests use it to
    /// kill the process mid-transaction; nothing else should.
    #[doc(hidden)]
    pub fn with_fault_hook(mut self, hook: impl Fn(&'static str) + Send + Sync + 'static) -> Store {
        self.faults = FaultHook(Some(Arc::new(hook)));
        self
    }

    /// A version by listing slug and version.
    pub async fn version(&self, slug: &str, version: &str) -> Result<Option<VersionRecord>, StoreError> {
        let row = sqlx::query_as::<_, VersionRow>(concat!(select_versions!(), " WHERE l.slug = $1 AND v.version = $2"))
            .bind(slug)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.map(VersionRow::record).transpose()
    }

    /// The latest version of `slug` before `before` that a reviewer approved (approved,
    /// published, deprecated or retired since): what a new version is compared against.
    pub async fn last_approved(&self, slug: &str, before: VersionId) -> Result<Option<VersionRecord>, StoreError> {
        let row = sqlx::query_as::<_, VersionRow>(concat!(
            select_versions!(),
            " WHERE l.slug = $1 AND v.id < $2 \
             AND v.state IN ('approved', 'published', 'deprecated', 'retired') ORDER BY v.id DESC LIMIT 1"
        ))
        .bind(slug)
        .bind(before.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(VersionRow::record).transpose()
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

    /// Roll `slug` back to `target` (read in state `target_state`): each of `newer` (read in
    /// its state) is withdrawn, audited as `version.withdraw`, and `target` is published if it
    /// was only approved — all in one transaction, each move only from the state its caller
    /// read ([`StoreError::Conflict`] otherwise, and nothing changes).
    pub async fn roll_back(
        &self,
        actor: &str,
        slug: &str,
        (target, target_state): (&str, VersionState),
        newer: &[(String, VersionState)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (version, state) in newer {
            let next = lifecycle::apply(*state, Transition::RollBack)?;
            if advance(&mut tx, slug, version, *state, next, false).await?.is_none() {
                drop(tx);
                return Err(self.lost_race(slug, version).await);
            }
            let detail = format!("{state} -> {next}; rolled back to {target}");
            append(&mut tx, actor, "version.withdraw", &format!("listing:{slug}@{version}"), &detail).await?;
        }
        if target_state == VersionState::Approved {
            let next = lifecycle::apply(target_state, Transition::Publish)?;
            if advance(&mut tx, slug, target, target_state, next, false).await?.is_none() {
                drop(tx);
                return Err(self.lost_race(slug, target).await);
            }
            let detail = format!("{target_state} -> {next}; live again: rolled back from {}", newer_list(newer));
            append(&mut tx, actor, "version.publish", &format!("listing:{slug}@{target}"), &detail).await?;
        }
        tx.commit().await?;
        Ok(())
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
    pub async fn decisions(&self, slug: &str, version: &str) -> Result<Vec<Decision>, StoreError> {
        let rows = sqlx::query_as::<_, DecisionRow>(
            "SELECT d.actor, d.action, d.note FROM decisions d JOIN versions v ON v.id = d.version_id \
             JOIN listings l ON l.id = v.listing_id WHERE l.slug = $1 AND v.version = $2 ORDER BY d.id",
        )
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|DecisionRow { actor, action, note }| Decision { actor, action, note }).collect())
    }

    /// The audit events about one listing and its versions, in order: its timeline.
    pub async fn listing_events(&self, slug: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let mut events = self.listing_events_page(slug, None, i64::MAX).await?;
        events.reverse();
        Ok(events)
    }

    /// A page of a listing's timeline, newest first: at most `limit` events about the listing
    /// and its versions, older than event `before` when given. The subjects are `listing:{slug}`
    /// and `listing:{slug}@{version}`; the second kind is exactly the range from `…{slug}@` up
    /// to `…{slug}A` (`A` follows `@` in byte order), so both are lookups in `audit_by_subject`
    /// and a listing's page costs the same however many events other listings have.
    pub async fn listing_events_page(
        &self,
        slug: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let c = self.byte_order();
        let before_clause = if before.is_some() { "AND seq < $5" } else { "" };
        let sql = format!(
            "{} WHERE (subject{c} = $1 OR (subject{c} >= $2 AND subject{c} < $3)) {before_clause} \
             ORDER BY seq DESC LIMIT $4",
            select_audit!()
        );
        let mut query = sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql))
            .bind(format!("listing:{slug}"))
            .bind(format!("listing:{slug}@"))
            .bind(format!("listing:{slug}A"))
            .bind(limit);
        if let Some(before) = before {
            query = query.bind(before);
        }
        Ok(query.fetch_all(&self.pool).await?.into_iter().map(AuditRow::event).collect())
    }

    /// The audit events about one subject (e.g. `partner:acme`), in order.
    pub async fn audit_about(&self, subject: &str) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " WHERE subject = $1 ORDER BY seq"))
            .bind(subject)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(AuditRow::event).collect())
    }

    /// Every audit event, in order.
    pub async fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        let rows =
            sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " ORDER BY seq")).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(AuditRow::event).collect())
    }

    /// Verify the whole audit chain against itself and the stored checkpoints, a page at a time;
    /// the number of events when it is intact.
    pub async fn verify_audit(&self) -> Result<Result<usize, ChainBroken>, StoreError> {
        self.verify_audit_newest(i64::MAX).await
    }

    /// Verify the newest `count` events (and that no checkpoint lies beyond the last one): what
    /// `assay serve` checks at start. The event before them anchors the walk and must itself
    /// hash to what it says.
    pub async fn verify_audit_newest(&self, count: i64) -> Result<Result<usize, ChainBroken>, StoreError> {
        Ok(self.verify_audit_with(count, &[]).await?.0)
    }

    /// Verify the newest `count` events against the stored checkpoints and `kept`, checkpoints
    /// kept outside the database (which catch a tail cut off together with its checkpoints).
    /// Also returns every checkpoint it checked against (stored first), for their signatures.
    pub async fn verify_audit_with(
        &self,
        count: i64,
        kept: &[Checkpoint],
    ) -> Result<(Result<usize, ChainBroken>, Vec<Checkpoint>), StoreError> {
        let mut checkpoints = self.audit_checkpoints().await?;
        checkpoints.extend_from_slice(kept);
        let walked = self.walk_newest(count, &checkpoints).await?;
        Ok((walked, checkpoints))
    }

    async fn walk_newest(
        &self,
        count: i64,
        checkpoints: &[Checkpoint],
    ) -> Result<Result<usize, ChainBroken>, StoreError> {
        let head = self.audit_head().await?.map_or(0, |h| h.seq);
        let anchor = head.saturating_sub(count);
        let walk = if anchor <= 0 {
            audit::Walk::from_start(checkpoints)
        } else {
            let event = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " WHERE seq = $1"))
                .bind(anchor)
                .fetch_optional(&self.pool)
                .await?
                .map(AuditRow::event);
            let Some(event) = event else {
                return Ok(Err(ChainBroken { seq: anchor, reason: "an event is missing".into() }));
            };
            if let Err(broken) = audit::Walk::after(anchor - 1, event.prev_hash.clone(), &[]).next(&event) {
                return Ok(Err(broken));
            }
            audit::Walk::after(anchor, event.hash, checkpoints)
        };
        self.walk_audit(walk, anchor.max(0)).await
    }

    async fn walk_audit(
        &self,
        mut walk: audit::Walk,
        mut after: i64,
    ) -> Result<Result<usize, ChainBroken>, StoreError> {
        const PAGE: i64 = 1000;
        loop {
            let page = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " WHERE seq > $1 ORDER BY seq LIMIT $2"))
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            let full = page.len() as i64 == PAGE;
            for event in page.into_iter().map(AuditRow::event) {
                if let Err(broken) = walk.next(&event) {
                    return Ok(Err(broken));
                }
                after = event.seq;
            }
            if !full {
                return Ok(walk.finish());
            }
        }
    }

    /// The newest audit event.
    pub async fn audit_head(&self) -> Result<Option<AuditEvent>, StoreError> {
        let row = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " ORDER BY seq DESC LIMIT 1"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(AuditRow::event))
    }

    /// Every checkpoint of the audit chain, oldest first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query_as::<_, CheckpointRow>(
            "SELECT seq, hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Checkpoint { seq: r.seq, hash: r.hash, at: r.at, key_id: r.key_id, signature: r.signature })
            .collect())
    }

    /// Record a checkpoint; one taken at a seq that has one already is kept as it was.
    pub async fn add_audit_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let _turn = self.single_write_turn().await;
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(checkpoint.seq)
        .bind(&checkpoint.hash)
        .bind(checkpoint.at)
        .bind(&checkpoint.key_id)
        .bind(&checkpoint.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Direct SQL for tests that tamper with rows the way an intruder would.
    #[doc(hidden)]
    pub async fn execute_unchecked(&self, sql: &'static str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }
}

/// Transitions that are a reviewer's decision: recorded with who, when and why.
/// `1.5.0, 1.4.2`.
fn newer_list(newer: &[(String, VersionState)]) -> String {
    newer.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>().join(", ")
}

fn is_decision(transition: Transition) -> bool {
    matches!(transition, Transition::Approve | Transition::RequestChanges | Transition::Reject | Transition::Certify)
}

/// The transition's one statement, for [`advance`] and [`advance_to_record`]: `RETURNING` the
/// columns given.
macro_rules! advance_sql {
    ($returning:literal) => {
        concat!(
            "UPDATE versions SET state = $1, revision = revision + 1, certified = CASE WHEN $2 = 1 THEN 1 ELSE certified END, updated_at = $3 \
             WHERE state = $4 AND listing_id = (SELECT id FROM listings WHERE slug = $5) AND version = $6 RETURNING ",
            $returning
        )
    };
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
    let args = advance_args((slug, version), expected, next, certify)?;
    let row = sqlx::query_as_with::<_, Id, _>(advance_sql!("id"), args).fetch_optional(&mut *tx).await?;
    Ok(row.map(|Id { id }| id))
}

/// [`advance`] (never certifying), returning the version as the transition left it: no read
/// after the commit.
pub(crate) async fn advance_to_record(
    tx: &mut AnyConnection,
    slug: &str,
    version: &str,
    expected: VersionState,
    next: VersionState,
) -> Result<Option<VersionRecord>, StoreError> {
    let args = advance_args((slug, version), expected, next, false)?;
    let sql = advance_sql!("id, listing_id, version, manifest, digest, state, revision, certified");
    let row = sqlx::query_as_with::<_, VersionColumns, _>(sql, args).fetch_optional(&mut *tx).await?;
    row.map(|row| row.record(slug.to_owned())).transpose()
}

/// The parameters of [`advance_sql!`], in order.
fn advance_args(
    (slug, version): (&str, &str),
    expected: VersionState,
    next: VersionState,
    certify: bool,
) -> Result<sqlx::any::AnyArguments, sqlx::Error> {
    use sqlx::Arguments as _;
    let mut args = sqlx::any::AnyArguments::default();
    let added = [
        args.add(next.as_str()),
        args.add(i64::from(certify)),
        args.add(now()),
        args.add(expected.as_str()),
        args.add(slug),
        args.add(version),
    ];
    added.into_iter().collect::<Result<(), _>>().map_err(sqlx::Error::Encode)?;
    Ok(args)
}

/// The audit head this process last appended: a guess at the next append's predecessor.
///
/// An append would read the head back before inserting after it, one statement more under the
/// writer for every event. Instead it inserts after this guess in one statement that also
/// checks the guess: the event at the guessed seq has the guessed hash and none comes after it.
/// A guess gone stale (another process appended since, the transaction that appended it rolled
/// back, another store in this process) inserts nothing, and the append reads the head and
/// inserts as before. So the guess can never put an event in the wrong place, whichever
/// database it came from, and one guess for the whole process is enough.
static HEAD_GUESS: std::sync::Mutex<HeadGuess> = std::sync::Mutex::new(HeadGuess { head: None, trusted: false });

/// The last head appended, and whether to insert after it unread.
///
/// A stale guess costs a statement (the insert that inserts nothing), so a guess that just
/// missed is not trusted: the next append reads the head first, as it did before guesses, and
/// trusts the guess again once the head it reads is the one it guessed. Where several
/// processes append in turn (`assay worker` nodes on one database) guesses keep missing, and an
/// append costs what it did before, not a statement more.
struct HeadGuess {
    head: Option<(i64, String)>,
    trusted: bool,
}

/// Append to the audit chain inside the caller's write transaction. Whether the guess of the
/// head held (one statement) or the head was read back (two).
async fn append(
    tx: &mut AnyConnection,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<bool, sqlx::Error> {
    let event = (now(), actor, action, subject, detail);
    let (guess, trusted) = {
        let guess = HEAD_GUESS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (guess.head.clone(), guess.trusted)
    };
    let guessed = match &guess {
        Some(head) if trusted => insert_after(tx, head.clone(), event).await?,
        _ => None,
    };
    let held = guessed.is_some();
    let (appended, trust) = match guessed {
        Some(appended) => (appended, true),
        None => {
            let head = sqlx::query_as::<_, ChainHead>("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
                .map_or((0, audit::GENESIS.to_owned()), |ChainHead { seq, hash }| (seq, hash));
            // Trusted next time only if this untrusted guess would have held.
            let would_have_held = !trusted && guess.as_ref() == Some(&head);
            let appended = insert_after(tx, head, event)
                .await?
                .ok_or_else(|| sqlx::Error::Protocol("the audit chain's head moved under the writer lock".into()))?;
            (appended, would_have_held)
        }
    };
    *HEAD_GUESS.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        HeadGuess { head: Some(appended), trusted: trust };
    Ok(held)
}

/// Insert `event` (`at`, actor, action, subject, detail) right after `head` (`(0, GENESIS)`:
/// first), only if `head` is the chain's head: the event at its seq has its hash, and none
/// follows it. The new head, or `None` when `head` is not the head (nothing inserted).
///
/// "None follows it" is `MAX(seq)`, not `NOT EXISTS (… seq > head)`: PostgreSQL's generic plan
/// for a prepared range test on a parameter scans the whole table (it made seeding 100,000
/// listings seven times slower), while `MAX` reads the end of the index on either backend.
async fn insert_after(
    tx: &mut AnyConnection,
    (head, prev): (i64, String),
    (at, actor, action, subject, detail): (i64, &str, &str, &str, &str),
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let seq = head + 1;
    let hash = audit::hash(&prev, seq, at, actor, action, subject, detail);
    let inserted = sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, subject, detail, prev_hash, hash) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
         WHERE COALESCE((SELECT MAX(seq) FROM audit_events), 0) = $9 \
         AND ($9 = 0 OR EXISTS (SELECT 1 FROM audit_events WHERE seq = $9 AND hash = $7))",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(prev)
    .bind(&hash)
    .bind(head)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some((seq, hash)))
}

/// Whose components a list is: a version's shipped checks, a pack's rules, a check update.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Components {
    Version,
    Pack,
    CheckUpdate,
}

/// Store `components` by digest and list them, in order, for `owner`, inside the caller's
/// transaction.
pub(crate) async fn insert_components(
    tx: &mut AnyConnection,
    kind: Components,
    owner: i64,
    components: &[NewCheck<'_>],
    at: i64,
) -> Result<(), sqlx::Error> {
    let sql = match kind {
        Components::Version => {
            "INSERT INTO version_checks (version_id, position, name, digest) VALUES ($1, $2, $3, $4)"
        }
        Components::Pack => {
            "INSERT INTO rule_pack_components (pack_id, position, name, digest) VALUES ($1, $2, $3, $4)"
        }
        Components::CheckUpdate => {
            "INSERT INTO check_update_components (update_id, position, name, digest) VALUES ($1, $2, $3, $4)"
        }
    };
    for (position, component) in components.iter().enumerate() {
        insert_plugin(tx, component, at).await?;
        sqlx::query(sql)
            .bind(owner)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(component.name)
            .bind(component.digest)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Store a component by digest inside the caller's transaction (once, however many use it).
async fn insert_plugin(tx: &mut AnyConnection, check: &NewCheck<'_>, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO plugins (digest, bytes, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
    )
    .bind(check.digest)
    .bind(check.bytes.to_vec())
    .bind(i64::try_from(check.bytes.len()).unwrap_or(i64::MAX))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The id of the listing `slug`, or *not found*.
pub(crate) async fn listing_id(tx: &mut AnyConnection, slug: &str) -> Result<i64, StoreError> {
    let row =
        sqlx::query_as::<_, Id>("SELECT id FROM listings WHERE slug = $1").bind(slug).fetch_optional(&mut *tx).await?;
    row.map(|Id { id }| id).ok_or_else(|| StoreError::NotFound(format!("listing `{slug}`")))
}

/// A stored name that no longer parses (a state, a verdict, a date): the row is corrupt.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

// Rows, read by column name. Each struct's fields are the names of the columns it reads (SQL
// aliases supply them where a column is computed or its name is taken), each column list is
// written once (a `select_…!` or `…_columns!` macro, or a `SELECT_…` constant, beside its
// row), and a method turns the row into the public type. A query with a column missing,
// misnamed or of another type fails on both backends in the conformance suite; the order of
// the columns does not matter. `tests::rows_are_decoded_by_name` in `lib.rs` keeps it so.

/// A row's `id` (`SELECT id`, `RETURNING id`).
#[derive(sqlx::FromRow)]
struct Id {
    id: i64,
}

/// A count (`COUNT(*) AS n`).
#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

/// One group of a `GROUP BY` and its size (`… AS label, COUNT(*) AS n`).
#[derive(sqlx::FromRow)]
struct Tally {
    label: String,
    n: i64,
}

/// `SELECT` every [`VersionRow`] column `FROM versions v` joined to its listing `l`.
macro_rules! select_versions {
    () => {
        "SELECT v.id, v.listing_id, l.slug, v.version, v.manifest, v.digest, v.state, v.revision, v.certified \
         FROM versions v JOIN listings l ON l.id = v.listing_id"
    };
}
pub(crate) use select_versions;

/// A version just inserted, and its listing.
#[derive(sqlx::FromRow)]
struct InsertedVersion {
    id: i64,
    listing_id: i64,
}

/// A version's own columns, without its listing's slug: what [`advance_to_record`] returns (its
/// caller knows the slug), and the bulk of a [`VersionRow`].
#[derive(sqlx::FromRow)]
struct VersionColumns {
    id: i64,
    listing_id: i64,
    version: String,
    manifest: String,
    digest: String,
    state: String,
    revision: i64,
    /// 0 or 1: both schemas store flags as integers.
    certified: i64,
}

impl VersionColumns {
    fn record(self, slug: String) -> Result<VersionRecord, StoreError> {
        Ok(VersionRecord {
            id: VersionId(self.id),
            listing: ListingId(self.listing_id),
            slug,
            version: self.version,
            manifest: self.manifest,
            digest: self.digest,
            state: self.state.parse().map_err(corrupt)?,
            revision: self.revision,
            certified: self.certified != 0,
        })
    }
}

/// A version with its listing's slug ([`select_versions!`]).
#[derive(sqlx::FromRow)]
struct VersionRow {
    slug: String,
    #[sqlx(flatten)]
    version: VersionColumns,
}

impl VersionRow {
    fn record(self) -> Result<VersionRecord, StoreError> {
        self.version.record(self.slug)
    }
}

/// `SELECT` every [`AuditRow`] column `FROM audit_events`.
macro_rules! select_audit {
    () => {
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_events"
    };
}
pub(crate) use select_audit;

/// An audit event ([`select_audit!`]).
#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn event(self) -> AuditEvent {
        let AuditRow { seq, at, actor, action, subject, detail, prev_hash, hash } = self;
        AuditEvent { seq, at, actor, action, subject, detail, prev_hash, hash }
    }
}

/// A checkpoint of the audit chain.
#[derive(sqlx::FromRow)]
struct CheckpointRow {
    seq: i64,
    hash: String,
    at: i64,
    key_id: String,
    signature: String,
}

/// The head of the audit chain.
#[derive(sqlx::FromRow)]
struct ChainHead {
    seq: i64,
    hash: String,
}

/// A reviewer's decision.
#[derive(sqlx::FromRow)]
struct DecisionRow {
    actor: String,
    action: String,
    note: String,
}

/// What a bearer token is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    /// Not a token this store issued.
    Unknown,
    /// Valid: who it acts as, and when it was last used (to the minute).
    Live(Principal, Option<i64>),
    /// Expired at this time (Unix seconds).
    Expired(i64),
    /// Revoked at this time (Unix seconds).
    Revoked(i64),
    /// Its person left their organisation at this time (Unix seconds).
    OwnerLeft(i64),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::{HEAD_GUESS, HeadGuess, Store, append};

    /// A writer waits for the one holding the writer's turn, and a write transaction dropped
    /// without a commit rolls back and gives the turn up; many writers at once each get it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_take_turns_and_an_abandoned_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let mut tx = store.write().await.unwrap();
        sqlx::query("INSERT INTO partners (name, capabilities, created_at) VALUES ('ghost', '', 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        let next = {
            let store = store.clone();
            tokio::spawn(async move { store.ensure_partner("test", "acme", &[]).await })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!next.is_finished(), "a second writer went ahead while the first held the writer");
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), next).await.expect("the turn was not given up").unwrap().unwrap();
        let ghost = sqlx::query("SELECT 1 FROM partners WHERE name = 'ghost'").fetch_optional(&store.pool).await;
        assert!(ghost.unwrap().is_none(), "the abandoned write was rolled back");

        let writers: Vec<_> = (0..64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.ensure_partner("test", &format!("p{i}"), &[]).await })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        assert_eq!(store.verify_audit().await.unwrap().unwrap(), 65, "one event per partner, chained");
    }

    /// An append inserts after its guess of the head in one statement when the guess holds,
    /// and in the right place when it does not: another process appended since, the
    /// transaction that guessed rolled back, or the guess is of another database.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_guess_of_the_audit_head_still_appends_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("assay.db").display());
        // Two stores on one database, as two processes would be.
        let (store, other) = (Store::open(&url).await.unwrap(), Store::open(&url).await.unwrap());
        let reader = &store;
        let head = move || async move { reader.audit_head().await.unwrap().map(|h| (h.seq, h.hash)) };
        // The guess is this process's; other tests move it too, so each case sets it (trusted)
        // and appends at once.
        let guess = |g: Option<(i64, String)>| *HEAD_GUESS.lock().unwrap() = HeadGuess { head: g, trusted: true };
        let append_now = |g: Option<(i64, String)>| {
            let store = store.clone();
            async move {
                let mut tx = store.write().await.unwrap();
                guess(g);
                let held = append(&mut tx, "test", "test.append", "test", "").await.unwrap();
                tx.commit().await.unwrap();
                held
            }
        };
        assert!(!append_now(None).await, "nothing to guess from: the head is read");
        assert!(append_now(head().await).await, "the head as guessed: one statement");
        let stale = head().await;
        other.ensure_partner("test", "acme", &[]).await.unwrap();
        assert!(!append_now(stale.clone()).await, "another process appended since the guess");
        assert!(!append_now(Some((2, "0".repeat(64)))).await, "a guess of another chain");
        assert!(!append_now(Some((99, "0".repeat(64)))).await, "a guess beyond the head");
        // A transaction that appended, then rolled back, leaves a guess of an event that never was.
        let mut tx = store.write().await.unwrap();
        guess(head().await);
        assert!(append(&mut tx, "test", "test.rolled-back", "test", "").await.unwrap());
        drop(tx);
        let never = HEAD_GUESS.lock().unwrap().head.clone();
        assert!(!append_now(never).await, "the guessed event was rolled back");
        let events = store.audit_events().await.unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
        assert!(events.iter().all(|e| e.action != "test.rolled-back"));
        assert_eq!(store.verify_audit().await.unwrap(), Ok(7), "one chain, no gaps");
    }

    /// A guess that missed is not tried again until the head read back shows it would have
    /// held: where processes append in turn, an append costs no more than reading the head.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_guess_that_missed_is_trusted_again_only_once_it_would_hold() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        store.ensure_partner("test", "acme", &[]).await.unwrap();
        // Each case sets the guess and appends at once (other tests move the one guess).
        let append_after = |g: HeadGuess| {
            let store = store.clone();
            async move {
                let mut tx = store.write().await.unwrap();
                *HEAD_GUESS.lock().unwrap() = g;
                let held = append(&mut tx, "test", "test.append", "test", "").await.unwrap();
                let trusted = HEAD_GUESS.lock().unwrap().trusted;
                tx.commit().await.unwrap();
                (held, trusted)
            }
        };
        let stale = Some((99, "0".repeat(64)));
        assert_eq!(append_after(HeadGuess { head: stale.clone(), trusted: true }).await, (false, false), "missed");
        let head = store.audit_head().await.unwrap().map(|h| (h.seq, h.hash));
        // Untrusted and right: the head is read (no insert tried), and the guess is trusted again.
        assert_eq!(append_after(HeadGuess { head: head.clone(), trusted: false }).await, (false, true));
        let head = store.audit_head().await.unwrap().map(|h| (h.seq, h.hash));
        assert_eq!(append_after(HeadGuess { head, trusted: true }).await, (true, true), "held");
        // Untrusted and wrong (another process appended): still untrusted.
        assert_eq!(append_after(HeadGuess { head: stale, trusted: false }).await, (false, false));
        assert_eq!(store.verify_audit().await.unwrap(), Ok(5));
    }
}
