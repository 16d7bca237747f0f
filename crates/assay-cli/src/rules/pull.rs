//! `assay rules pull`: the review service's active pack, fetched by digest into the cache, so a
//! local `assay check` runs exactly what the service runs. Every file is checked against its
//! SHA-256 and the pack against its digest before it is kept; a pack already in the cache is
//! not fetched again.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use assay_api::rules::{RuleCatalogue, RulePackFiles};
use base64::Engine as _;
use sha2::Digest as _;

use crate::client::{Client, expect};
use crate::exit::Failure;

/// Marks a complete pack directory (written last, after every file).
const COMPLETE: &str = ".pulled";

/// The directory of the service's active pack (or of `digest`, when the caller already knows
/// which pack it needs), fetching it into `packs` if it is not there yet. Returns the directory
/// and whether it was fetched now.
pub fn pack_dir(client: &Client, packs: &Path, digest: Option<&str>) -> Result<(PathBuf, bool), Failure> {
    let digest = match digest {
        Some(digest) => digest.to_owned(),
        None => expect::<RuleCatalogue>(client.get("/v1/rules")?)?.digest,
    };
    if !(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(Failure::Host(anyhow!(
            "{} named the pack digest `{digest}`, which is not SHA-256 hex",
            client.base()
        )));
    }
    let dir = packs.join(&digest);
    if dir.join(COMPLETE).is_file() {
        return Ok((dir, false));
    }
    let pack: RulePackFiles = expect(client.get("/v1/rules/pack")?)?;
    if pack.digest != digest {
        return Err(Failure::Host(anyhow!(
            "the review service's active pack changed while it was fetched ({} is {}, not {digest}); run the command again",
            pack.name,
            pack.digest
        )));
    }
    let files = verified(&pack)?;
    write(&dir, &pack.manifest, &files).map_err(Failure::Host)?;
    Ok((dir, true))
}

/// Every file decoded and checked against its SHA-256, and the pack against its digest.
fn verified(pack: &RulePackFiles) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let mut files = Vec::with_capacity(pack.files.len());
    for file in &pack.files {
        let inside = !(file.name.contains(['/', '\\']) || file.name.starts_with('.') || file.name.is_empty());
        if !inside {
            return Err(Failure::Host(anyhow!("the pack names a file `{}` outside its directory", file.name)));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&file.content)
            .map_err(|e| Failure::Host(anyhow!("pack file `{}` is not base64: {e}", file.name)))?;
        if hex(&sha2::Sha256::digest(&bytes)) != file.sha256 {
            return Err(Failure::Host(anyhow!("pack file `{}` does not match its SHA-256", file.name)));
        }
        files.push((file.name.clone(), bytes));
    }
    let parsed = assay_core::pack::PackManifest::parse("pack.toml", &pack.manifest)
        .map_err(|e| Failure::Host(anyhow!("the service's pack.toml: {e}")))?;
    let mut components = Vec::new();
    for rule in &parsed.rules {
        let Some((_, bytes)) = files.iter().find(|(name, _)| *name == rule.component) else {
            return Err(Failure::Host(anyhow!("the pack lacks its component `{}`", rule.component)));
        };
        components.push(bytes.as_slice());
    }
    let digest = assay_service::rollout::pack_digest(&pack.manifest, &components);
    if digest != pack.digest {
        return Err(Failure::Host(anyhow!("the pack does not match its digest {} (it is {digest})", pack.digest)));
    }
    Ok(files)
}

/// Write the pack into `dir` through a temporary sibling, renamed into place once complete.
fn write(dir: &Path, manifest: &str, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let parent = dir.parent().context("the pack cache has no parent directory")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let staging = tempfile::Builder::new().prefix(".pulling-").tempdir_in(parent)?;
    std::fs::write(staging.path().join("pack.toml"), manifest)?;
    for (name, bytes) in files {
        std::fs::write(staging.path().join(name), bytes)?;
    }
    std::fs::write(staging.path().join(COMPLETE), b"")?;
    let staged = staging.keep();
    match std::fs::rename(&staged, dir) {
        Ok(()) => Ok(()),
        // Another process pulled the same pack first: theirs is as good as ours.
        Err(_) if dir.join(COMPLETE).is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("moving the pack into {}", dir.display())),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `assay rules pull`: print where the pack is.
pub fn run(
    config: &crate::config::Config,
    args: &crate::args::RulesPullArgs,
) -> Result<std::process::ExitCode, Failure> {
    let client = Client::public(&args.server, args.token.as_deref())?;
    let packs = crate::setup::packs_dir(&config.sandbox);
    let (dir, fetched) = pack_dir(&client, &packs, None)?;
    let pack = crate::setup::pack(Some(&dir))?;
    let how = if fetched { "pulled" } else { "already in the cache" };
    eprintln!(
        "{} {} ({} rules) from {}: {how}",
        pack.manifest.name,
        pack.manifest.version,
        pack.manifest.rules.len(),
        client.base()
    );
    println!("{}", dir.display());
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use assay_api::rules::{PackFile, RulePackFiles};
    use base64::Engine as _;
    use sha2::Digest as _;

    use super::{hex, verified};

    fn file(name: &str, bytes: &[u8]) -> PackFile {
        PackFile {
            name: name.into(),
            sha256: hex(&sha2::Sha256::digest(bytes)),
            content: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    fn pack() -> RulePackFiles {
        let manifest = "name = \"p\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"a.wasm\"\ndocs = \"a.md\"\n";
        let digest = assay_service::rollout::pack_digest(manifest, &[b"\0asm".as_slice()]);
        RulePackFiles {
            name: "p".into(),
            version: "1.0.0".into(),
            digest,
            manifest: manifest.into(),
            files: vec![file("a.wasm", b"\0asm"), file("a.md", b"# a")],
        }
    }

    #[test]
    fn a_pack_is_kept_only_when_every_file_and_the_digest_verify() {
        assert_eq!(verified(&pack()).unwrap().len(), 2);
        let mut tampered = pack();
        tampered.files[0].content = base64::engine::general_purpose::STANDARD.encode(b"\0asn");
        assert!(format!("{:?}", verified(&tampered).unwrap_err()).contains("does not match its SHA-256"));
        let mut swapped = pack();
        swapped.files[0] = file("a.wasm", b"\0asn");
        assert!(format!("{:?}", verified(&swapped).unwrap_err()).contains("does not match its digest"));
        let mut escaping = pack();
        escaping.files[1].name = "../a.md".into();
        assert!(format!("{:?}", verified(&escaping).unwrap_err()).contains("outside its directory"));
        let mut missing = pack();
        missing.files.remove(0);
        assert!(format!("{:?}", verified(&missing).unwrap_err()).contains("lacks its component `a.wasm`"));
    }
}
