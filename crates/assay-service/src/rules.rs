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
