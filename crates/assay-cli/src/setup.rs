//! Process set-up: logging, the plugin host, the rule pack.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use assay_host::{Host, HostConfig, Limits, RulePack};

use crate::args::{ColorChoice, Global, LogFormat};
use crate::exit::{Failure, InputContext};

/// Logs and progress go to stderr; data goes to stdout. `-v` for info, `-vv` for debug,
/// `RUST_LOG` for anything finer. A server logs its requests at info by default.
pub fn install_logging(verbose: u8, color: ColorChoice, format: LogFormat, server: bool) {
    let default = match (verbose, server) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info,sqlx=warn,tower_http=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    use std::io::IsTerminal as _;
    let ansi = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).init(),
        LogFormat::Text => builder.with_ansi(ansi).init(),
    }
}

/// The plugin host with the limits and cache the flags ask for.
pub fn host(global: &Global) -> Result<Host, Failure> {
    host_with(global, limits(global))
}

/// The limits the flags ask for.
pub fn limits(global: &Global) -> Limits {
    let defaults = Limits::default();
    Limits {
        wall_time: std::time::Duration::from_millis(global.timeout_ms.unwrap_or(defaults.wall_time.as_millis() as u64)),
        fuel: global.fuel,
        max_memory_bytes: global.max_memory_mib.map_or(defaults.max_memory_bytes, |mib| (mib as usize) << 20),
        ..defaults
    }
}

/// The plugin host with exactly `limits` (a replay's) and the cache the flags ask for.
pub fn host_with(global: &Global, limits: Limits) -> Result<Host, Failure> {
    let cache_dir = if global.no_cache { None } else { Some(cache_dir(global)) };
    match Host::new(HostConfig { limits: limits.clone(), cache_dir, ..HostConfig::default() }) {
        // A read-only or missing cache (a sandboxed CI, say) costs compile time, not the check.
        Err(assay_host::HostError::Cache { path, source }) => {
            tracing::warn!("not caching compiled rules: cannot use {}: {source}", path.display());
            Host::new(HostConfig { limits, cache_dir: None, ..HostConfig::default() })
        }
        other => other,
    }
    .map_err(|e| Failure::Host(e.into()))
}

fn cache_dir(global: &Global) -> PathBuf {
    if let Some(dir) = &global.cache_dir {
        return dir.clone();
    }
    use etcetera::BaseStrategy as _;
    etcetera::choose_base_strategy()
        .map(|dirs| dirs.cache_dir().join("assay").join("components"))
        .unwrap_or_else(|_| std::env::temp_dir().join("assay-components"))
}

/// The built-in pack, or the pack in `dir`.
pub fn pack(dir: Option<&PathBuf>) -> Result<RulePack, Failure> {
    match dir {
        Some(dir) => RulePack::from_dir(dir, Limits::default().max_component_bytes)
            .with_context(|| format!("loading the rule pack in {}", dir.display()))
            .input(),
        None => builtin_pack().map_err(Failure::Host),
    }
}

/// The pack embedded in this binary.
pub fn builtin_pack() -> anyhow::Result<RulePack> {
    RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::component(name).map(Arc::from))
        .context("the built-in rule pack is inconsistent")
}
