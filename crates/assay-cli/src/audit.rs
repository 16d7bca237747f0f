//! `assay audit verify`: walk the audit chain on the store and check its signed checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use assay_core::audit::Checkpoint;
use assay_service::audit::{AuditKey, report};

use crate::args::AuditVerifyArgs;
use crate::config::Config;
use crate::exit::{FAIL, Failure, InputContext};
use crate::token;

/// Where the audit signing key is: the configured file, or `audit-signing-key.p8` in the data
/// directory.
pub fn signing_key_path(config: &Config) -> anyhow::Result<PathBuf> {
    match (&config.audit.signing_key, &config.store.data_dir) {
        (Some(path), _) => Ok(path.clone()),
        (None, Some(dir)) => Ok(dir.join("audit-signing-key.p8")),
        (None, None) => Ok(token::default_data_dir()?.join("audit-signing-key.p8")),
    }
}

pub fn verify(config: &Config, args: &AuditVerifyArgs) -> Result<ExitCode, Failure> {
    // Checkpoints kept elsewhere, and the public key to check signatures with.
    let kept = match &args.checkpoints {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display())).input()?;
            let document: assay_api::audit::Checkpoints = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a `GET /v1/audit/checkpoints` document", path.display()))
                .input()?;
            Some(document)
        }
        None => None,
    };
    let public_key = match (&args.public_key, kept.as_ref().and_then(|k| k.public_key.clone())) {
        (Some(key), _) => Some(key.clone()),
        (None, Some(key)) => Some(key),
        (None, None) => {
            let path = signing_key_path(config).input()?;
            path.exists()
                .then(|| AuditKey::load(&path).map(|k| k.public_key()))
                .transpose()
                .map_err(|e| Failure::Input(anyhow::anyhow!(e), None))?
        }
    };
    let kept: Vec<Checkpoint> = kept
        .map(|k| k.checkpoints)
        .unwrap_or_default()
        .into_iter()
        .map(|c| Checkpoint { seq: c.seq, hash: c.hash, at: c.at, key_id: c.key_id, signature: c.signature })
        .collect();
    let runtime = token::runtime()?;
    runtime.block_on(async {
        let store = token::open_store(&config.store).await?;
        let (walked, checkpoints) =
            store.verify_audit_with(i64::MAX, &kept).await.context("reading the audit log").map_err(Failure::Host)?;
        let report = report(walked.map_err(|b| (b.seq, b.reason)), checkpoints, public_key.as_deref());
        if let Some((seq, why)) = &report.broken {
            println!("audit chain BROKEN at event {seq}: {why}");
            return Ok(ExitCode::from(FAIL));
        }
        let newest = report.newest_checkpoint.map_or(String::new(), |c| {
            let at = jiff::Timestamp::from_second(c.at).map(|t| t.to_string()).unwrap_or_default();
            format!("; newest checkpoint at event {} ({at}, key {})", c.seq, c.key_id)
        });
        let signed = match public_key {
            Some(_) => "signatures verified",
            None => "signatures NOT checked: no signing key or --public-key",
        };
        let all = report.checkpoints;
        println!(
            "audit chain intact: {} events, {all} checkpoint{} ({} stored, {} kept elsewhere; {signed}){newest}",
            report.events,
            if all == 1 { "" } else { "s" },
            all - kept.len(),
            kept.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}
