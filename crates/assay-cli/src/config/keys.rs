//! Every configuration key, once: its name in `assay.toml`, its environment variable, its flag,
//! its default as `assay config show` prints it, and what it does. `docs/configuration.md`
//! documents each (a test keeps the two in step) and `--help` shows each flag's variable and
//! default from here.

/// One configuration key.
#[derive(Debug)]
pub struct Key {
    /// `section.name`, as in `assay.toml`.
    pub name: &'static str,
    /// The environment variable that sets it.
    pub env: &'static str,
    /// The flag that sets it (`--flag`), on the commands that use it.
    pub flag: &'static str,
    /// The default, or what happens when it is unset.
    pub default: &'static str,
    /// How an environment variable's text becomes a TOML value.
    pub kind: Kind,
    /// What it does.
    pub doc: &'static str,
}

/// The type of a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Float,
    Bool,
    String,
}

const fn key(
    name: &'static str,
    env: &'static str,
    flag: &'static str,
    default: &'static str,
    kind: Kind,
    doc: &'static str,
) -> Key {
    Key { name, env, flag, default, kind, doc }
}

use Kind::{Bool, Float, Integer, String};

/// Every key, in the order `assay config show` prints them.
pub const KEYS: &[Key] = &[
    key("server.listen", "ASSAY_LISTEN", "--listen", "127.0.0.1:8420", String, "The address `assay serve` listens on."),
    key(
        "server.max_upload_mib",
        "ASSAY_MAX_UPLOAD_MIB",
        "--max-upload-mib",
        "48",
        Integer,
        "The largest submission (manifest and components), in MiB (1 to 1024).",
    ),
    key(
        "server.header_timeout_secs",
        "ASSAY_HEADER_TIMEOUT_SECS",
        "--header-timeout-secs",
        "10",
        Integer,
        "How long a client has to send a request's headers (and an idle keep-alive connection stays open), in seconds (1 to 300).",
    ),
    key(
        "server.body_timeout_secs",
        "ASSAY_BODY_TIMEOUT_SECS",
        "--body-timeout-secs",
        "60",
        Integer,
        "How long a client has to send a request's body, in seconds (1 to 3600).",
    ),
    key(
        "server.max_connections",
        "ASSAY_MAX_CONNECTIONS",
        "--max-connections",
        "1024",
        Integer,
        "Client connections served at once (1 to 65536); further ones wait to be accepted.",
    ),
    key(
        "server.session_hours",
        "ASSAY_SESSION_HOURS",
        "--session-hours",
        "12",
        Integer,
        "How long a web console sign-in lasts, in hours (1 to 720).",
    ),
    key(
        "server.secure_cookies",
        "ASSAY_SECURE_COOKIES",
        "--secure-cookies",
        "false",
        Bool,
        "Mark the console's session cookie `Secure` even when no `X-Forwarded-Proto: https` says TLS is in front.",
    ),
    key(
        "server.scheduler_interval_secs",
        "ASSAY_SCHEDULER_INTERVAL_SECS",
        "--scheduler-interval-secs",
        "60",
        Integer,
        "How often deprecation schedules are applied, in seconds (1 to 86400).",
    ),
    key(
        "server.webhook_interval_secs",
        "ASSAY_WEBHOOK_INTERVAL_SECS",
        "--webhook-interval-secs",
        "1",
        Integer,
        "How often new events are fanned out to partner webhooks, in seconds (1 to 3600); deliveries run continuously.",
    ),
    key(
        "server.webhook_concurrency",
        "ASSAY_WEBHOOK_CONCURRENCY",
        "--webhook-concurrency",
        "32",
        Integer,
        "Webhook deliveries in flight at once, across endpoints (1 to 256).",
    ),
    key(
        "server.webhook_endpoint_concurrency",
        "ASSAY_WEBHOOK_ENDPOINT_CONCURRENCY",
        "--webhook-endpoint-concurrency",
        "8",
        Integer,
        "Webhook deliveries in flight at once to one endpoint (1 to 64).",
    ),
    key(
        "server.webhook_timeout_secs",
        "ASSAY_WEBHOOK_TIMEOUT_SECS",
        "--webhook-timeout-secs",
        "10",
        Integer,
        "How long a webhook receiver has to answer, in seconds (1 to 60).",
    ),
    key(
        "server.webhook_pause_after_hours",
        "ASSAY_WEBHOOK_PAUSE_AFTER_HOURS",
        "--webhook-pause-after-hours",
        "72",
        Integer,
        "Pause a webhook endpoint whose every delivery failed for this many hours (0: never; at most 8760).",
    ),
    key(
        "server.allow_private_webhooks",
        "ASSAY_ALLOW_PRIVATE_WEBHOOKS",
        "--allow-private-webhooks",
        "false",
        Bool,
        "Accept webhook endpoints on loopback and private addresses (and plain http to them). Development only.",
    ),
    key(
        "server.public_url",
        "ASSAY_PUBLIC_URL",
        "--public-url",
        "unset: http://LISTEN",
        String,
        "The console's public base URL, as browsers reach it: the OpenID redirect URI (`{public_url}/signin/oidc/callback`) and invitation links start with it.",
    ),
    key(
        "oidc.issuer",
        "ASSAY_OIDC_ISSUER",
        "--oidc-issuer",
        "unset: console sign-in with tokens only",
        String,
        "The OpenID provider's issuer URL; `assay serve` discovers it at start and the console offers signing in through it.",
    ),
    key(
        "oidc.client_id",
        "ASSAY_OIDC_CLIENT_ID",
        "--oidc-client-id",
        "unset",
        String,
        "The client id assay is registered with at the provider (redirect URI `{public_url}/signin/oidc/callback`).",
    ),
    key(
        "oidc.client_secret",
        "ASSAY_OIDC_CLIENT_SECRET",
        "--oidc-client-secret",
        "unset: a public client (PKCE only)",
        String,
        "The client secret. Prefer the environment variable or a file only the service can read to the flag.",
    ),
    key(
        "email.smtp_host",
        "ASSAY_SMTP_HOST",
        "--smtp-host",
        "unset: no e-mail is sent",
        String,
        "The SMTP relay e-mail goes through (verdicts, decisions, notices, invitations …); with it set, `email.from` is needed too.",
    ),
    key(
        "email.smtp_port",
        "ASSAY_SMTP_PORT",
        "--smtp-port",
        "587",
        Integer,
        "The relay's port (587 for STARTTLS, 465 for TLS, 25 for plain SMTP).",
    ),
    key(
        "email.smtp_security",
        "ASSAY_SMTP_SECURITY",
        "--smtp-security",
        "starttls",
        String,
        "How the connection to the relay is secured: `starttls` (must succeed), `tls` (from the first byte) or `none` (a relay on this host or a trusted network only).",
    ),
    key(
        "email.smtp_username",
        "ASSAY_SMTP_USERNAME",
        "--smtp-username",
        "unset: no authentication",
        String,
        "The user name to authenticate to the relay with.",
    ),
    key(
        "email.smtp_password",
        "ASSAY_SMTP_PASSWORD",
        "--smtp-password",
        "unset",
        String,
        "The password to authenticate to the relay with. Prefer the environment variable or a file only the service can read to the flag; `assay config show` does not print it.",
    ),
    key(
        "email.from",
        "ASSAY_EMAIL_FROM",
        "--email-from",
        "unset",
        String,
        "The sender of every e-mail, e.g. `assay <assay@example.com>`.",
    ),
    key(
        "email.allow_private_relay",
        "ASSAY_EMAIL_ALLOW_PRIVATE_RELAY",
        "--email-allow-private-relay",
        "false",
        Bool,
        "Let the relay be on loopback or a private network (a local MTA, a relay inside the data centre); otherwise only public addresses are used.",
    ),
    key(
        "email.interval_secs",
        "ASSAY_EMAIL_INTERVAL_SECS",
        "--email-interval-secs",
        "5",
        Integer,
        "How often new events become e-mails and what is due is sent, in seconds (1 to 3600).",
    ),
    key(
        "audit.signing_key",
        "ASSAY_AUDIT_SIGNING_KEY",
        "--audit-signing-key",
        "unset: audit-signing-key.p8 in the data directory",
        String,
        "The Ed25519 key (PKCS#8) that signs audit checkpoints; created on first start. Keep it out of the database and back it up.",
    ),
    key(
        "audit.checkpoint_interval_secs",
        "ASSAY_CHECKPOINT_INTERVAL_SECS",
        "--checkpoint-interval-secs",
        "60",
        Integer,
        "How often `assay serve` signs the audit chain's head and re-verifies its newest events, in seconds (1 to 86400).",
    ),
    key(
        "store.data_dir",
        "ASSAY_DATA_DIR",
        "--data-dir",
        "$XDG_DATA_HOME/assay",
        String,
        "The embedded SQLite store's data directory. The layer that names a store (data_dir or database_url) wins as a whole.",
    ),
    key(
        "store.database_url",
        "ASSAY_DATABASE_URL",
        "--database-url",
        "unset: the embedded store",
        String,
        "A database URL instead of the data directory: `postgres://…` or `sqlite://PATH`.",
    ),
    key(
        "service.workers",
        "ASSAY_WORKERS",
        "--workers",
        "4",
        Integer,
        "Queue workers in this process (`serve` and `worker`; 1 to 64).",
    ),
    key(
        "service.lease_secs",
        "ASSAY_LEASE_SECS",
        "--lease-secs",
        "30",
        Integer,
        "How long a claimed job's lease lasts, in seconds (2 to 3600); a crashed worker's jobs are taken over once it lapses.",
    ),
    key(
        "service.resource_regression_factor",
        "ASSAY_RESOURCE_REGRESSION_FACTOR",
        "--resource-regression-factor",
        "2.0",
        Float,
        "How much an integration check's fuel, peak memory or bytes sent may grow against the last approved run before it is a finding (1 or more).",
    ),
    key(
        "service.max_compile_secs",
        "ASSAY_MAX_COMPILE_SECS",
        "--max-compile-secs",
        "60",
        Integer,
        "How long compiling one uploaded check may take, in seconds (1 to 3600).",
    ),
    key(
        "service.parallel_compiles",
        "ASSAY_PARALLEL_COMPILES",
        "--parallel-compiles",
        "2",
        Integer,
        "How many uploaded checks may compile at once (1 to 64).",
    ),
    key(
        "service.max_token_days",
        "ASSAY_MAX_TOKEN_DAYS",
        "--max-token-days",
        "365",
        Integer,
        "The longest a token created through the API may last, in days (1 to 3650).",
    ),
    key(
        "service.max_exception_days",
        "ASSAY_MAX_EXCEPTION_DAYS",
        "--max-exception-days",
        "180",
        Integer,
        "The longest an exception to a finding may be asked for, in days (1 to 3650); staff may grant less.",
    ),
    key(
        "service.review_target_days",
        "ASSAY_REVIEW_TARGET_DAYS",
        "--review-target-days",
        "5",
        Integer,
        "How long a version should wait for a reviewer's decision, in business days (Monday to Friday, UTC; 1 to 60); time on hold does not count.",
    ),
    key(
        "service.exception_two_person_rule",
        "ASSAY_EXCEPTION_TWO_PERSON_RULE",
        "--no-exception-two-person-rule",
        "true",
        Bool,
        "An exception to a `blocker` finding needs a second reviewer to confirm the first one's grant.",
    ),
    key(
        "sandbox.timeout_ms",
        "ASSAY_TIMEOUT_MS",
        "--timeout-ms",
        "2000",
        Integer,
        "Wall-time limit per check, in milliseconds (1 to 3600000).",
    ),
    key(
        "sandbox.fuel",
        "ASSAY_FUEL",
        "--fuel",
        "unset: no fuel budget",
        Integer,
        "Fuel budget per check: a deterministic instruction budget (1 or more).",
    ),
    key(
        "sandbox.max_memory_mib",
        "ASSAY_MAX_MEMORY_MIB",
        "--max-memory-mib",
        "64",
        Integer,
        "Linear memory per check, summed over all memories, in MiB (1 to 4096).",
    ),
    key(
        "sandbox.cache_dir",
        "ASSAY_CACHE_DIR",
        "--cache-dir",
        "$XDG_CACHE_HOME/assay/components",
        String,
        "Where precompiled components are cached.",
    ),
    key(
        "sandbox.no_cache",
        "ASSAY_NO_CACHE",
        "--no-cache",
        "false",
        Bool,
        "Do not read or write the precompiled-component cache.",
    ),
    key("log.format", "ASSAY_LOG_FORMAT", "--log-format", "text", String, "Log lines as `text` or as `json` objects."),
];

/// The key `name` (`section.key`).
pub fn get(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// The key a flag sets.
pub fn by_flag(flag: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.flag == flag)
}
