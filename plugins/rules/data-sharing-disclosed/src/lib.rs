//! `data.sharing-disclosed`: data shared with third parties is disclosed in full.

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding, pointer};

struct SharingDisclosed;

/// The shortest purpose that can say why data is shared.
const MIN_PURPOSE_CHARS: usize = 10;

impl Rule for SharingDisclosed {
    fn info() -> RuleInfo {
        RuleInfo::new("data.sharing-disclosed", "Data sharing is disclosed", "1.0.0", Severity::Error).description(
            "When the app shares data with third parties, the listing links a privacy policy, and every \
             data-shared entry names the data, the recipient and a purpose of at least 10 characters. \
             Merchants are answerable to their customers for where their data goes, and privacy law \
             requires them to know.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let l = &input.listing;
        let mut findings = Vec::new();
        if !l.data_shared.is_empty() && l.urls.privacy_policy.as_deref().is_none_or(|u| u.trim().is_empty()) {
            findings.push(
                finding(
                    "/urls/privacy-policy",
                    format!(
                        "the app shares {} kind(s) of data with third parties but links no privacy policy",
                        l.data_shared.len()
                    ),
                )
                .remediation(
                    "Publish a privacy policy that names each recipient and set urls.privacy-policy to its URL.",
                ),
            );
        }
        for (i, share) in l.data_shared.iter().enumerate() {
            let at = |field: &str| pointer(["data-shared", &i.to_string(), field]);
            let data = share.data.trim();
            let what = if data.is_empty() { format!("data-shared entry {i}") } else { format!("sharing `{data}`") };
            if data.is_empty() {
                findings.push(
                    finding(at("data"), format!("data-shared entry {i} does not say what data is shared"))
                        .remediation("Name the data shared, e.g. `customer e-mail addresses`."),
                );
            }
            if share.recipient.trim().is_empty() {
                findings.push(
                    finding(at("recipient"), format!("{what} does not name the recipient"))
                        .remediation("Name the company or service that receives the data."),
                );
            }
            let purpose = share.purpose.trim();
            let len = purpose.chars().count();
            if len < MIN_PURPOSE_CHARS {
                let message = if len == 0 {
                    format!("{what} gives no purpose")
                } else {
                    format!(
                        "the purpose for {what} has {len} characters; at least {MIN_PURPOSE_CHARS} are required (\"{purpose}\")"
                    )
                };
                findings.push(
                    finding(at("purpose"), message)
                        .remediation("Explain why the recipient needs the data and what it does with it."),
                );
            }
        }
        Ok(findings)
    }
}

export_rule!(SharingDisclosed);
