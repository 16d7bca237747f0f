//! The rules new reviews run, with their documentation: public, because a partner reading a
//! finding, or running `assay check` in CI, should read what the rule wants and why without an
//! account. The active pack is the one reviews run now ([`Service::active_pack`]).

use std::sync::Arc;

use assay_core::Severity;
use assay_host::RulePack;

use crate::{Service, ServiceError};

/// The active pack's rules.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The pack's name.
    pub pack: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over its `pack.toml` and components: what `assay rules pull` fetches by.
    pub digest: String,
    /// Its rules in the pack's order.
    pub rules: Vec<RuleDoc>,
}

/// One rule of the active pack.
#[derive(Debug, Clone)]
pub struct RuleDoc {
    /// The stable rule id (`urls.https`).
    pub id: String,
    /// Its short name.
    pub name: String,
    /// The rule's own semver.
    pub version: String,
    /// The severity its findings get under this pack.
    pub severity: Severity,
    /// Whether the pack runs it.
    pub enabled: bool,
    /// The one-paragraph description the component gives.
    pub description: String,
    /// Where its findings link to.
    pub help_url: String,
    /// The long-form documentation (Markdown) the pack ships, if any.
    pub docs: Option<Arc<str>>,
    /// The component's file name in the pack.
    pub component: String,
}

impl Service {
    /// The active pack and its rules, each described by its component.
    pub async fn rule_catalogue(&self) -> Result<Catalogue, ServiceError> {
        let pack = self.current_pack().await?;
        let host = self.host.clone();
        let loaded = pack.clone();
        let rules = tokio::task::spawn_blocking(move || describe(&host, &loaded)).await.map_err(|e| {
            ServiceError::internal(std::io::Error::other(format!("describing the pack's rules: {e}")))
        })??;
        Ok(Catalogue {
            pack: pack.manifest.name.clone(),
            version: pack.manifest.version.to_string(),
            digest: crate::rollout::pack_digest(&pack.source, &pack.components),
            rules,
        })
    }

    /// One rule of the active pack, by id.
    pub async fn rule_doc(&self, id: &str) -> Result<RuleDoc, ServiceError> {
        self.rule_catalogue()
            .await?
            .rules
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("rule `{id}` in the active rule pack")))
    }
}

/// Each rule's metadata, from its loaded component (loads are cached by digest).
fn describe(host: &assay_host::Host, pack: &RulePack) -> Result<Vec<RuleDoc>, ServiceError> {
    let mut rules = Vec::with_capacity(pack.manifest.rules.len());
    for ((rule, bytes), docs) in pack.manifest.rules.iter().zip(&pack.components).zip(&pack.docs) {
        let plugin = host.load(bytes).map_err(|e| {
            ServiceError::internal(std::io::Error::other(format!(
                "rule component `{}` does not load: {e}",
                rule.component
            )))
        })?;
        let meta = &plugin.meta;
        rules.push(RuleDoc {
            id: meta.id.clone(),
            name: meta.name.clone(),
            version: meta.version.to_string(),
            severity: rule.severity.unwrap_or(meta.default_severity),
            enabled: rule.enabled,
            description: meta.description.clone(),
            help_url: meta.help_url.clone(),
            docs: docs.clone(),
            component: rule.component.clone(),
        });
    }
    Ok(rules)
}

/// The active pack as files, for `assay rules pull`: `pack.toml` as written and every file it
/// names (components and documentation), so a partner runs exactly what the service runs.
#[derive(Debug, Clone)]
pub struct PackFiles {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over `manifest` and the components, hex.
    pub digest: String,
    /// `pack.toml` as written.
    pub manifest: Arc<str>,
    /// Each file by the name `pack.toml` gives it: the components, then the documentation.
    pub files: Vec<(String, Arc<[u8]>)>,
}

/// What a local check of one listing needs to decide as the service would.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// The active pack's name, version and digest.
    pub pack: (String, String, String),
    /// The listing's last approved version and its manifest: what a new version is compared with.
    pub previous: Option<(String, String)>,
    /// The listing's live waivers (granted exceptions included): findings they cover do not block.
    pub waivers: Vec<assay_core::waiver::WaiverRecord>,
}

impl Service {
    /// The active pack's files.
    pub async fn active_pack_files(&self) -> Result<PackFiles, ServiceError> {
        let pack = self.current_pack().await?;
        let rules = &pack.manifest.rules;
        let components = rules.iter().zip(&pack.components).map(|(r, bytes)| (r.component.clone(), bytes.clone()));
        let mut docs: Vec<(String, Arc<[u8]>)> = rules
            .iter()
            .zip(&pack.docs)
            .filter_map(|(r, text)| Some((r.docs.clone()?, Arc::from(text.as_deref()?.as_bytes()))))
            .collect();
        docs.sort_by(|a, b| a.0.cmp(&b.0));
        docs.dedup_by(|a, b| a.0 == b.0);
        Ok(PackFiles {
            name: pack.manifest.name.clone(),
            version: pack.manifest.version.to_string(),
            digest: crate::rollout::pack_digest(&pack.source, &pack.components),
            manifest: pack.source.clone(),
            files: components.chain(docs).collect(),
        })
    }

    /// What `assay check --server` needs for `slug`: the active pack, the last approved version
    /// and the live waivers. The caller must be able to see the listing.
    pub async fn check_context(
        &self,
        who: &assay_core::identity::Principal,
        slug: &str,
    ) -> Result<CheckContext, ServiceError> {
        crate::access::require(who, crate::access::Permission::Read)?;
        let waivers = self.waivers(who, slug).await?;
        let now = self.now();
        let live = waivers.into_iter().filter(|w| now < w.waiver.expires_at).collect();
        // Every version there is comes before a new one.
        let previous = self.store.last_approved(slug, assay_core::identity::VersionId(i64::MAX)).await?;
        let pack = self.current_pack().await?;
        Ok(CheckContext {
            pack: (
                pack.manifest.name.clone(),
                pack.manifest.version.to_string(),
                crate::rollout::pack_digest(&pack.source, &pack.components),
            ),
            previous: previous.map(|p| (p.version, p.manifest)),
            waivers: live,
        })
    }
}
