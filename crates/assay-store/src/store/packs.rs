//! Published rule packs and their rollout: shadow re-checks, enforcement with a grace deadline,
//! and the verdicts that are applied at it.
//!
//! Publishing a pack stores its components by digest (any node can load it) and enqueues a
//! re-check of every live listing in the same transaction. Enforcing it records the deadline and
//! the change notices to the partners it would fail, in one transaction; applying it at the
//! deadline makes it the active pack and enqueues the re-checks whose failing verdicts take
//! versions out of the marketplace.

use super::notices::{NewNotice, insert_notice};
use super::{Components, Id, NewCheck, Store, StoreError, Tally, append, corrupt, insert_components, now};
pub use assay_core::review::RecheckRecord;
pub use assay_core::rollout::{Affected, PackMode, PackRecord, VerdictCounts};

/// A pack to publish.
#[derive(Debug, Clone, Copy)]
pub struct NewPack<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// SHA-256 over its manifest and components, hex.
    pub digest: &'a str,
    /// Its `pack.toml`.
    pub manifest: &'a str,
    /// Its components, in the manifest's order.
    pub components: &'a [NewCheck<'a>],
    /// Its rules' documentation: (file name, Markdown).
    pub docs: &'a [(&'a str, &'a str)],
}

/// `SELECT` every [`PackRow`] column.
const SELECT_PACK: &str =
    "SELECT id, name, version, digest, mode, enforce_at, applied_at, published_by, created_at FROM rule_packs";

/// A published pack ([`SELECT_PACK`]).
#[derive(sqlx::FromRow)]
struct PackRow {
    id: i64,
    name: String,
    version: String,
    digest: String,
    mode: String,
    enforce_at: Option<i64>,
    applied_at: Option<i64>,
    published_by: String,
    created_at: i64,
}

impl PackRow {
    fn record(self) -> Result<PackRecord, StoreError> {
        Ok(PackRecord {
            id: self.id,
            name: self.name,
            version: self.version,
            digest: self.digest,
            mode: match self.mode.as_str() {
                "shadow" => PackMode::Shadow,
                "enforce" => PackMode::Enforce,
                other => return Err(StoreError::Corrupt(format!("pack mode `{other}`"))),
            },
            enforce_at: self.enforce_at,
            applied_at: self.applied_at,
            published_by: self.published_by,
            created_at: self.created_at,
        })
    }
}

/// A pack's name and version (`RETURNING name, version`).
#[derive(sqlx::FromRow)]
struct PackNameRow {
    name: String,
    version: String,
}

/// A pack's manifest.
#[derive(sqlx::FromRow)]
struct ManifestRow {
    manifest: String,
}

/// A pack's component.
#[derive(sqlx::FromRow)]
struct ComponentRow {
    name: String,
    bytes: Vec<u8>,
}

/// A rule's documentation in a pack.
#[derive(sqlx::FromRow)]
struct DocsRow {
    name: String,
    markdown: String,
}

/// A listing a rollout phase failed.
#[derive(sqlx::FromRow)]
struct AffectedRow {
    slug: String,
    version: String,
    partner_name: String,
    blocking: String,
}

/// An API-version deprecation to re-check.
#[derive(sqlx::FromRow)]
struct ApiDeprecationRow {
    id: i64,
    api_version: String,
}

/// A version's id and state.
#[derive(sqlx::FromRow)]
struct VersionStateRow {
    id: i64,
    state: String,
}

/// A pack's re-check verdicts, and how many versions they are for.
#[derive(sqlx::FromRow)]
struct RecheckTotalsRow {
    n: i64,
    versions: i64,
}

/// A recorded re-check verdict and what triggered it.
#[derive(sqlx::FromRow)]
struct RecheckRow {
    job_id: i64,
    reason: String,
    pack_name: String,
    pack_version: String,
    verdict: String,
    blocking: String,
    findings: String,
    created_at: i64,
}

/// A live version's id and manifest.
#[derive(sqlx::FromRow)]
struct LiveVersionRow {
    id: i64,
    manifest: String,
}

/// The latest live version of every listing (the one a re-check looks at).
const LATEST_LIVE: &str =
    "SELECT MAX(id) FROM versions WHERE state IN ('approved', 'published', 'deprecated') GROUP BY listing_id";

impl Store {
    /// Publish a pack in shadow mode and enqueue a re-check (reason `pack`) of every live
    /// listing, in one transaction. Returns the pack and how many re-checks were enqueued.
    pub async fn publish_pack(&self, actor: &str, new: &NewPack<'_>) -> Result<(PackRecord, u64), StoreError> {
        let mut tx = self.write().await?;
        let at = now();
        let id = sqlx::query_as::<_, Id>(
            "INSERT INTO rule_packs (name, version, digest, manifest, mode, published_by, created_at) \
             VALUES ($1, $2, $3, $4, 'shadow', $5, $6) ON CONFLICT (name, version) DO NOTHING RETURNING id",
        )
        .bind(new.name)
        .bind(new.version)
        .bind(new.digest)
        .bind(new.manifest)
        .bind(actor)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(Id { id }) = id else {
            return Err(StoreError::Exists(format!("rule pack {}@{}", new.name, new.version)));
        };
        insert_components(&mut tx, Components::Pack, id, new.components, at).await?;
        for (name, markdown) in new.docs {
            sqlx::query("INSERT INTO rule_pack_docs (pack_id, name, markdown) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(name)
                .bind(markdown)
                .execute(&mut *tx)
                .await?;
        }
        let enqueued = enqueue_for_pack(&mut tx, id, "pack", at).await?;
        let detail = format!("shadow; digest={}; {enqueued} live listings to re-check", new.digest);
        append(&mut tx, actor, "rules.publish", &format!("rules:{}@{}", new.name, new.version), &detail).await?;
        tx.commit().await?;
        let record = self.pack_by_id(id).await?.ok_or_else(|| StoreError::NotFound(format!("rule pack {id}")))?;
        Ok((record, enqueued))
    }

    /// A pack by id.
    pub async fn pack_by_id(&self, id: i64) -> Result<Option<PackRecord>, StoreError> {
        let sql = format!("{SELECT_PACK} WHERE id = $1");
        let row = sqlx::query_as::<_, PackRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.map(PackRow::record).transpose()
    }

    /// A pack by name and version.
    pub async fn pack(&self, name: &str, version: &str) -> Result<Option<PackRecord>, StoreError> {
        let sql = format!("{SELECT_PACK} WHERE name = $1 AND version = $2");
        let row = sqlx::query_as::<_, PackRow>(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.map(PackRow::record).transpose()
    }

    /// Every published pack, newest first.
    pub async fn packs(&self) -> Result<Vec<PackRecord>, StoreError> {
        let sql = format!("{SELECT_PACK} ORDER BY id DESC");
        let rows = sqlx::query_as::<_, PackRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.into_iter().map(PackRow::record).collect()
    }

    /// The active pack: the one applied last. `None` until a published pack is applied (the
    /// service then reviews with the pack it was started with).
    pub async fn active_pack(&self) -> Result<Option<PackRecord>, StoreError> {
        let sql = format!("{SELECT_PACK} WHERE applied_at IS NOT NULL ORDER BY applied_at DESC, id DESC LIMIT 1");
        let row = sqlx::query_as::<_, PackRow>(sqlx::AssertSqlSafe(sql)).fetch_optional(&self.pool).await?;
        row.map(PackRow::record).transpose()
    }

    /// A pack's manifest and its files by name, to load it: its components, then its rules'
    /// documentation.
    pub async fn pack_contents(&self, id: i64) -> Result<(String, Vec<(String, Vec<u8>)>), StoreError> {
        let ManifestRow { manifest } =
            sqlx::query_as::<_, ManifestRow>("SELECT manifest FROM rule_packs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("rule pack {id}")))?;
        let components = sqlx::query_as::<_, ComponentRow>(
            "SELECT c.name, p.bytes FROM rule_pack_components c JOIN plugins p ON p.digest = c.digest \
             WHERE c.pack_id = $1 ORDER BY c.position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let docs = sqlx::query_as::<_, DocsRow>("SELECT name, markdown FROM rule_pack_docs WHERE pack_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let files = components
            .into_iter()
            .map(|ComponentRow { name, bytes }| (name, bytes))
            .chain(docs.into_iter().map(|DocsRow { name, markdown }| (name, markdown.into_bytes())))
            .collect();
        Ok((manifest, files))
    }

    /// Enforce a shadow pack from `enforce_at` (Unix seconds), publishing `notices` to the
    /// partners it fails, in one transaction. `None` when the pack is not in shadow mode any more
    /// (another reviewer enforced it first).
    pub async fn enforce_pack(
        &self,
        actor: &str,
        id: i64,
        enforce_at: i64,
        notices: &[NewNotice<'_>],
    ) -> Result<Option<PackRecord>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, PackNameRow>(
            "UPDATE rule_packs SET mode = 'enforce', enforce_at = $1 WHERE id = $2 AND mode = 'shadow' RETURNING name, version",
        )
        .bind(enforce_at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(PackNameRow { name, version }) = row else { return Ok(None) };
        for notice in notices {
            insert_notice(&mut tx, actor, notice).await?;
        }
        let detail = format!("enforced from {enforce_at}; {} partners' listings notified", notices.len());
        append(&mut tx, actor, "rules.enforce", &format!("rules:{name}@{version}"), &detail).await?;
        tx.commit().await?;
        self.pack_by_id(id).await
    }

    /// Enforced packs whose deadline is at or before `at` and that were not applied yet.
    pub async fn packs_due(&self, at: i64) -> Result<Vec<PackRecord>, StoreError> {
        let sql =
            format!("{SELECT_PACK} WHERE mode = 'enforce' AND applied_at IS NULL AND enforce_at <= $1 ORDER BY id");
        let rows = sqlx::query_as::<_, PackRow>(sqlx::AssertSqlSafe(sql)).bind(at).fetch_all(&self.pool).await?;
        rows.into_iter().map(PackRow::record).collect()
    }

    /// Apply an enforced pack: make it the active pack and enqueue the re-checks (reason
    /// `enforce`) whose failing verdicts are applied as they finish, in one transaction.
    /// `None` when another node applied it first.
    pub async fn apply_pack(&self, actor: &str, id: i64, at: i64) -> Result<Option<u64>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, PackNameRow>(
            "UPDATE rule_packs SET applied_at = $1 WHERE id = $2 AND mode = 'enforce' AND applied_at IS NULL \
             RETURNING name, version",
        )
        .bind(at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(PackNameRow { name, version }) = row else { return Ok(None) };
        let enqueued = enqueue_for_pack(&mut tx, id, "enforce", now()).await?;
        let detail = format!("applied; now the active pack; {enqueued} live listings to re-check");
        append(&mut tx, actor, "rules.apply", &format!("rules:{name}@{version}"), &detail).await?;
        tx.commit().await?;
        Ok(Some(enqueued))
    }

    /// Re-check verdicts of a pack's rollout phase (`reason`).
    pub async fn recheck_verdicts(&self, pack: i64, reason: &str) -> Result<VerdictCounts, StoreError> {
        let rows = sqlx::query_as::<_, Tally>(
            "SELECT r.verdict AS label, COUNT(*) AS n FROM rechecks r JOIN jobs j ON j.id = r.job_id \
             WHERE r.pack_id = $1 AND j.reason = $2 GROUP BY r.verdict",
        )
        .bind(pack)
        .bind(reason)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = VerdictCounts::default();
        for Tally { label: verdict, n } in rows {
            match verdict.as_str() {
                "pass" => counts.pass = n,
                "fail" => counts.fail = n,
                _ => counts.error += n,
            }
        }
        Ok(counts)
    }

    /// The listings a pack's rollout phase (`reason`) failed, by slug, at most `limit`.
    pub async fn blast_radius(&self, pack: i64, reason: &str, limit: i64) -> Result<Vec<Affected>, StoreError> {
        let rows = sqlx::query_as::<_, AffectedRow>(
            "SELECT l.slug, v.version, p.name AS partner_name, r.blocking FROM rechecks r JOIN jobs j ON j.id = r.job_id \
             JOIN versions v ON v.id = r.version_id JOIN listings l ON l.id = v.listing_id \
             JOIN partners p ON p.id = l.partner_id \
             WHERE r.pack_id = $1 AND j.reason = $2 AND r.verdict = 'fail' ORDER BY l.slug LIMIT $3",
        )
        .bind(pack)
        .bind(reason)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Affected {
                slug: row.slug,
                version: row.version,
                partner: row.partner_name,
                blocking: row.blocking,
            })
            .collect())
    }

    /// How many re-checks of each rule failed in a pack's rollout phase: (rule, listings).
    pub async fn blast_by_rule(&self, pack: i64, reason: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query_as::<_, Tally>(
            "SELECT r.blocking AS label, COUNT(*) AS n FROM rechecks r JOIN jobs j ON j.id = r.job_id \
             WHERE r.pack_id = $1 AND j.reason = $2 AND r.verdict = 'fail' GROUP BY r.blocking",
        )
        .bind(pack)
        .bind(reason)
        .fetch_all(&self.pool)
        .await?;
        let mut by_rule = std::collections::BTreeMap::<String, i64>::new();
        for Tally { label: blocking, n } in rows {
            for rule in blocking.split(',').filter(|r| !r.is_empty()) {
                *by_rule.entry(rule.to_owned()).or_default() += n;
            }
        }
        let mut out: Vec<_> = by_rule.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// Enqueue a re-check of each of `versions` (reason `reason`, the active pack), once per
    /// `key` (a second call with the same key enqueues nothing), and mark the API-version
    /// deprecation that triggered them, if any, in the same transaction. Returns how many were
    /// new.
    pub async fn enqueue_rechecks(
        &self,
        versions: &[i64],
        reason: &str,
        key: &str,
        deprecation: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.queue_tx().await?;
        if let Some(id) = deprecation {
            let marked =
                sqlx::query("UPDATE deprecations SET rechecked_at = $1 WHERE id = $2 AND rechecked_at IS NULL")
                    .bind(now())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if marked == 0 {
                // Another node enqueued them already.
                return Ok(0);
            }
        }
        let at = now();
        let mut enqueued = 0;
        for version in versions {
            enqueued += sqlx::query(
                "INSERT INTO jobs (kind, version_id, reason, dedupe, state, created_at) \
                 VALUES ('recheck', $1, $2, $3, 'pending', $4) ON CONFLICT (dedupe) DO NOTHING",
            )
            .bind(*version)
            .bind(reason)
            .bind(format!("{key}:{version}"))
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(enqueued)
    }

    /// API-version deprecations in effect on `today` whose re-checks were not enqueued yet.
    pub async fn api_deprecations_to_recheck(&self, today: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query_as::<_, ApiDeprecationRow>(
            "SELECT id, api_version FROM deprecations WHERE api_version IS NOT NULL AND rechecked_at IS NULL \
             AND deprecated_from <= $1 ORDER BY id",
        )
        .bind(today)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|ApiDeprecationRow { id, api_version }| (id, api_version)).collect())
    }

    /// A partner's new version of its checks for live version `version` of `slug`: the
    /// components (by digest), the update and a re-check (reason `checks`) in one transaction,
    /// with an audit event. Re-checks run the latest update's checks from then on.
    pub async fn update_checks(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        checks: &[NewCheck<'_>],
    ) -> Result<crate::JobId, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, VersionStateRow>(
            "SELECT v.id, v.state FROM versions v JOIN listings l ON l.id = v.listing_id WHERE l.slug = $1 AND v.version = $2",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(VersionStateRow { id: version_id, state }) = row else {
            return Err(StoreError::NotFound(format!("version {version} of `{slug}`")));
        };
        let state: assay_core::VersionState = state.parse().map_err(corrupt)?;
        if !state.is_live() {
            return Err(StoreError::Conflict { current: state });
        }
        let at = now();
        let Id { id: update } = sqlx::query_as::<_, Id>(
            "INSERT INTO check_updates (version_id, author, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(version_id)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        insert_components(&mut tx, Components::CheckUpdate, update, checks, at).await?;
        let Id { id: job } = sqlx::query_as::<_, Id>(
            "INSERT INTO jobs (kind, version_id, reason, dedupe, state, created_at) \
             VALUES ('recheck', $1, 'checks', $2, 'pending', $3) RETURNING id",
        )
        .bind(version_id)
        .bind(format!("checks:{update}:{version_id}"))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let digests: Vec<&str> = checks.iter().map(|c| c.digest).collect();
        let detail = format!("partner checks updated: {}", digests.join(","));
        append(&mut tx, actor, "version.checks_update", &format!("listing:{slug}@{version}"), &detail).await?;
        tx.commit().await?;
        Ok(crate::JobId(job))
    }

    /// A pack's re-check verdicts: how many are recorded, and for how many distinct versions
    /// (equal unless a version got two verdicts).
    pub async fn recheck_totals(&self, pack: i64) -> Result<(i64, i64), StoreError> {
        let RecheckTotalsRow { n, versions } = sqlx::query_as::<_, RecheckTotalsRow>(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT version_id) AS versions FROM rechecks WHERE pack_id = $1",
        )
        .bind(pack)
        .fetch_one(&self.pool)
        .await?;
        Ok((n, versions))
    }

    /// A version's re-check verdicts, oldest first.
    pub async fn rechecks(&self, slug: &str, version: &str) -> Result<Vec<RecheckRecord>, StoreError> {
        let rows = sqlx::query_as::<_, RecheckRow>(
            "SELECT j.reason, r.pack_name, r.pack_version, r.verdict, r.blocking, r.findings, r.created_at, r.job_id FROM rechecks r \
             JOIN jobs j ON j.id = r.job_id JOIN versions v ON v.id = r.version_id JOIN listings l ON l.id = v.listing_id \
             WHERE l.slug = $1 AND v.version = $2 ORDER BY r.id",
        )
        .bind(slug)
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| RecheckRecord {
                job: row.job_id,
                reason: row.reason,
                pack: format!("{}@{}", row.pack_name, row.pack_version),
                verdict: row.verdict,
                blocking: row.blocking,
                findings: row.findings,
                at: row.created_at,
            })
            .collect())
    }

    /// Import listings that are already live elsewhere (a marketplace adopting assay brings its
    /// catalogue): each listing is created for `partner` with one `approved` version, and an
    /// audit event records the import. One transaction per call; listings that exist already
    /// are refused ([`StoreError::Exists`]) and nothing of the call is kept. Returns how many
    /// were imported.
    pub async fn import_live(
        &self,
        actor: &str,
        partner: crate::model::PartnerId,
        listings: &[(&str, &str, &str)],
    ) -> Result<usize, StoreError> {
        use sha2::Digest as _;
        let mut tx = self.write().await?;
        let at = now();
        for (slug, version, manifest) in listings {
            let listing = sqlx::query_as::<_, Id>(
                "INSERT INTO listings (slug, name, partner_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (slug) DO NOTHING RETURNING id",
            )
            .bind(*slug)
            .bind(*slug)
            .bind(partner.0)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(Id { id: listing }) = listing else {
                return Err(StoreError::Exists(format!("listing `{slug}`")));
            };
            let digest = hex::encode(sha2::Sha256::digest(manifest.as_bytes()));
            sqlx::query(
                "INSERT INTO versions (listing_id, version, manifest, digest, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'approved', $5, $5)",
            )
            .bind(listing)
            .bind(*version)
            .bind(*manifest)
            .bind(&digest)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            append(&mut tx, actor, "listing.import", &format!("listing:{slug}@{version}"), "imported live (approved)")
                .await?;
        }
        tx.commit().await?;
        Ok(listings.len())
    }

    /// The latest live version of every listing: id and manifest.
    pub async fn live_versions(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let sql = format!("SELECT id, manifest FROM versions WHERE id IN ({LATEST_LIVE}) ORDER BY id");
        let rows = sqlx::query_as::<_, LiveVersionRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|LiveVersionRow { id, manifest }| (id, manifest)).collect())
    }
}

/// Enqueue a re-check by pack `id` of every listing's latest live version.
async fn enqueue_for_pack(tx: &mut sqlx::AnyConnection, id: i64, reason: &str, at: i64) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "INSERT INTO jobs (kind, version_id, pack_id, reason, dedupe, state, created_at) \
         SELECT 'recheck', v.id, $1, $2, $3 || v.id, 'pending', $4 FROM versions v WHERE v.id IN ({LATEST_LIVE}) \
         ON CONFLICT (dedupe) DO NOTHING"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(reason)
        .bind(format!("{reason}:{id}:"))
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected())
}
