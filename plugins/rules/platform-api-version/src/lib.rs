//! `platform.api-version`: the app targets an API version the platform still serves.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct ApiVersion;

const DEFAULT_SUPPORTED: &[&str] = &["2026-01", "2026-04", "2026-07", "2026-10"];
const DEFAULT_DEPRECATED: &[&str] = &["2025-07", "2025-10"];

impl Rule for ApiVersion {
    fn info() -> RuleInfo {
        RuleInfo::new("platform.api-version", "Supported platform API version", "1.0.0", Severity::Error).description(
            "The api-version is one the platform supports (config `supported`); a deprecated one \
             (config `deprecated`) is a warning because it will be sunset. Calls to an unsupported \
             version fail, so the app would break for merchants right after install.",
        )
    }

    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String> {
        let supported = config.list("supported", DEFAULT_SUPPORTED);
        let deprecated = config.list("deprecated", DEFAULT_DEPRECATED);
        let version = input.listing.api_version.trim();
        let newest = supported.iter().max().copied().unwrap_or("none");
        let supported_list = supported.join(", ");
        if deprecated.contains(&version) {
            return Ok(vec![
                finding("/api-version", format!("api-version `{version}` is deprecated and will be sunset; supported versions are {supported_list}"))
                    .remediation(format!("Migrate to a supported API version, preferably {newest}, before `{version}` is sunset."))
                    .severity(Severity::Warning),
            ]);
        }
        if supported.contains(&version) {
            return Ok(Vec::new());
        }
        Ok(vec![
            finding(
                "/api-version",
                format!("api-version `{version}` is not supported; supported versions are {supported_list}"),
            )
            .remediation(format!("Target a supported API version, preferably {newest}, and test the app against it.")),
        ])
    }
}

export_rule!(ApiVersion);
