//! Process set-up: logging, the plugin host, the rule pack.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use assay_host::{Host, HostConfig, Limits, RulePack};
use assay_service::{Service, ServiceConfig};

use crate::args::{ColorChoice, LogFormat};
use crate::config::{self, Config};
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

/// The plugin host with the configured limits and cache.
pub fn host(sandbox: &config::Sandbox) -> Result<Host, Failure> {
    host_with(sandbox, limits(sandbox), None)
}

/// The configured limits of one check.
pub fn limits(sandbox: &config::Sandbox) -> Limits {
    Limits {
        wall_time: std::time::Duration::from_millis(sandbox.timeout_ms),
        fuel: sandbox.fuel,
        max_memory_bytes: (sandbox.max_memory_mib as usize) << 20,
        ..Limits::default()
    }
}

/// The plugin host with exactly `limits` (a replay's) and the configured cache; rules without
/// a help URL of their own link to `{docs_url}/rules/{id}`.
pub fn host_with(sandbox: &config::Sandbox, limits: Limits, docs_url: Option<String>) -> Result<Host, Failure> {
    let cache_dir = if sandbox.no_cache { None } else { Some(cache_dir(sandbox)) };
    let config = HostConfig { limits, cache_dir, docs_url, ..HostConfig::default() };
    match Host::new(config.clone()) {
        // A read-only or missing cache (a sandboxed CI, say) costs compile time, not the check.
        Err(assay_host::HostError::Cache { path, source }) => {
            tracing::warn!("not caching compiled rules: cannot use {}: {source}", path.display());
            Host::new(HostConfig { cache_dir: None, ..config })
        }
        other => other,
    }
    .map_err(|e| Failure::Host(e.into()))
}

/// Where `assay rules pull` keeps packs, by digest: beside the compiled components.
pub fn packs_dir(sandbox: &config::Sandbox) -> PathBuf {
    match &sandbox.cache_dir {
        Some(dir) => dir.join("packs"),
        None => {
            use etcetera::BaseStrategy as _;
            etcetera::choose_base_strategy()
                .map(|dirs| dirs.cache_dir().join("assay").join("packs"))
                .unwrap_or_else(|_| std::env::temp_dir().join("assay-packs"))
        }
    }
}

fn cache_dir(sandbox: &config::Sandbox) -> PathBuf {
    if let Some(dir) = &sandbox.cache_dir {
        return dir.clone();
    }
    use etcetera::BaseStrategy as _;
    etcetera::choose_base_strategy()
        .map(|dirs| dirs.cache_dir().join("assay").join("components"))
        .unwrap_or_else(|_| std::env::temp_dir().join("assay-components"))
}

/// What a process that runs reviews takes from the configuration: the service's settings and
/// the limits of its host. `assay serve` and `assay worker` both build theirs here, so on one
/// queue a review's outcome does not depend on which process claimed it.
pub fn service_settings(config: &Config) -> (ServiceConfig, Limits) {
    let service = ServiceConfig {
        lease_secs: i64::from(config.service.lease_secs),
        resource_regression_factor: config.service.resource_regression_factor,
        parallel_compiles: config.service.parallel_compiles.into(),
        max_token_days: config.service.max_token_days,
        max_exception_days: config.service.max_exception_days,
        review_target_days: config.service.review_target_days,
        two_person_blockers: config.service.exception_two_person_rule,
        ..ServiceConfig::default()
    };
    let limits = Limits {
        max_compile_time: std::time::Duration::from_secs(config.service.max_compile_secs.into()),
        ..limits(&config.sandbox)
    };
    (service, limits)
}

/// The console's public base URL: `server.public_url`, else the listen address.
pub fn public_url(config: &Config) -> String {
    let server = &config.server;
    server.public_url.clone().unwrap_or_else(|| format!("http://{}", server.listen))
}

/// The review service on `store`, as the configuration says, with the built-in pack.
pub fn service(config: &Config, store: assay_store::Store) -> Result<Service, Failure> {
    let (settings, limits) = service_settings(config);
    // Findings link to this service's own page for their rule.
    let host = Arc::new(host_with(&config.sandbox, limits, Some(public_url(config)))?);
    let pack = Arc::new(builtin_pack().map_err(Failure::Host)?);
    Ok(Service::new(store, host, pack, settings))
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
    RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from))
        .context("the built-in rule pack is inconsistent")
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches as _;

    use super::*;
    use crate::args::{self, Cli};
    use crate::config::{self, keys};

    fn settings(argv: &[&str]) -> (ServiceConfig, Limits) {
        let matches = args::command().try_get_matches_from(argv).expect("parses");
        let cli = Cli::from_arg_matches(&matches).expect("parses");
        let resolved =
            config::resolve_with(config::File::Skip, args::flags(&cli.global, &cli.command), |_| None).expect("valid");
        service_settings(&resolved.config)
    }

    #[test]
    fn serve_and_worker_build_the_same_service_from_one_configuration() {
        let flags = [
            "--resource-regression-factor",
            "3.5",
            "--lease-secs",
            "7",
            "--max-compile-secs",
            "9",
            "--parallel-compiles",
            "3",
            "--fuel",
            "1000",
            "--timeout-ms",
            "250",
            "--max-memory-mib",
            "16",
        ];
        let serve = settings(&[&["assay", "serve"], &flags[..]].concat());
        let worker = settings(&[&["assay", "worker"], &flags[..]].concat());
        assert_eq!(format!("{serve:?}"), format!("{worker:?}"));
        assert_eq!(serve.0.resource_regression_factor, 3.5);
        assert_eq!(serve.1.max_compile_time, std::time::Duration::from_secs(9));
        assert_eq!(serve.1.fuel, Some(1000));
        // Every key of the sections both read is a flag of both.
        let command = args::command();
        for sub in ["serve", "worker"] {
            let sub = command.find_subcommand(sub).expect("exists");
            for key in keys::KEYS.iter().filter(|k| k.name.starts_with("service.") || k.name.starts_with("sandbox.")) {
                let long = &key.flag[2..];
                assert!(
                    sub.get_arguments().any(|a| a.get_long() == Some(long)),
                    "{} lacks {}",
                    sub.get_name(),
                    key.flag
                );
            }
        }
    }
}
