//! Command-line arguments, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  the listing passes (no finding at or above --fail-on); other commands: success
  1  blocking findings, or a partner's own check (--check) failed
  2  bad input or usage (e.g. a malformed listing.toml, a request the server refused)
  3  a plugin, the host or the service failed (a platform rule could not run, the
     server or the database could not be reached)";

/// Review marketplace listings with sandboxed WebAssembly rules.
///
/// assay runs the platform's listing-QA rules — WebAssembly components built against the
/// `assay:plugin` WIT interface — against a listing's `listing.toml`: locally with `check`,
/// exactly as the review service (`serve`) does on submission. Partners `submit` versions and
/// follow their `status`; reviewers work the `review` queue.
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
    /// Log lines as human text or as JSON objects (one per line, for log collectors).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// The configuration file (TOML; see `assay config show`) [env: ASSAY_CONFIG] [default:
    /// ./assay.toml if it exists].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The sandbox every check runs in (`[sandbox]` in the configuration).
#[derive(Debug, Default, Args)]
pub struct SandboxArgs {
    /// Wall-time limit per check, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Fuel budget per check (a deterministic instruction budget).
    #[arg(long, value_name = "UNITS")]
    pub fuel: Option<u64>,
    /// Linear memory per check, summed over all memories, in MiB.
    #[arg(long, value_name = "MIB")]
    pub max_memory_mib: Option<u32>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The precompiled-component cache.
#[derive(Debug, Default, Args)]
pub struct CacheArgs {
    /// Where precompiled components are cached.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the precompiled-component cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// What every process that runs reviews must agree on (`[service]`).
#[derive(Debug, Default, Args)]
pub struct ServiceArgs {
    /// Queue workers in this process. More workers than cores overlap the store's round trips
    /// (commits wait on the disk) with running checks.
    #[arg(long, value_name = "N")]
    pub workers: Option<u16>,
    /// How long a claimed job's lease lasts, in seconds. Workers renew it while they run; after
    /// a crash, another process (or this one, restarted) takes the job over once it lapses.
    /// On SQLite, jobs are released at start anyway.
    #[arg(long, value_name = "SECS", alias = "review-lease-secs")]
    pub lease_secs: Option<u32>,
    /// How much an integration check's fuel, peak memory or bytes sent may grow against the
    /// last approved version's run before it is an `integration.resource-regression` warning.
    #[arg(long, value_name = "FACTOR")]
    pub resource_regression_factor: Option<f64>,
    /// How long compiling one uploaded check may take, in seconds; a slower one is refused
    /// (`invalid_plugin`). Compilation cannot be interrupted: it keeps its slot until it ends.
    #[arg(long, value_name = "SECS")]
    pub max_compile_secs: Option<u32>,
    /// How many uploaded checks may compile at once; an upload that waits longer than
    /// --max-compile-secs for a slot is answered 503 `busy` with `Retry-After`.
    #[arg(long, value_name = "N")]
    pub parallel_compiles: Option<u16>,
    /// The longest a token created through the API may last, in days (tokens default to 90).
    #[arg(long, value_name = "DAYS")]
    pub max_token_days: Option<u32>,
    /// The longest an exception to a finding may be asked for, in days.
    #[arg(long, value_name = "DAYS")]
    pub max_exception_days: Option<u32>,
    /// How long a version should wait for a reviewer's decision, in business days.
    #[arg(long, value_name = "DAYS")]
    pub review_target_days: Option<u32>,
    /// Let one reviewer grant an exception to a blocker finding alone (by default a second
    /// reviewer confirms).
    #[arg(long)]
    pub no_exception_two_person_rule: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
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
    /// Run a run bundle again (from `assay check --bundle` or the API's
    /// `/v1/listings/SLUG/versions/VERSION/bundle`) and say whether it matched, bit for bit.
    #[command(
        after_help = "Exit codes: 0 matched, 1 did not match, 2 not a usable bundle (altered, unreadable), 3 error."
    )]
    Replay(ReplayArgs),
    /// Inspect rule packs, and roll new ones out to a review service: publish in shadow,
    /// read the blast radius, enforce with a grace deadline.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Run the review service: the JSON API, the review worker and the store.
    ///
    /// With no flags it serves http://127.0.0.1:8420 on the embedded SQLite store in the
    /// default data directory. `--demo` loads the example listings so the queue is not empty.
    Serve(Box<ServeArgs>),
    /// Partner checks: ship a new version of your own checks for a live listing and have it
    /// re-checked, without a new listing version.
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// Run queue workers only (no API): reviews and re-checks from a shared store.
    ///
    /// For scale-out on PostgreSQL: any number of `assay worker` processes and `assay serve`
    /// nodes share one database and claim jobs with `FOR UPDATE SKIP LOCKED`. A worker killed
    /// mid-job loses nothing: its jobs are taken over when their leases lapse. SIGTERM or
    /// Ctrl-C finishes the jobs in hand and exits.
    Worker(WorkerArgs),
    /// Submit a listing version to a review service and follow its review.
    ///
    /// Creates the listing first if it does not exist yet, uploads listing.toml (and any
    /// --check components), waits for the review and prints the findings as `assay check` does.
    #[command(after_help = CLIENT_EXIT_CODES)]
    Submit(SubmitArgs),
    /// Show your listings, a listing's versions (SLUG) or one version's review (SLUG@VERSION).
    Status(StatusArgs),
    /// Reviewer commands against a review service: the queue, decisions, waivers.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Release an approved version of your listing: it goes live (`approved → published`).
    Release {
        /// SLUG@VERSION.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Whether your listing's approved versions go live at once (`approved → published`)
    /// instead of waiting for `assay release`.
    AutoRelease {
        /// The listing.
        slug: String,
        /// Turn it off: you release each approved version yourself.
        #[arg(long)]
        off: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Roll your listing back to an earlier approved version: every newer approved or live version
    /// is withdrawn, and this one goes live again.
    Rollback {
        /// SLUG@VERSION: the version to return to.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Withdraw a version of your listing that is in review or approved (not while its checks run).
    Withdraw {
        /// SLUG@VERSION.
        target: String,
        /// Why (kept in the audit log).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Exceptions to findings: partners ask (request), staff decide (grant, deny); the register.
    Exception {
        #[command(subcommand)]
        command: ExceptionCommand,
    },
    /// Appeals: partners appeal a rejection or a request for changes (file); a reviewer other
    /// than the one who decided hears it (uphold, overturn).
    Appeal {
        #[command(subcommand)]
        command: AppealCommand,
    },
    /// The conversation on a version: read it, write on it, and (reviewers) put it on hold.
    Conversation {
        #[command(subcommand)]
        command: ConversationCommand,
    },
    /// Change notices: publish one (a breaking one needs 30 days' lead), list them.
    Notice {
        #[command(subcommand)]
        command: NoticeCommand,
    },
    /// Schedule the deprecation and sunset of a listing's versions (or, staff, of a platform
    /// API version). The dates must give the minimum notice for the stability level.
    Deprecate(DeprecateArgs),
    /// Webhook endpoints (Standard Webhooks signatures) and their delivery logs.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Show the effective configuration and where each value came from, or check a file.
    ///
    /// Every process (`serve`, `worker`, `check`, …) resolves one configuration: defaults, then
    /// the file (`--config`, ASSAY_CONFIG, or ./assay.toml if it exists), then environment
    /// variables, then flags. docs/configuration.md documents every key.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the OpenAPI 3.1 document of the service's API (also served at /openapi.json).
    Openapi,
    /// API tokens: create, list, revoke and rotate your own (owners and admins: your
    /// organisation's service accounts'), or bootstrap the first admin on the store.
    #[command(after_help = TOKEN_FORMAT)]
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Who your token acts as: the person or service account, organisation, role and scopes.
    Whoami {
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// An organisation's members: list, add, change a role, remove (`staff`, or a partner's name).
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// Partner organisations and staff decisions on their capabilities (grant, revoke, suspend,
    /// restore), each with a rationale.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
    },
    /// The audit log: verify its hash chain and signed checkpoints.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
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
    /// The seed of the sandbox tenant integration checks run against (the service uses the
    /// default, so transcripts match).
    #[arg(long, value_name = "N", default_value_t = assay_host::platform::DEFAULT_SEED)]
    pub seed: u64,
    /// Also write a run bundle (everything this run used, and what it found) for `assay replay`.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// SARIF: locations are relative to this directory (`%SRCROOT%`), as code scanning maps
    /// them onto the repository. Default: the git work tree's root, else the working directory.
    #[arg(long, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Run exactly what this review service runs for the listing: its active rule pack (pulled
    /// by digest into the cache), the listing's last approved version as the previous one, and
    /// its live waivers, which keep the findings they cover from blocking. Needs a token that
    /// can read the listing (`--token` or ASSAY_TOKEN).
    #[arg(long, value_name = "URL", conflicts_with_all = ["rules", "previous"])]
    pub server: Option<String>,
    /// The API token `--server` reads the listing with.
    #[arg(long, env = "ASSAY_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The run bundle (JSON, format `assay-run-bundle/1`).
    pub bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
    /// The cache (a replay runs under the bundle's own limits).
    #[command(flatten, next_help_heading = "Sandbox")]
    pub cache: CacheArgs,
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
    /// Create a rule project that builds as it is: the rule (Rust, Python or JavaScript), its
    /// pack.toml, its documentation and first test cases.
    #[command(
        after_help = "Then: cd DIR && ./build.sh && assay rules test (docs/writing-rules.md walks through it).\n\nExamples:\n  assay rules new copy.summary-length\n  assay rules new acme.listing-tone --lang python --dir rules/tone"
    )]
    New(RulesNewArgs),
    /// Show one rule's documentation: what it checks, why, how to fix it, a failing and a
    /// passing example.
    Show(RulesShowArgs),
    /// Fetch a review service's active rule pack into the cache, by its digest, and print
    /// where it is (`assay check --rules DIR` runs it; `assay check --server URL` pulls it
    /// itself). Every file is verified against its SHA-256 and the pack against its digest.
    #[command(
        after_help = "Exit codes: 0 pulled or already in the cache, 2 the server refused, 3 the server could not be reached or sent a pack that does not verify."
    )]
    Pull(RulesPullArgs),
    /// Publish a rule pack to a review service: `--shadow` re-checks every live listing
    /// without blocking anything and reports the blast radius; `--enforce` then notifies the
    /// affected partners and applies the new verdicts after `--grace` days.
    ///
    /// `--enforce` on a pack not yet published publishes it in shadow first and waits for that
    /// re-check (the notices come from its verdicts).
    #[command(
        after_help = "Exit codes: 0 done, 2 the server refused (not a reviewer, invalid pack, already published), 3 the server could not be reached."
    )]
    Publish(RulesPublishArgs),
    /// Show the rollouts of published rule packs (PACK@VERSION for one, with its blast radius).
    Status(RulesStatusArgs),
    /// Run a pack's test cases: each case is a listing (and optionally the previous approved
    /// one) with the exact findings the pack must produce; a finding missing or unexpected
    /// fails the case. See docs/writing-rules.md for the case format.
    #[command(
        after_help = "Exit codes: 0 every case passed, 1 a case failed, 2 a bad case file or filter, 3 a rule could not be loaded.\n\nExamples:\n  assay rules test                       # in a rule project: its pack.toml against tests/\n  assay rules test plugins/tests         # the built-in pack against its cases\n  assay rules test tests --rule urls.https --format junit > rules.xml"
    )]
    Test(RulesTestArgs),
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// A case file, or a directory searched for them (a `.toml` file with `[[case]]` tables). A
    /// directory holding pack.toml is a rule project: its pack runs against its tests/.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
    /// The rule-pack directory under test (default: PATH when it holds pack.toml, else the
    /// built-in pack).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Run only this rule, and compare only its findings (repeat for several).
    #[arg(long = "rule", value_name = "ID")]
    pub rule: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TestFormat {
    /// A line per case, then each failure, like `cargo test`.
    Human,
    /// JUnit XML: a suite per case file, a test case per case.
    Junit,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("mode").required(true).args(["shadow", "enforce"]))]
pub struct RulesPublishArgs {
    /// The pack: a directory holding pack.toml and its components, or `builtin` for the pack
    /// built into this assay.
    #[arg(value_name = "PACK")]
    pub pack: String,
    /// Publish in shadow mode: re-check every live listing, block nothing.
    #[arg(long)]
    pub shadow: bool,
    /// Enforce the pack after the grace period (publishing it in shadow first if needed).
    #[arg(long)]
    pub enforce: bool,
    /// Days between enforcing and the verdicts applying; affected partners get a change
    /// notice now with that deadline.
    #[arg(long, value_name = "DAYS", default_value_t = 30, requires = "enforce", value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub grace: u32,
    /// Wait for the re-check to finish, with a progress bar (counts and ETA), then print the
    /// blast radius.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
}

#[derive(Debug, Args)]
pub struct RulesStatusArgs {
    /// A published pack, `NAME@VERSION`; every pack when left out.
    #[arg(value_name = "PACK@VERSION")]
    pub pack: Option<String>,
    /// Wait for its re-check to finish, with a progress bar.
    #[arg(long, requires = "pack")]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
}

#[derive(Debug, Subcommand)]
pub enum ChecksCommand {
    /// Replace the checks of SLUG's live version with these components and re-check it. The
    /// version keeps the checks it shipped with for its own review; re-checks run the new ones.
    #[command(
        after_help = "Exit codes: 0 accepted (with --wait: the re-check passes), 1 the re-check fails, 2 the server refused, 3 the re-check could not decide or the server could not be reached."
    )]
    Update(ChecksUpdateArgs),
}

#[derive(Debug, Args)]
pub struct ChecksUpdateArgs {
    /// The listing.
    pub slug: String,
    /// The new check components.
    #[arg(value_name = "FILE.wasm", required = true)]
    pub checks: Vec<PathBuf>,
    /// Wait for the re-check's verdict and show it.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten, next_help_heading = "Service")]
    pub service: ServiceArgs,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct RulesNewArgs {
    /// The rule's id: lowercase dotted segments, the area first (e.g. `copy.summary-length`).
    #[arg(value_name = "ID")]
    pub id: String,
    /// The language to write it in.
    #[arg(long, value_enum, default_value_t = RuleLang::Rust)]
    pub lang: RuleLang,
    /// Where to create it (default: the id with dots as dashes, in this directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Rust: the assay-sdk crate to depend on (default: the one in the assay source this binary
    /// was built from).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleLang {
    /// Rust with assay-sdk (cargo, wasm32-wasip2).
    Rust,
    /// Python through componentize-py (pinned; installed into .venv by build.sh).
    Python,
    /// JavaScript through componentize-js (pinned in package.json; npm installs it).
    Js,
}

#[derive(Debug, Args)]
pub struct RulesPullArgs {
    /// The review service's base URL.
    #[arg(long, env = "ASSAY_SERVER", value_name = "URL", default_value = "http://127.0.0.1:8420")]
    pub server: String,
    /// An API token; the active pack is public, so none is needed.
    #[arg(long, env = "ASSAY_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Args)]
pub struct RulesShowArgs {
    /// The rule id, e.g. `urls.https` (`assay rules list` shows them).
    #[arg(value_name = "ID")]
    pub id: String,
    /// A rule-pack directory instead of the built-in pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// A rule-pack directory instead of the built-in pack.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// Where the lifecycle store is: an embedded SQLite data directory (the default) or a database URL.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The data directory of the embedded SQLite store.
    #[arg(long, value_name = "DIR", conflicts_with = "database_url")]
    pub data_dir: Option<PathBuf>,
    /// A database URL instead (`postgres://…` or `sqlite://PATH`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

const CLIENT_EXIT_CODES: &str = "\
Exit codes:
  0  reviewed: the version passes (it waits for a reviewer); with --no-wait: accepted
  1  reviewed: blocking findings (changes requested)
  2  the server refused the submission (invalid manifest, unknown listing, bad token, ...)
  3  the review could not run (verdict `error`), or the server could not be reached";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Load the example listings (from DIR, default `examples/listings`) for a demo partner,
    /// and print tokens for its owner, a reviewer and an admin.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "examples/listings")]
    pub demo: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Server")]
    pub server: ServerArgs,
    #[command(flatten, next_help_heading = "Store")]
    pub store: StoreArgs,
    #[command(flatten, next_help_heading = "Service")]
    pub service: ServiceArgs,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
    #[command(flatten, next_help_heading = "Audit")]
    pub audit: AuditArgs,
    #[command(flatten, next_help_heading = "Sign-in")]
    pub oidc: OidcArgs,
    #[command(flatten, next_help_heading = "E-mail")]
    pub email: EmailArgs,
}

/// E-mail to people through an SMTP relay (`[email]`).
#[derive(Debug, Default, Args)]
pub struct EmailArgs {
    /// The SMTP relay e-mail goes through (unset: no e-mail is sent).
    #[arg(long, value_name = "HOST")]
    pub smtp_host: Option<String>,
    /// The relay's port.
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<u16>,
    /// How the connection is secured: starttls, tls or none.
    #[arg(long, value_name = "MODE")]
    pub smtp_security: Option<String>,
    /// The user name to authenticate to the relay with.
    #[arg(long, value_name = "USER")]
    pub smtp_username: Option<String>,
    /// The relay password (prefer ASSAY_SMTP_PASSWORD or the file).
    #[arg(long, value_name = "PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender of every e-mail, e.g. "assay <assay@example.com>".
    #[arg(long, value_name = "MAILBOX")]
    pub email_from: Option<String>,
    /// Let the relay be on loopback or a private network.
    #[arg(long)]
    pub email_allow_private_relay: bool,
    /// How often new events become e-mails and what is due is sent, in seconds.
    #[arg(long, value_name = "SECS")]
    pub email_interval_secs: Option<u32>,
}

/// The audit chain's checkpoints (`[audit]`).
#[derive(Debug, Default, Args)]
pub struct AuditArgs {
    /// The Ed25519 key that signs audit checkpoints (PKCS#8; created on first start).
    #[arg(long, value_name = "FILE")]
    pub audit_signing_key: Option<PathBuf>,
    /// How often the audit chain's head is signed and its newest events re-verified, in seconds.
    #[arg(long, value_name = "SECS")]
    pub checkpoint_interval_secs: Option<u32>,
}

/// The HTTP API and console (`[server]`).
#[derive(Debug, Default, Args)]
pub struct ServerArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// The largest submission (manifest and components), in MiB.
    #[arg(long, value_name = "MIB")]
    pub max_upload_mib: Option<u32>,
    /// How long a client has to send a request's headers, in seconds; an idle keep-alive
    /// connection is closed after as long.
    #[arg(long, value_name = "SECS")]
    pub header_timeout_secs: Option<u32>,
    /// How long a client has to send a request's body, in seconds.
    #[arg(long, value_name = "SECS")]
    pub body_timeout_secs: Option<u32>,
    /// Client connections served at once; further ones wait to be accepted.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<u32>,
    /// How often the scheduler applies deprecation schedules (deprecating versions on their
    /// deprecated-from date and retiring them at their sunset), in seconds.
    #[arg(long, value_name = "SECS")]
    pub scheduler_interval_secs: Option<u32>,
    /// How often new events are fanned out to partner webhooks, in seconds (deliveries run
    /// continuously; retries back off on their own schedule).
    #[arg(long, value_name = "SECS")]
    pub webhook_interval_secs: Option<u32>,
    /// Webhook deliveries in flight at once, across endpoints.
    #[arg(long, value_name = "N")]
    pub webhook_concurrency: Option<u32>,
    /// Webhook deliveries in flight at once to one endpoint.
    #[arg(long, value_name = "N")]
    pub webhook_endpoint_concurrency: Option<u32>,
    /// How long a webhook receiver has to answer, in seconds.
    #[arg(long, value_name = "SECS")]
    pub webhook_timeout_secs: Option<u32>,
    /// Pause a webhook endpoint whose every delivery failed for this many hours (0: never).
    #[arg(long, value_name = "HOURS")]
    pub webhook_pause_after_hours: Option<u32>,
    /// Accept webhook endpoints on loopback and private addresses (and plain http to them).
    /// For development only: otherwise partners could make the server call its own network.
    #[arg(long)]
    pub allow_private_webhooks: bool,
    /// Mark the web console's session cookie `Secure`: set it when a TLS proxy in front of
    /// assay does not send `X-Forwarded-Proto: https` (with it, the cookie is `Secure` anyway).
    #[arg(long)]
    pub secure_cookies: bool,
    /// How long a web console sign-in lasts, in hours.
    #[arg(long, value_name = "HOURS")]
    pub session_hours: Option<u32>,
    /// The console's public base URL, as browsers reach it (OpenID redirect URI, invitation links).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
}

/// Console sign-in through an OpenID provider (`[oidc]`).
#[derive(Debug, Default, Args)]
pub struct OidcArgs {
    /// The OpenID provider's issuer URL (discovered at start).
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// The client id assay is registered with at the provider.
    #[arg(long, value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret (prefer ASSAY_OIDC_CLIENT_SECRET or the file).
    #[arg(long, value_name = "SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
}

/// Where the review service is and who you are.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The review service's base URL.
    #[arg(long, env = "ASSAY_SERVER", value_name = "URL", default_value = "http://127.0.0.1:8420")]
    pub server: String,
    /// Your API token (`assay token create`); required, from here or the environment.
    #[arg(long, env = "ASSAY_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// A listing directory (holding listing.toml) or a listing.toml file.
    pub path: PathBuf,
    /// A partner check component to ship with the version (repeatable).
    #[arg(long = "check", value_name = "FILE.wasm")]
    pub checks: Vec<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Output format: findings as `assay check` shows them, or the version's JSON.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
    /// Return once the server accepted the version, without waiting for the review.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting for the review after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait_secs: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// SLUG or SLUG@VERSION; nothing for all your listings.
    pub target: Option<String>,
    /// With SLUG@VERSION: write the run bundle of its latest review to FILE, for `assay replay`.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,
    /// With SLUG: its timeline (versions, reviews, decisions, waivers, notices, deprecations).
    #[arg(long)]
    pub timeline: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
    pub format: ClientFormat,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Versions waiting for a decision, longest-waiting first: who has each, its hold, and the
    /// time left against the review target.
    Queue {
        /// waiting (not on hold), held, past_target or unassigned.
        #[arg(long)]
        state: Option<String>,
        /// me, none, or a reviewer's e-mail address.
        #[arg(long)]
        assignee: Option<String>,
        /// One partner's versions.
        #[arg(long)]
        partner: Option<String>,
        /// Versions whose latest review reported a finding of this rule.
        #[arg(long)]
        rule: Option<String>,
        /// pass or error.
        #[arg(long)]
        verdict: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Claim a waiting version: it shows as yours in the queue (refused if another reviewer
    /// has it).
    Claim {
        /// SLUG@VERSION.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Give a waiting version to another reviewer, by e-mail address.
    Assign {
        /// SLUG@VERSION.
        target: String,
        /// The reviewer's e-mail address.
        #[arg(long, value_name = "EMAIL")]
        to: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Take a version's review away from whoever has it.
    Unassign {
        /// SLUG@VERSION.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Decide on a version: approve, request changes, reject or certify. A note is required.
    Decide {
        /// SLUG@VERSION.
        target: String,
        /// The decision.
        #[arg(long, value_enum)]
        action: DecisionArg,
        /// Why; shown to the partner and kept in the audit log.
        #[arg(long)]
        note: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Grant a waiver: exempt one rule for a range of a listing's versions until a date.
    Waive {
        /// The listing.
        slug: String,
        /// The rule id, e.g. `urls.https`.
        #[arg(long)]
        rule: String,
        /// The versions covered, a semver range.
        #[arg(long, default_value = "*")]
        versions: String,
        /// When it expires (RFC 3339, e.g. 2027-03-31T00:00:00Z).
        #[arg(long, value_name = "TIME")]
        expires: String,
        /// Why the exception is acceptable.
        #[arg(long)]
        justification: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Ask for an exception to one of a version's findings; staff grant or deny it.
    Request {
        /// SLUG@VERSION: the version whose finding it is.
        target: String,
        /// The rule that reported the finding, e.g. `urls.https`.
        #[arg(long)]
        rule: String,
        /// The versions it should cover, a semver range that includes this version (default:
        /// this version only).
        #[arg(long)]
        versions: Option<String>,
        /// Until when: a date (2027-03-31) or an RFC 3339 time; at most 180 days ahead by default.
        #[arg(long, value_name = "DATE")]
        until: String,
        /// Why the finding is acceptable for now.
        #[arg(long)]
        justification: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The exception register: requests newest first — who asked, who decided, until when.
    List {
        /// One partner's (staff).
        #[arg(long)]
        partner: Option<String>,
        /// For one rule.
        #[arg(long)]
        rule: Option<String>,
        /// requested, confirming, granted, denied, live or lapsed.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// One request and what became of it.
    Show {
        /// The request's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Grant a request (staff), possibly for fewer versions or a shorter time; an exception to a
    /// blocker needs a second reviewer to grant it too.
    Grant {
        /// The request's id.
        id: i64,
        /// Why; the partner reads it.
        #[arg(long)]
        rationale: String,
        /// Fewer versions than asked (a semver range).
        #[arg(long)]
        versions: Option<String>,
        /// Sooner than asked: a date (2027-03-31) or an RFC 3339 time.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Deny a request (staff).
    Deny {
        /// The request's id.
        id: i64,
        /// Why; the partner reads it.
        #[arg(long)]
        rationale: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppealCommand {
    /// Appeal the reviewer decision that rejected a version or asked for changes.
    File {
        /// SLUG@VERSION.
        target: String,
        /// Why the decision should change; a reviewer other than the one who decided reads it.
        #[arg(long)]
        statement: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Appeals, newest first (staff: every partner's, or one's).
    List {
        /// One partner's (staff).
        #[arg(long)]
        partner: Option<String>,
        /// open, upheld or overturned.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// One appeal and its outcome.
    Show {
        /// The appeal's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Hear an appeal and let the decision stand (a reviewer other than the one who decided).
    Uphold {
        /// The appeal's id.
        id: i64,
        /// Why; the partner reads it.
        #[arg(long)]
        rationale: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Hear an appeal and overturn the decision: the version is approved.
    Overturn {
        /// The appeal's id.
        id: i64,
        /// Why; the partner reads it.
        #[arg(long)]
        rationale: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConversationCommand {
    /// A version's messages, holds and appeals, oldest first.
    Show {
        /// SLUG@VERSION.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Write on a version's conversation (plain text).
    Post {
        /// SLUG@VERSION.
        target: String,
        /// The message.
        message: String,
        /// Staff: a note partners never see.
        #[arg(long)]
        internal: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Put a version awaiting review on hold, with a reason the partner reads (reviewers).
    Hold {
        /// SLUG@VERSION.
        target: String,
        /// Why the review waits, e.g. "waiting for a test account".
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Release a version's hold; its review clock runs again (reviewers).
    Release {
        /// SLUG@VERSION.
        target: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecisionArg {
    Approve,
    RequestChanges,
    Reject,
    Certify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientFormat {
    Human,
    Json,
}

pub const TOKEN_FORMAT: &str = "\
Tokens look like `assay_` + 40 base62 characters + a 6-character base62 CRC-32 of those 40, so
secret scanners can find leaked ones and tell them from look-alikes. They expire (90 days unless
--expires-in-days says otherwise) and fail with `token_expired`, `token_revoked` or `owner_left`.";

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once, as the last word of the output: `assay token create
    /// NAME` against the server with your own token, or `--role ROLE` on the store (bootstrap).
    Create(TokenCreateArgs),
    /// Your tokens (or your organisation's, or every one), never their secrets.
    List {
        /// Whose tokens.
        #[arg(long, value_enum, default_value_t = TokensOfArg::Mine)]
        of: TokensOfArg,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Revoke a token by its id (`assay token list`): it fails with `token_revoked` from now
    /// on, and its console sessions end.
    Revoke(TokenRevokeArgs),
    /// Rotate a token: a new secret now (printed once, as the last word), the old one keeps
    /// working for the grace period and then fails with `token_expired`.
    Rotate {
        /// The token's id.
        id: i64,
        /// Hours the old secret keeps working (0 ends it now).
        #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=720))]
        grace_hours: u32,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// An organisation's current members.
    List {
        /// `staff`, or a partner's name.
        organisation: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Add a person (owners: to their partner; admins: to any organisation).
    Add {
        /// `staff`, or a partner's name.
        organisation: String,
        /// Their e-mail address.
        email: String,
        /// Their name.
        #[arg(long)]
        name: String,
        /// Their role: admin or reviewer in `staff`; owner, developer or viewer in a partner.
        #[arg(long, value_enum)]
        role: MemberRoleArg,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Give a member another role (a partner keeps at least one owner).
    SetRole {
        /// `staff`, or a partner's name.
        organisation: String,
        /// Their e-mail address.
        email: String,
        /// The new role.
        #[arg(value_enum)]
        role: MemberRoleArg,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Issue a token for a member (their first credential where there is no identity
    /// provider); the secret is printed once, as the last word, for you to hand over.
    Token {
        /// `staff`, or a partner's name.
        organisation: String,
        /// Their e-mail address.
        email: String,
        /// The token's name.
        #[arg(long, default_value = "first sign-in")]
        name: String,
        /// Its scopes (repeatable; default: all their role allows).
        #[arg(long = "scope", value_enum, value_name = "SCOPE")]
        scopes: Vec<ScopeArg>,
        /// Days until it expires.
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        expires_in_days: u32,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Remove a member: their tokens stop working (`owner_left`) and their sessions end.
    Remove {
        /// `staff`, or a partner's name.
        organisation: String,
        /// Their e-mail address.
        email: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MemberRoleArg {
    /// Staff: organisations, members, capabilities, packs, platform notices.
    Admin,
    /// Staff: decisions and waivers.
    Reviewer,
    /// A partner's members, tokens and webhooks.
    Owner,
    /// A partner's listings, submissions and checks.
    Developer,
    /// Reads.
    Viewer,
}

#[derive(Debug, Subcommand)]
pub enum PartnerCommand {
    /// Partner organisations (staff: every one; partners: their own).
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// A partner, its members and its capability history.
    Show {
        /// The partner.
        name: String,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Create a partner organisation with its first owner (admins).
    Create {
        /// Its name: lower-case letters, digits and dashes.
        name: String,
        /// The first owner's e-mail address.
        #[arg(long, value_name = "ADDRESS")]
        owner_email: String,
        /// The first owner's name.
        #[arg(long, value_name = "NAME")]
        owner_name: String,
        /// Its capabilities (repeatable).
        #[arg(long = "capability", value_enum, value_name = "CAPABILITY")]
        capabilities: Vec<CapabilityArg>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Grant capabilities (admins).
    Grant(CapabilityDecisionArgs),
    /// Revoke capabilities (admins). Revoking `certify` removes the certified mark from the
    /// partner's versions and publishes a change notice on each listing that lost one.
    Revoke(CapabilityDecisionArgs),
    /// Suspend a partner (admins): it can create and submit nothing until restored.
    Suspend(PartnerDecisionArgs),
    /// Restore a suspended partner (admins).
    Restore(PartnerDecisionArgs),
}

#[derive(Debug, Args)]
pub struct CapabilityDecisionArgs {
    /// The partner.
    pub name: String,
    /// The capabilities.
    #[arg(value_enum, required = true)]
    pub capabilities: Vec<CapabilityArg>,
    /// Why: recorded with the decision and shown in the partner's history.
    #[arg(long)]
    pub rationale: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct PartnerDecisionArgs {
    /// The partner.
    pub name: String,
    /// Why: recorded with the decision and shown in the partner's history.
    #[arg(long)]
    pub rationale: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokensOfArg {
    /// Your own.
    Mine,
    /// Your organisation's (owners and admins).
    Organisation,
    /// Every organisation's (admins).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Read what your organisation may see (always included).
    Read,
    /// Create listings, submit versions, update checks.
    Submit,
    /// Decide on versions and waive findings.
    Review,
    /// Members, tokens, webhooks, capabilities, packs, platform notices.
    Admin,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id.
    pub id: i64,
    /// Revoke it directly on the store instead of through the server (an operator's last
    /// resort, e.g. when no admin token is left).
    #[arg(long)]
    pub on_store: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The token's name, e.g. `ci` (against the server, with your own token).
    #[arg(value_name = "NAME", conflicts_with = "role", required_unless_present = "role")]
    pub token_name: Option<String>,
    /// Its scopes (repeatable; `read` is always included). Default: all your role allows.
    #[arg(long = "scope", value_enum, value_name = "SCOPE", conflicts_with = "role")]
    pub scopes: Vec<ScopeArg>,
    /// A service account of your organisation instead of your own token (owners and admins).
    #[arg(long, conflicts_with = "role")]
    pub service_account: bool,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Bootstrap on the store: a token with this role, for a service account or (with
    /// --email) a person. Only for the first admin; everyone else creates tokens through the
    /// server.
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// The partner a partner token acts for; created if it does not exist yet.
    #[arg(long, value_name = "NAME", requires = "role", required_if_eq_any([("role", "partner"), ("role", "owner"), ("role", "developer"), ("role", "viewer")]))]
    pub partner: Option<String>,
    /// The person the token belongs to, added to the organisation if they are not in it yet
    /// (how the first admin gets in). Without it the token is a service account's.
    #[arg(long, value_name = "ADDRESS", requires_all = ["name", "role"])]
    pub email: Option<String>,
    /// The person's name, with --email.
    #[arg(long, value_name = "NAME", requires = "email")]
    pub name: Option<String>,
    /// Capabilities of a partner created here (repeatable).
    #[arg(long = "capability", value_enum, value_name = "CAPABILITY", default_values_t = [CapabilityArg::List])]
    pub capabilities: Vec<CapabilityArg>,
    /// Days until the token expires (it then fails with `token_expired`).
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub expires_in_days: u16,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A partner's owner: a service account, or with --email a person (same as `owner`).
    Partner,
    /// Staff: decisions and waivers.
    Reviewer,
    /// Staff: organisations, members, capabilities, packs, platform notices.
    Admin,
    /// A partner's owner: members, tokens, webhooks.
    Owner,
    /// A partner's developer: listings, submissions, checks.
    Developer,
    /// A partner's viewer: reads.
    Viewer,
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

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Publish a notice about a listing (or, with --platform and an admin token, the platform).
    Publish {
        /// The listing; omit it with --platform.
        #[arg(required_unless_present = "platform")]
        slug: Option<String>,
        /// A platform notice (reviewer or admin token).
        #[arg(long, conflicts_with = "slug")]
        platform: bool,
        /// breaking, feature, fix, security or deprecation.
        #[arg(long)]
        kind: String,
        /// What changes.
        #[arg(long)]
        summary: String,
        /// The day it takes effect (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        effective: String,
        /// What the audience has to do (required for breaking and deprecation notices).
        #[arg(long = "action", value_name = "TEXT")]
        action_required: Option<String>,
        /// merchants, partners or everyone.
        #[arg(long)]
        audience: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Notices, newest first: a listing's, or yours and the platform's.
    List {
        /// The listing; nothing for all yours.
        slug: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
}

#[derive(Debug, Args)]
pub struct DeprecateArgs {
    /// The listing whose versions are deprecated (or use --api-version).
    #[arg(required_unless_present = "api_version")]
    pub slug: Option<String>,
    /// The versions, a semver range (`<2.0.0`; `*` for every version, later ones included).
    #[arg(long, required_unless_present = "api_version")]
    pub versions: Option<String>,
    /// A platform API version instead of a listing (reviewer or admin token).
    #[arg(long, conflicts_with = "slug")]
    pub api_version: Option<String>,
    /// ga (12 months' notice by default), beta (9) or alpha (none).
    #[arg(long, default_value = "ga")]
    pub stability: String,
    /// When it is announced (YYYY-MM-DD) [default: today].
    #[arg(long, value_name = "DATE")]
    pub announced: Option<String>,
    /// From when it is deprecated (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub deprecated_from: String,
    /// When it is retired (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub sunset: String,
    /// The announcing notice's summary.
    #[arg(long)]
    pub summary: String,
    /// What merchants (or partners) have to do before the sunset.
    #[arg(long = "action", value_name = "TEXT")]
    pub action_required: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint; prints its signing secret (shown once).
    Add {
        /// Where to POST messages (https; http only on a loopback address).
        url: String,
        /// An event type to receive (repeatable); all when omitted.
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Your endpoints.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// One endpoint: what it receives and how deliveries are going.
    Show {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
    /// Change which events an endpoint receives.
    Update {
        /// The endpoint's id.
        id: i64,
        /// An event type to receive (repeatable); all when omitted.
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Pause an endpoint: nothing is sent to it; its messages wait until it is resumed.
    Pause {
        /// The endpoint's id.
        id: i64,
        /// Why (shown with the endpoint).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resume a paused endpoint: what waited is sent now.
    Resume {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete an endpoint with its waiting messages and its delivery log.
    Delete {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// A new signing secret (shown once); the old one keeps signing beside it for a grace
    /// period, so the receiver can switch without missing a message.
    RotateSecret {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Send the endpoint a `webhook.test` message; follow it with `assay webhook log`.
    Test {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Send a message again, now (a failed one gets its attempts back).
    Redeliver {
        /// The endpoint's id.
        id: i64,
        /// The message's `webhook-id` (from `assay webhook log`).
        message: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// An endpoint's delivery log, newest first.
    Log {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ClientFormat::Human)]
        format: ClientFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole audit chain on the store: every event follows the one before it and hashes
    /// to its hash, every checkpoint's event still has the hash it signed, and every checkpoint's
    /// signature verifies with the signing key's public half.
    #[command(
        after_help = "Exit codes: 0 intact, 1 broken (the first broken link is printed), 2 the store or a file could not be read."
    )]
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// Also check checkpoints kept elsewhere: a saved `GET /v1/audit/checkpoints` document (so
    /// cutting events off the end is found even if the database's checkpoints were cut too).
    #[arg(long, value_name = "FILE")]
    pub checkpoints: Option<PathBuf>,
    /// Check signatures with this public key (base64) instead of the signing key's.
    #[arg(long, value_name = "BASE64")]
    pub public_key: Option<String>,
    /// The key that signs the checkpoints (its public half checks them).
    #[arg(long, value_name = "FILE")]
    pub audit_signing_key: Option<PathBuf>,
    #[command(flatten, next_help_heading = "Store")]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML, each key with where its value came from
    /// (a flag, an environment variable, the file and line, or the default). Flags given here
    /// are applied as `assay serve` would apply them.
    Show(Box<ConfigShowArgs>),
    /// Check a configuration file: every key known, every value in range. Errors name the line.
    #[command(after_help = "Exit codes: 0 valid, 2 invalid or unreadable.")]
    Check {
        /// The file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ConfigShowArgs {
    #[command(flatten, next_help_heading = "Server")]
    pub server: ServerArgs,
    #[command(flatten, next_help_heading = "Store")]
    pub store: StoreArgs,
    #[command(flatten, next_help_heading = "Service")]
    pub service: ServiceArgs,
    #[command(flatten, next_help_heading = "Sandbox")]
    pub sandbox: SandboxArgs,
}

/// The configuration layer the flags of a command make (only what was given).
pub fn flags(global: &Global, command: &Command) -> toml::Table {
    let mut layer = toml::Table::new();
    if let Some(format) = global.log_format {
        put(&mut layer, "log.format", Some(format));
    }
    match command {
        Command::Serve(a) => {
            put(&mut layer, "audit.signing_key", a.audit.audit_signing_key.as_ref());
            put(&mut layer, "audit.checkpoint_interval_secs", a.audit.checkpoint_interval_secs);
            put(&mut layer, "oidc.issuer", a.oidc.oidc_issuer.as_ref());
            put(&mut layer, "oidc.client_id", a.oidc.oidc_client_id.as_ref());
            put(&mut layer, "oidc.client_secret", a.oidc.oidc_client_secret.as_ref());
            let e = &a.email;
            put(&mut layer, "email.smtp_host", e.smtp_host.as_ref());
            put(&mut layer, "email.smtp_port", e.smtp_port);
            put(&mut layer, "email.smtp_security", e.smtp_security.as_ref());
            put(&mut layer, "email.smtp_username", e.smtp_username.as_ref());
            put(&mut layer, "email.smtp_password", e.smtp_password.as_ref());
            put(&mut layer, "email.from", e.email_from.as_ref());
            put(&mut layer, "email.allow_private_relay", e.email_allow_private_relay.then_some(true));
            put(&mut layer, "email.interval_secs", e.email_interval_secs);
        }
        Command::Audit { command: AuditCommand::Verify(a) } => {
            put(&mut layer, "audit.signing_key", a.audit_signing_key.as_ref());
        }
        _ => {}
    }
    let (server, store, service, sandbox, cache) = match command {
        Command::Check(a) => (None, None, None, Some(&a.sandbox), None),
        Command::Replay(a) => (None, None, None, None, Some(&a.cache)),
        Command::Rules { command: RulesCommand::Pull(a) } => (None, None, None, None, Some(&a.cache)),
        Command::Rules { command: RulesCommand::List(a) } => (None, None, None, Some(&a.sandbox), None),
        Command::Rules { command: RulesCommand::Test(a) } => (None, None, None, Some(&a.sandbox), None),
        Command::Rules { command: RulesCommand::Show(a) } => (None, None, None, Some(&a.sandbox), None),
        Command::Serve(a) => (Some(&a.server), Some(&a.store), Some(&a.service), Some(&a.sandbox), None),
        Command::Worker(a) => (None, Some(&a.store), Some(&a.service), Some(&a.sandbox), None),
        Command::Config { command: ConfigCommand::Show(a) } => {
            (Some(&a.server), Some(&a.store), Some(&a.service), Some(&a.sandbox), None)
        }
        Command::Token { command: TokenCommand::Create(a) } => (None, Some(&a.store), None, None, None),
        Command::Token { command: TokenCommand::Revoke(a) } => (None, Some(&a.store), None, None, None),
        Command::Audit { command: AuditCommand::Verify(a) } => (None, Some(&a.store), None, None, None),
        _ => (None, None, None, None, None),
    };
    if let Some(a) = server {
        put(&mut layer, "server.listen", a.listen.map(|l| l.to_string()));
        put(&mut layer, "server.max_upload_mib", a.max_upload_mib);
        put(&mut layer, "server.header_timeout_secs", a.header_timeout_secs);
        put(&mut layer, "server.body_timeout_secs", a.body_timeout_secs);
        put(&mut layer, "server.max_connections", a.max_connections);
        put(&mut layer, "server.scheduler_interval_secs", a.scheduler_interval_secs);
        put(&mut layer, "server.webhook_interval_secs", a.webhook_interval_secs);
        put(&mut layer, "server.webhook_concurrency", a.webhook_concurrency);
        put(&mut layer, "server.webhook_endpoint_concurrency", a.webhook_endpoint_concurrency);
        put(&mut layer, "server.webhook_timeout_secs", a.webhook_timeout_secs);
        put(&mut layer, "server.webhook_pause_after_hours", a.webhook_pause_after_hours);
        put(&mut layer, "server.allow_private_webhooks", a.allow_private_webhooks.then_some(true));
        put(&mut layer, "server.secure_cookies", a.secure_cookies.then_some(true));
        put(&mut layer, "server.session_hours", a.session_hours);
        put(&mut layer, "server.public_url", a.public_url.as_ref());
    }
    if let Some(a) = store {
        put(&mut layer, "store.data_dir", a.data_dir.as_ref());
        put(&mut layer, "store.database_url", a.database_url.as_ref());
    }
    if let Some(a) = service {
        put(&mut layer, "service.workers", a.workers);
        put(&mut layer, "service.lease_secs", a.lease_secs);
        put(&mut layer, "service.resource_regression_factor", a.resource_regression_factor);
        put(&mut layer, "service.max_compile_secs", a.max_compile_secs);
        put(&mut layer, "service.parallel_compiles", a.parallel_compiles);
        put(&mut layer, "service.max_token_days", a.max_token_days);
        put(&mut layer, "service.max_exception_days", a.max_exception_days);
        put(&mut layer, "service.review_target_days", a.review_target_days);
        put(&mut layer, "service.exception_two_person_rule", a.no_exception_two_person_rule.then_some(false));
    }
    if let Some(a) = sandbox {
        put(&mut layer, "sandbox.timeout_ms", a.timeout_ms);
        put(&mut layer, "sandbox.fuel", a.fuel);
        put(&mut layer, "sandbox.max_memory_mib", a.max_memory_mib);
    }
    if let Some(a) = sandbox.map(|s| &s.cache).or(cache) {
        put(&mut layer, "sandbox.cache_dir", a.cache_dir.as_ref());
        put(&mut layer, "sandbox.no_cache", a.no_cache.then_some(true));
    }
    layer
}

fn put<T: serde::Serialize>(layer: &mut toml::Table, key: &str, value: Option<T>) {
    debug_assert!(crate::config::keys::get(key).is_some(), "{key} is not a configuration key");
    if let Some(value) = value.and_then(|v| toml::Value::try_from(v).ok()) {
        crate::config::set(layer, key, value);
    }
}

/// The command line, each configuration flag's help showing its variable and default.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    annotate(Cli::command())
}

fn annotate(command: clap::Command) -> clap::Command {
    let command = command.mut_args(|arg| {
        let key = arg.get_long().and_then(|long| crate::config::keys::by_flag(&format!("--{long}")));
        match key {
            Some(key) => {
                let note = format!(" [env: {}] [default: {}]", key.env, key.default);
                let help = arg.get_help().map(|h| format!("{h}{note}"));
                let long = arg.get_long_help().map(|h| format!("{h}{note}"));
                let arg = match help {
                    Some(help) => arg.help(help),
                    None => arg,
                };
                match long {
                    Some(long) => arg.long_help(long),
                    None => arg,
                }
            }
            None => arg,
        }
    });
    let names: Vec<String> = command.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    names.into_iter().fold(command, |command, name| command.mut_subcommand(name, annotate))
}
