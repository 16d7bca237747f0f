//! A loaded plugin: content-addressed, checked to target a supported world, ready to
//! instantiate, with its rule metadata.

use assay_core::{CheckOutcome, RuleInfo};

use crate::PluginDigest;
use crate::bindings::{GuestRuleInfo, Pre, World};

/// A listing rule or integration check ready to run: compiled, linked, described.
pub struct Plugin {
    /// SHA-256 of the component's bytes.
    pub digest: PluginDigest,
    /// What the plugin says about itself.
    pub meta: RuleInfo,
    /// The world it targets.
    pub world: World,
    /// The `assay:plugin` version the component was built against.
    pub world_version: semver::Version,
    /// Whether it was loaded from the on-disk cache rather than compiled.
    pub from_cache: bool,
    pub(crate) pre: Pre,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("digest", &self.digest).field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// Why a plugin could not be loaded. Every variant is a message a plugin author can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Larger than [`crate::Limits::max_component_bytes`].
    #[error("the file is {size} bytes; the limit for a component is {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not WebAssembly at all.
    #[error("not a WebAssembly component (the file does not start with the wasm magic bytes)")]
    NotWasm,
    /// A core module.
    #[error(
        "a core WebAssembly module, not a component; build it with `cargo build --target wasm32-wasip2` \
         (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    /// Failed validation or compilation.
    #[error("the component failed to compile: {0}")]
    Compile(String),
    /// Compiling took longer than [`crate::Limits::max_compile_time`].
    #[error(
        "compiling the component took longer than the limit of {} s; make it smaller (fewer or \
         smaller functions) or ask the platform for a higher limit",
        limit.as_secs_f64()
    )]
    CompileTooSlow {
        /// The limit.
        limit: std::time::Duration,
    },
    /// Exports neither a rule nor an integration check.
    #[error(
        "the component targets neither the `listing-rule` nor the `integration-check` world: it exports no \
         `assay:plugin/rule` or `assay:plugin/integration` interface (it exports: {exports})"
    )]
    WrongWorld {
        /// What it exports instead.
        exports: String,
    },
    /// Targets a version of the package this host does not run.
    #[error("the component targets {found}, which this assay does not support (supported: assay:plugin {supported})")]
    UnsupportedVersion {
        /// The interface it exports.
        found: String,
        /// The versions this host runs.
        supported: String,
    },
    /// Imports something the sandbox does not provide.
    #[error("the component imports something the sandbox does not provide: {0}")]
    Imports(String),
    /// `describe` failed.
    #[error("describe() failed ({outcome}): {message}")]
    Describe {
        /// How it failed.
        outcome: CheckOutcome,
        /// Details.
        message: String,
    },
    /// `describe` returned something unusable.
    #[error("describe() returned invalid metadata: {0}")]
    Metadata(String),
}

impl LoadError {
    /// How a check with this plugin ends.
    pub fn outcome(&self) -> CheckOutcome {
        match self {
            LoadError::Describe { outcome, .. } => outcome.clone(),
            _ => CheckOutcome::InvalidPlugin,
        }
    }
}

/// Classify raw bytes before compiling them.
pub(crate) fn sniff(bytes: &[u8], max: usize) -> Result<(), LoadError> {
    if bytes.len() > max {
        return Err(LoadError::TooLarge { size: bytes.len(), limit: max });
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(LoadError::CoreModule);
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(LoadError::NotWasm);
    }
    Ok(())
}

/// Validate what `describe()` returned.
pub(crate) fn rule_info(info: GuestRuleInfo) -> Result<RuleInfo, LoadError> {
    let id_ok = !info.id.is_empty()
        && info.id.len() <= 64
        && info.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if info.id.starts_with("integration.") {
        return Err(LoadError::Metadata(format!(
            "rule id `{}` is reserved: ids starting with `integration.` name the findings assay itself makes",
            info.id
        )));
    }
    if !id_ok {
        return Err(LoadError::Metadata(format!(
            "rule id `{}` must be 1-64 characters of a-z, 0-9, '.', '-' and '_'",
            info.id.escape_debug()
        )));
    }
    let version = semver::Version::parse(&info.version).map_err(|e| {
        LoadError::Metadata(format!("rule `{}` version `{}` is not semver: {e}", info.id, info.version))
    })?;
    let bounded = |field: &str, value: String, max: usize| {
        if value.len() > max {
            Err(LoadError::Metadata(format!("rule `{}` {field} is longer than {max} bytes", info.id)))
        } else {
            Ok(value)
        }
    };
    Ok(RuleInfo {
        name: bounded("name", info.name, 200)?,
        description: bounded("description", info.description, 4096)?,
        help_url: bounded("help-url", info.help_url, 2048)?,
        default_severity: info.default_severity,
        version,
        id: info.id,
    })
}
