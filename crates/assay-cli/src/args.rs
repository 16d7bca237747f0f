//! Command-line arguments, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  the listing passes (no finding at or above --fail-on)
  1  blocking findings, or a partner's own check (--check) failed
  2  bad input or usage (e.g. a malformed listing.toml)
  3  a plugin or the host failed (a platform rule could not run)";

/// Review marketplace listings with sandboxed WebAssembly rules.
///
/// assay runs the platform's listing-QA rules — WebAssembly components built against the
/// `assay:plugin` WIT interface — against a listing's `listing.toml`, exactly as the review
/// service does on submission.
#[derive(Debug, Parser)]
#[command(name = "assay", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Debug, Args)]
pub struct Global {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colour; `auto` honours NO_COLOR and whether output is a terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Where precompiled components are cached [default: $XDG_CACHE_HOME/assay/components].
    #[arg(long, global = true, env = "ASSAY_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the precompiled-component cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Wall-time limit per check, in milliseconds [default: 2000].
    #[arg(long, global = true, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub timeout_ms: Option<u64>,
    /// Fuel budget per check (deterministic instruction budget) [default: off].
    #[arg(long, global = true, value_name = "UNITS", value_parser = clap::value_parser!(u64).range(1..))]
    pub fuel: Option<u64>,
    /// Linear memory per check, summed over all memories, in MiB [default: 64].
    #[arg(long, global = true, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_memory_mib: Option<u32>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a listing with the rule pack (and any extra checks), as the service would.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Inspect rule packs.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Manage API tokens directly on the store (for bootstrap).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the JSON Schema of `assay check --format json` reports.
    Schema,
    /// Print a shell completion script, e.g. `assay completions bash > /etc/bash_completion.d/assay`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A listing directory (holding listing.toml) or a listing.toml file.
    pub path: PathBuf,
    /// The last approved version's manifest, so version-bump rules run too.
    #[arg(long, value_name = "PATH")]
    pub previous: Option<PathBuf>,
    /// A rule-pack directory (pack.toml and components) instead of the built-in pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// An extra check component to run (repeatable); its failures block the listing.
    #[arg(long = "check", value_name = "FILE.wasm")]
    pub checks: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The lowest severity that fails the check.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings grouped by severity with the offending manifest lines.
    Human,
    /// The JSON report (schema: docs/report.schema.json).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SeverityArg {
    Info,
    Warning,
    Error,
    Blocker,
}

impl From<SeverityArg> for assay_core::Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Info => assay_core::Severity::Info,
            SeverityArg::Warning => assay_core::Severity::Warning,
            SeverityArg::Error => assay_core::Severity::Error,
            SeverityArg::Blocker => assay_core::Severity::Blocker,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules of a pack: ids, versions, severities, descriptions.
    List(RulesListArgs),
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// A rule-pack directory instead of the built-in pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// Where the lifecycle store is: an embedded SQLite data directory (the default) or a database URL.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The data directory of the embedded SQLite store [default: $XDG_DATA_HOME/assay].
    #[arg(long, env = "ASSAY_DATA_DIR", value_name = "DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// A database URL instead (`postgres://…` or `sqlite://PATH`).
    #[arg(long, env = "ASSAY_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once, as the last word of the output.
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// What the token may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The partner a partner token acts for; created if it does not exist yet.
    #[arg(long, value_name = "NAME", required_if_eq("role", "partner"))]
    pub partner: Option<String>,
    /// Capabilities of a partner created here (repeatable).
    #[arg(long = "capability", value_enum, value_name = "CAPABILITY", default_values_t = [CapabilityArg::List])]
    pub capabilities: Vec<CapabilityArg>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Partner,
    Reviewer,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CapabilityArg {
    /// Publish listings.
    List,
    /// Hold certification.
    Certify,
    /// Ship integration checks.
    Checks,
}
