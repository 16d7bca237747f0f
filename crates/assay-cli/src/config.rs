//! One configuration for every process: resolved once from defaults, a file (`assay.toml`,
//! `--config`, `ASSAY_CONFIG`), environment variables and flags, each layer over the one before.
//! `assay serve`, `assay worker` and `assay check` read the same [`Config`], so a setting means
//! the same thing in every process that shares a queue.
//!
//! Each layer is a TOML table; they merge key by key (the store is one choice: a layer that
//! names `data_dir` or `database_url` replaces the layers under it), and the result is
//! deserialized once into [`Config`], whose fields check their own ranges. A file is checked
//! alone first, so its errors carry its line; an environment variable's error names the
//! variable. [`keys::KEYS`] lists every key with its variable, flag, default and meaning.

pub mod keys;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Deserializer, Serialize};

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "ASSAY_CONFIG";
/// The file read when neither `--config` nor `ASSAY_CONFIG` names one, if it exists.
pub const DEFAULT_FILE: &str = "assay.toml";

/// The effective configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub store: Store,
    pub service: Service,
    pub sandbox: Sandbox,
    pub audit: Audit,
    pub oidc: Oidc,
    pub email: Email,
    pub log: Log,
}

/// `[server]`: the HTTP API and console of `assay serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    #[serde(deserialize_with = "socket_addr")]
    pub listen: SocketAddr,
    #[serde(deserialize_with = "within::<_, _, 1, 1024>")]
    pub max_upload_mib: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 300>")]
    pub header_timeout_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 3600>")]
    pub body_timeout_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 65_536>")]
    pub max_connections: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 720>")]
    pub session_hours: u32,
    pub secure_cookies: bool,
    #[serde(deserialize_with = "within::<_, _, 1, 86_400>")]
    pub scheduler_interval_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 3600>")]
    pub webhook_interval_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 256>")]
    pub webhook_concurrency: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 64>")]
    pub webhook_endpoint_concurrency: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 60>")]
    pub webhook_timeout_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 0, 8760>")]
    pub webhook_pause_after_hours: u32,
    pub allow_private_webhooks: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: SocketAddr::from(([127, 0, 0, 1], 8420)),
            max_upload_mib: 48,
            header_timeout_secs: 10,
            body_timeout_secs: 60,
            max_connections: 1024,
            session_hours: 12,
            secure_cookies: false,
            scheduler_interval_secs: 60,
            webhook_interval_secs: 1,
            webhook_concurrency: 32,
            webhook_endpoint_concurrency: 8,
            webhook_timeout_secs: 10,
            webhook_pause_after_hours: 72,
            allow_private_webhooks: false,
            public_url: None,
        }
    }
}

/// `[store]`: where the lifecycle store is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// `[service]`: what every process that runs reviews must agree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Service {
    #[serde(deserialize_with = "within::<_, _, 1, 64>")]
    pub workers: u16,
    #[serde(deserialize_with = "within::<_, _, 2, 3600>")]
    pub lease_secs: u32,
    #[serde(deserialize_with = "factor")]
    pub resource_regression_factor: f64,
    #[serde(deserialize_with = "within::<_, _, 1, 3600>")]
    pub max_compile_secs: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 64>")]
    pub parallel_compiles: u16,
    #[serde(deserialize_with = "within::<_, _, 1, 3650>")]
    pub max_token_days: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 3650>")]
    pub max_exception_days: u32,
    #[serde(deserialize_with = "within::<_, _, 1, 60>")]
    pub review_target_days: u32,
    pub exception_two_person_rule: bool,
}

impl Default for Service {
    fn default() -> Self {
        Service {
            workers: 4,
            lease_secs: 30,
            resource_regression_factor: 2.0,
            max_compile_secs: 60,
            parallel_compiles: 2,
            max_token_days: 365,
            max_exception_days: 180,
            review_target_days: 5,
            exception_two_person_rule: true,
        }
    }
}

/// `[sandbox]`: the limits every check runs under, and the compiled-component cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sandbox {
    #[serde(deserialize_with = "within::<_, _, 1, 3_600_000>")]
    pub timeout_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "some_within::<_, _, 1, { i64::MAX }>")]
    pub fuel: Option<u64>,
    #[serde(deserialize_with = "within::<_, _, 1, 4096>")]
    pub max_memory_mib: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    pub no_cache: bool,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox { timeout_ms: 2000, fuel: None, max_memory_mib: 64, cache_dir: None, no_cache: false }
    }
}

/// `[audit]`: the audit chain's signed checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Audit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<PathBuf>,
    #[serde(deserialize_with = "within::<_, _, 1, 86_400>")]
    pub checkpoint_interval_secs: u32,
}

impl Default for Audit {
    fn default() -> Self {
        Audit { signing_key: None, checkpoint_interval_secs: 60 }
    }
}

/// `[oidc]`: the OpenID provider people sign in to the console through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Oidc {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// `[email]`: e-mail to people through an SMTP relay (`assay serve` sends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Email {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    #[serde(deserialize_with = "within::<_, _, 1, 65_535>")]
    pub smtp_port: u16,
    #[serde(deserialize_with = "smtp_security")]
    pub smtp_security: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub allow_private_relay: bool,
    #[serde(deserialize_with = "within::<_, _, 1, 3600>")]
    pub interval_secs: u32,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            smtp_host: None,
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            from: None,
            allow_private_relay: false,
            interval_secs: 5,
        }
    }
}

fn smtp_security<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "none" | "starttls" | "tls" => Ok(s),
        _ => Err(serde::de::Error::custom(format!("`{s}` is not an SMTP security mode: none, starttls or tls"))),
    }
}

/// `[log]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    pub format: crate::args::LogFormat,
}

/// An integer in `MIN..=MAX`.
fn within<'de, D, T, const MIN: i64, const MAX: i64>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = i64::deserialize(d)?;
    if !(MIN..=MAX).contains(&n) {
        let max = if MAX == i64::MAX { String::from("or more") } else { format!("to {MAX}") };
        return Err(serde::de::Error::custom(format!("{n} is out of range: must be {MIN} {max}")));
    }
    T::try_from(n).map_err(|_| serde::de::Error::custom(format!("{n} is out of range")))
}

fn some_within<'de, D, T, const MIN: i64, const MAX: i64>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let n = i64::deserialize(d)?;
    if !(MIN..=MAX).contains(&n) {
        return Err(serde::de::Error::custom(format!("{n} is out of range: must be {MIN} or more")));
    }
    T::try_from(n).map(Some).map_err(|_| serde::de::Error::custom(format!("{n} is out of range")))
}

fn factor<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let f = f64::deserialize(d)?;
    if f.is_finite() && f >= 1.0 {
        Ok(f)
    } else {
        Err(serde::de::Error::custom(format!("`{f}` is not a factor of 1 or more (e.g. 2 or 1.5)")))
    }
}

fn socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not an address and port (e.g. 127.0.0.1:8420)")))
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { path: PathBuf, line: usize },
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env(var) => write!(f, "environment {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// The configuration and where each key that is set came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Each key (`section.name`) a layer set, and that layer.
    pub origins: BTreeMap<&'static str, Origin>,
}

/// One layer: a TOML table, `section → key → value`.
type Layer = toml::Table;

/// Which file a process reads.
#[derive(Debug, Clone, Copy)]
pub enum File<'a> {
    /// `--config`'s, else `ASSAY_CONFIG`'s, else `./assay.toml` if it exists.
    Find(Option<&'a Path>),
    /// None: commands that take no configuration (the API clients) still honour the
    /// environment and their flags for logging.
    Skip,
}

/// Resolve the configuration from the file, the environment and `flags`.
pub fn resolve(file: File<'_>, flags: Layer) -> anyhow::Result<Resolved> {
    resolve_with(file, flags, |var| std::env::var(var).ok())
}

/// [`resolve`] with the environment given by `env`.
pub fn resolve_with(file: File<'_>, flags: Layer, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Resolved> {
    let path = match file {
        File::Skip => None,
        File::Find(Some(path)) => Some(path.to_path_buf()),
        File::Find(None) => match env(CONFIG_ENV) {
            Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
        },
    };
    let mut origins = BTreeMap::new();
    let mut merged = Layer::new();
    if let Some(path) = &path {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file = check_text(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for (name, line) in key_lines(&text) {
            origins.insert(name, Origin::File { path: path.clone(), line });
        }
        merge(&mut merged, file);
    }
    let environment = env_layer(&env)?;
    for key in keys::KEYS.iter().filter(|k| has(&environment, k.name)) {
        origins.insert(key.name, Origin::Env(key.env));
    }
    check_layer(&environment, |key| format!("environment variable {}", key.env))?;
    merge_recording(&mut merged, environment, &mut origins);
    check_layer(&flags, |key| format!("flag {}", key.flag))?;
    for key in keys::KEYS.iter().filter(|k| has(&flags, k.name)) {
        origins.insert(key.name, Origin::Flag(key.flag));
    }
    merge_recording(&mut merged, flags, &mut origins);
    origins.retain(|name, _| has(&merged, name));
    let config = Config::deserialize(toml::Value::Table(merged)).context("the merged configuration")?;
    Ok(Resolved { config, file: path, origins })
}

/// Check a configuration file's text; errors carry the line and column.
pub fn check_text(text: &str) -> Result<Layer, toml::de::Error> {
    toml::from_str::<Config>(text)?;
    toml::from_str::<Layer>(text)
}

/// `assay config check FILE`.
pub fn check_file(path: &Path) -> Result<std::process::ExitCode, crate::exit::Failure> {
    use crate::exit::InputContext as _;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display())).input()?;
    let layer = check_text(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a valid configuration: {e}", path.display()))
        .input()?;
    let set = keys::KEYS.iter().filter(|k| has(&layer, k.name)).count();
    println!("{}: valid ({set} of {} keys set)", path.display(), keys::KEYS.len());
    Ok(std::process::ExitCode::SUCCESS)
}

/// A layer alone must deserialize; its error names where the bad value came from.
fn check_layer(layer: &Layer, source: impl Fn(&keys::Key) -> String) -> anyhow::Result<()> {
    let Err(e) = serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(layer.clone())) else {
        return Ok(());
    };
    let path = e.path().to_string();
    match keys::get(&path) {
        Some(key) => anyhow::bail!("{}: {}", source(key), e.inner()),
        None => anyhow::bail!("{path}: {}", e.inner()),
    }
}

/// The environment's layer: each key's variable, read as its kind.
fn env_layer(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Layer> {
    let mut layer = Layer::new();
    for key in keys::KEYS {
        let Some(text) = env(key.env) else { continue };
        let value = parse_value(key, &text).map_err(|e| anyhow::anyhow!("environment variable {}: {e}", key.env))?;
        set(&mut layer, key.name, value);
    }
    Ok(layer)
}

/// A value written as text (an environment variable) as the TOML value of `key`'s kind.
fn parse_value(key: &keys::Key, text: &str) -> Result<toml::Value, String> {
    let text = text.trim();
    match key.kind {
        keys::Kind::Integer => {
            text.parse::<i64>().map(toml::Value::Integer).map_err(|_| format!("`{text}` is not a whole number"))
        }
        keys::Kind::Float => {
            text.parse::<f64>().map(toml::Value::Float).map_err(|_| format!("`{text}` is not a number"))
        }
        keys::Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" | "" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("`{text}` is not true or false")),
        },
        keys::Kind::String => Ok(toml::Value::String(text.to_owned())),
    }
}

/// Set `section.name` in a layer.
pub fn set(layer: &mut Layer, name: &str, value: toml::Value) {
    let (section, key) = name.split_once('.').unwrap_or(("", name));
    let table = layer.entry(section).or_insert_with(|| toml::Value::Table(Layer::new()));
    if let toml::Value::Table(table) = table {
        table.insert(key.to_owned(), value);
    }
}

fn has(layer: &Layer, name: &str) -> bool {
    let (section, key) = name.split_once('.').unwrap_or(("", name));
    layer.get(section).and_then(toml::Value::as_table).is_some_and(|t| t.contains_key(key))
}

/// Lay `upper` over `lower`, key by key; the store is one choice, so an upper layer that names
/// one replaces the lower's.
fn merge(lower: &mut Layer, upper: Layer) {
    for (section, value) in upper {
        match (lower.get_mut(&section), value) {
            (Some(toml::Value::Table(below)), toml::Value::Table(above)) if section != "store" => {
                below.extend(above);
            }
            (_, value) => {
                lower.insert(section, value);
            }
        }
    }
}

/// [`merge`], forgetting the origins of the store keys an upper layer replaced.
fn merge_recording(lower: &mut Layer, upper: Layer, origins: &mut BTreeMap<&'static str, Origin>) {
    if upper.contains_key("store") {
        for key in keys::KEYS.iter().filter(|k| k.name.starts_with("store.") && !has(&upper, k.name)) {
            origins.remove(key.name);
        }
    }
    merge(lower, upper);
}

/// The line of each key a file sets.
fn key_lines(text: &str) -> Vec<(&'static str, usize)> {
    let Ok(table) = toml::de::DeTable::parse(text) else { return Vec::new() };
    let line = |offset: usize| text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1;
    let mut lines = Vec::new();
    for (section, value) in table.get_ref() {
        let Some(inner) = value.get_ref().as_table() else { continue };
        for (name, _) in inner {
            if let Some(key) = keys::get(&format!("{}.{}", section.get_ref(), name.get_ref())) {
                lines.push((key.name, line(name.span().start)));
            }
        }
    }
    lines
}

/// The effective configuration as TOML, each key with where its value came from; keys that
/// are unset are shown commented out with what unset means.
pub fn show(resolved: &Resolved) -> String {
    let table = toml::Table::try_from(&resolved.config).unwrap_or_default();
    let mut out = String::from("# The effective configuration: flags over environment over file over defaults.\n");
    match &resolved.file {
        Some(path) => out += &format!("# File: {}\n", path.display()),
        None => out += &format!("# File: none ({CONFIG_ENV} unset and no ./{DEFAULT_FILE})\n"),
    }
    let mut section = "";
    for key in keys::KEYS {
        let (this, name) = key.name.split_once('.').unwrap_or(("", key.name));
        if this != section {
            out += &format!("\n[{this}]\n");
            section = this;
        }
        let value = table.get(this).and_then(toml::Value::as_table).and_then(|t| t.get(name));
        let origin = resolved.origins.get(key.name).cloned().unwrap_or(Origin::Default);
        out += &format!("# {}\n", key.doc);
        let secret = name.ends_with("secret") || name.ends_with("password");
        let line = match value {
            Some(_) if secret => format!("{name} = \"(set; not shown)\""),
            Some(value) => format!("{name} = {value}"),
            None => format!("# {name} ({})", key.default),
        };
        out += &format!("{line:<48} # {origin}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn flags_over_environment_over_file_over_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("assay.toml");
        std::fs::write(&file, "[service]\nworkers = 3\nlease_secs = 9\n\n[sandbox]\ntimeout_ms = 500\n")
            .expect("write");
        let mut flags = Layer::new();
        set(&mut flags, "service.lease_secs", toml::Value::Integer(11));
        let resolved = resolve_with(
            File::Find(Some(&file)),
            flags,
            env(&[("ASSAY_TIMEOUT_MS", "700"), ("ASSAY_LEASE_SECS", "10")]),
        )
        .expect("resolves");
        let c = &resolved.config;
        assert_eq!((c.service.workers, c.service.lease_secs, c.sandbox.timeout_ms), (3, 11, 700));
        assert_eq!(c.sandbox.max_memory_mib, 64);
        assert_eq!(resolved.origins["service.workers"], Origin::File { path: file.clone(), line: 2 });
        assert_eq!(resolved.origins["service.lease_secs"], Origin::Flag("--lease-secs"));
        assert_eq!(resolved.origins["sandbox.timeout_ms"], Origin::Env("ASSAY_TIMEOUT_MS"));
        assert!(!resolved.origins.contains_key("sandbox.max_memory_mib"));
        let shown = show(&resolved);
        assert!(shown.contains("workers = 3"), "{shown}");
        assert!(shown.contains(&format!("# {}:2", file.display())), "{shown}");
    }

    #[test]
    fn the_layer_that_names_a_store_wins_as_a_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("assay.toml");
        std::fs::write(&file, "[store]\ndatabase_url = \"postgres://db/assay\"\n").expect("write");
        let resolved =
            resolve_with(File::Find(Some(&file)), Layer::new(), env(&[("ASSAY_DATA_DIR", "/srv/assay")])).expect("ok");
        assert_eq!(resolved.config.store.data_dir.as_deref(), Some(Path::new("/srv/assay")));
        assert_eq!(resolved.config.store.database_url, None);
        assert!(!resolved.origins.contains_key("store.database_url"));
    }

    #[test]
    fn errors_say_where_the_bad_value_is() {
        let err = check_text("[service]\nworkers = 0\n").expect_err("0 workers");
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("must be 1 to 64"), "{text}");
        let err = check_text("[sandbox]\ntimeout = 5\n").expect_err("unknown key").to_string();
        assert!(err.contains("line 2") && err.contains("timeout_ms"), "{err}");
        let err = resolve_with(File::Skip, Layer::new(), env(&[("ASSAY_WORKERS", "lots")])).expect_err("not a number");
        assert!(format!("{err:#}").contains("ASSAY_WORKERS"), "{err:#}");
        let err = resolve_with(File::Skip, Layer::new(), env(&[("ASSAY_WORKERS", "65")])).expect_err("out of range");
        assert!(format!("{err:#}").contains("environment variable ASSAY_WORKERS: 65 is out of range"), "{err:#}");
        let mut flags = Layer::new();
        set(&mut flags, "service.resource_regression_factor", toml::Value::Float(0.5));
        let err = resolve_with(File::Skip, flags, env(&[])).expect_err("factor below 1");
        assert!(format!("{err:#}").contains("flag --resource-regression-factor"), "{err:#}");
    }

    #[test]
    fn the_key_table_and_the_defaults_agree() {
        let defaults = toml::Table::try_from(Config::default()).expect("serializes");
        let mut seen = 0;
        for (section, table) in &defaults {
            for (name, value) in table.as_table().expect("sections are tables") {
                let key =
                    keys::get(&format!("{section}.{name}")).unwrap_or_else(|| panic!("{section}.{name} not in KEYS"));
                let shown = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(shown, key.default, "{}", key.name);
                seen += 1;
            }
        }
        // Keys without a default value (unset Options) are the rest.
        let unset = keys::KEYS.iter().filter(|k| k.default.starts_with("unset") || k.default.starts_with('$')).count();
        assert_eq!(seen + unset, keys::KEYS.len());
        for key in keys::KEYS {
            assert!(key.env.starts_with("ASSAY_") && key.flag.starts_with("--"), "{}", key.name);
            assert_eq!(keys::KEYS.iter().filter(|k| k.env == key.env || k.flag == key.flag).count(), 1, "{}", key.name);
        }
    }

    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../docs/configuration.md");
        for key in keys::KEYS {
            let (section, name) = key.name.split_once('.').expect("dotted");
            assert!(doc.contains(&format!("`{section}.{name}`")), "docs/configuration.md lacks `{}`", key.name);
            assert!(doc.contains(key.env), "docs/configuration.md lacks {}", key.env);
        }
    }
}
