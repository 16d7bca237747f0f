//! `pack.toml`: a rule pack's manifest — its name, semver and rules with their configuration.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Severity;

/// A parsed rule-pack manifest. The components it names are loaded by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackManifest {
    /// The pack's name.
    pub name: String,
    /// The pack's version.
    pub version: semver::Version,
    /// What the pack is for.
    pub description: String,
    /// The rules, in the order the pack lists them.
    pub rules: Vec<PackRule>,
    /// The severity of `integration.resource-regression` findings under this pack (`None`:
    /// the rule's default, `warning`). `error` or `blocker` makes a regression a gate.
    pub resource_regression: Option<Severity>,
}

/// One rule of a pack and how the pack configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackRule {
    /// Component file name, relative to the pack.
    pub component: String,
    /// Whether the rule runs.
    pub enabled: bool,
    /// A severity that replaces the rule's default and its findings' own severities.
    pub severity: Option<Severity>,
    /// Key/value configuration passed to the rule.
    pub config: Vec<(String, String)>,
    /// The rule's long-form documentation: a Markdown file name inside the pack (what the rule
    /// checks, why, how to fix it, a failing and a passing example).
    pub docs: Option<String>,
}

/// Why a pack manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct PackError {
    /// The file name the caller gave.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    name: String,
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
    #[serde(default, rename = "resource-regression")]
    resource_regression: Option<RawRegression>,
}

/// `[resource-regression]`: how the pack treats integration checks that use more resources
/// than in the last approved version.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegression {
    severity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    component: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    severity: Option<String>,
    #[serde(default)]
    config: BTreeMap<String, String>,
    docs: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

impl PackManifest {
    /// Parse a `pack.toml`.
    pub fn parse(file: &str, source: &str) -> Result<PackManifest, PackError> {
        let error = |message: String| PackError { file: file.to_owned(), message };
        let raw: RawPack = toml::from_str(source).map_err(|e| error(e.to_string().trim_end().to_owned()))?;
        let version = semver::Version::parse(&raw.version)
            .map_err(|e| error(format!("version `{}` is not valid semver ({e})", raw.version)))?;
        let rules = raw
            .rules
            .into_iter()
            .map(|rule| {
                let inside = |name: &str| !(name.contains(['/', '\\']) || name.starts_with('.'));
                if !inside(&rule.component) {
                    return Err(error(format!(
                        "rule component `{}` must be a file name inside the pack",
                        rule.component
                    )));
                }
                if let Some(docs) = &rule.docs
                    && (!inside(docs) || !docs.ends_with(".md"))
                {
                    return Err(error(format!(
                        "rule `{}`: docs `{docs}` must be a Markdown file name (`.md`) inside the pack",
                        rule.component
                    )));
                }
                let severity = rule
                    .severity
                    .map(|s| s.parse::<Severity>())
                    .transpose()
                    .map_err(|e| error(format!("rule `{}`: {e}", rule.component)))?;
                Ok(PackRule {
                    component: rule.component,
                    enabled: rule.enabled,
                    severity,
                    config: rule.config.into_iter().collect(),
                    docs: rule.docs,
                })
            })
            .collect::<Result<_, _>>()?;
        let resource_regression = raw
            .resource_regression
            .map(|r| r.severity.parse::<Severity>())
            .transpose()
            .map_err(|e| error(format!("[resource-regression]: {e}")))?;
        Ok(PackManifest { name: raw.name, version, description: raw.description, rules, resource_regression })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_regression_severity_is_the_packs_to_set() {
        let base = "name = \"p\"\nversion = \"1.0.0\"\n";
        assert_eq!(PackManifest::parse("pack.toml", base).unwrap().resource_regression, None);
        let gate = format!("{base}[resource-regression]\nseverity = \"error\"\n");
        assert_eq!(PackManifest::parse("pack.toml", &gate).unwrap().resource_regression, Some(Severity::Error));
        let bad = format!("{base}[resource-regression]\nseverity = \"fatal\"\n");
        let err = PackManifest::parse("pack.toml", &bad).unwrap_err();
        assert!(err.message.contains("[resource-regression]"), "{err}");
    }

    #[test]
    fn parses_rules_with_overrides_and_config() {
        let pack = PackManifest::parse(
            "pack.toml",
            r#"
name = "baseline"
version = "1.2.0"

[[rule]]
component = "a.wasm"

[[rule]]
component = "b.wasm"
docs = "b.md"
enabled = false
severity = "warning"
[rule.config]
supported = "2026-01"
"#,
        )
        .unwrap();
        assert_eq!(pack.version, semver::Version::new(1, 2, 0));
        assert_eq!(pack.rules.len(), 2);
        assert!(pack.rules[0].enabled);
        assert_eq!(pack.rules[1].severity, Some(Severity::Warning));
        assert_eq!(pack.rules[1].config, [("supported".to_owned(), "2026-01".to_owned())]);
        assert_eq!((pack.rules[0].docs.as_deref(), pack.rules[1].docs.as_deref()), (None, Some("b.md")));
    }

    #[test]
    fn refuses_paths_outside_the_pack_and_bad_severities() {
        let bad_path = "name = \"p\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"../x.wasm\"\n";
        assert!(PackManifest::parse("pack.toml", bad_path).unwrap_err().message.contains("inside the pack"));
        let bad_docs = "name = \"p\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"x.wasm\"\ndocs = \"../x.md\"\n";
        assert!(PackManifest::parse("pack.toml", bad_docs).unwrap_err().message.contains("Markdown file name"));
        let not_markdown = "name = \"p\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"x.wasm\"\ndocs = \"x.html\"\n";
        assert!(PackManifest::parse("pack.toml", not_markdown).is_err());
        let bad_severity =
            "name = \"p\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"x.wasm\"\nseverity = \"fatal\"\n";
        assert!(PackManifest::parse("pack.toml", bad_severity).unwrap_err().message.contains("unknown severity"));
    }
}
