//! `assay rules list`: what a pack contains.

use std::process::ExitCode;

use serde_json::json;

use crate::args::{Global, ListFormat, RulesListArgs};
use crate::exit::Failure;
use crate::setup;

pub fn list(global: &Global, args: &RulesListArgs) -> Result<ExitCode, Failure> {
    let pack = setup::pack(args.rules.as_ref())?;
    let host = setup::host(global)?;
    let mut rows = Vec::new();
    for (rule, bytes) in pack.manifest.rules.iter().zip(&pack.components) {
        let plugin =
            host.load(bytes).map_err(|e| Failure::Host(anyhow::anyhow!("rule component `{}`: {e}", rule.component)))?;
        let meta = &plugin.meta;
        rows.push((meta.clone(), rule.severity.unwrap_or(meta.default_severity), rule.enabled, rule.component.clone()));
    }
    let out = match args.format {
        ListFormat::Json => {
            let rules: Vec<_> = rows
                .iter()
                .map(|(m, severity, enabled, component)| {
                    json!({
                        "id": m.id, "name": m.name, "version": m.version.to_string(), "severity": severity.to_string(),
                        "enabled": enabled, "description": m.description, "help_url": m.help_url, "component": component,
                    })
                })
                .collect();
            let doc =
                json!({ "name": pack.manifest.name, "version": pack.manifest.version.to_string(), "rules": rules });
            serde_json::to_string_pretty(&doc).map_err(|e| Failure::Host(e.into()))? + "\n"
        }
        ListFormat::Table => {
            let mut out = format!("{} {} — {} rules\n\n", pack.manifest.name, pack.manifest.version, rows.len());
            let width = rows.iter().map(|(m, ..)| m.id.len()).max().unwrap_or(2);
            out.push_str(&format!("{:<width$}  {:<7}  {:<8}  {}\n", "ID", "VERSION", "SEVERITY", "DESCRIPTION"));
            for (m, severity, enabled, _) in &rows {
                let disabled = if *enabled { "" } else { " (disabled)" };
                // The first sentence; `--format json` has the whole description.
                let summary = first_sentence(&m.description);
                out.push_str(&format!(
                    "{:<width$}  {:<7}  {:<8}  {summary}{disabled}\n",
                    m.id,
                    m.version.to_string(),
                    severity.to_string(),
                ));
            }
            out
        }
    };
    use std::io::Write as _;
    let _ = anstream::stdout().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// Up to the first ". " that is followed by a capital letter ("e.g. orders" does not end it).
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        if bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase) {
            return &text[..=i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(super::first_sentence("Checks x (e.g. y). More."), "Checks x (e.g. y).");
        assert_eq!(super::first_sentence("One sentence"), "One sentence");
    }
}
