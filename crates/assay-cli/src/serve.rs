//! `assay serve`: the API, the review worker and the store in one process.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use assay_server::ServerConfig;
use assay_service::{Capability, Role, Service};

use crate::args::ServeArgs;
use crate::config::Config;
use crate::exit::{Failure, InputContext};
use crate::{setup, token};

/// Crash tests set this to a fault point name (see `Store::with_fault_hook`): the process
/// aborts there, mid-transaction, as a power cut would stop it.
const FAULT_VAR: &str = "ASSAY_FAULT";

pub fn run(config: &Config, args: &ServeArgs) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .map_err(Failure::Host)?;
    runtime.block_on(serve(config, args))
}

async fn serve(config: &Config, args: &ServeArgs) -> Result<ExitCode, Failure> {
    let mut store = token::open_store(&config.store).await?;
    if let Ok(point) = std::env::var(FAULT_VAR) {
        tracing::warn!(%point, "fault injection armed: the process will abort there");
        store = store.with_fault_hook(move |at| {
            if at == point {
                eprintln!("fault injection: aborting at {at}");
                std::process::abort();
            }
        });
    }
    crate::worker::join_as_node(&store).await?;
    let server = &config.server;
    let webhooks = assay_service::WebhookConfig {
        allow_private: server.allow_private_webhooks,
        concurrency: server.webhook_concurrency as usize,
        endpoint_concurrency: server.webhook_endpoint_concurrency as usize,
        pause_after_secs: i64::from(server.webhook_pause_after_hours) * 3600,
        // A claimed message stays leased well past the longest send.
        lease_secs: (2 * i64::from(server.webhook_timeout_secs) + 10).max(60),
        ..assay_service::WebhookConfig::default()
    };
    let sender = assay_server::webhooks::HttpSender::new(
        assay_core::address::Outbound { allow_local: server.allow_private_webhooks },
        std::time::Duration::from_secs(server.webhook_timeout_secs.into()),
    );
    let public_url = setup::public_url(config);
    let mut service = setup::service(config, store.clone())?.with_webhooks(Arc::new(sender), webhooks);
    if let Some(mailer) = mailer(config)? {
        let email = assay_service::EmailConfig { public_url: public_url.clone(), ..Default::default() };
        service = service.with_mailer(Arc::new(mailer), email);
    }
    // The audit chain: its newest events verified now (a broken chain is reported, and /readyz
    // says so, but the service runs: the evidence stays readable), its head signed periodically.
    let key_path = crate::audit::signing_key_path(config).input()?;
    let key = assay_service::audit::AuditKey::load_or_create(&key_path)
        .map_err(|e| Failure::Input(anyhow::anyhow!(e), None))?;
    tracing::info!(key = %key_path.display(), key_id = key.id(), "audit checkpoints are signed with this key");
    let service = service.with_audit_key(Arc::new(key));
    let report = service
        .verify_audit_newest(assay_service::audit::VERIFY_AT_START)
        .await
        .context("verifying the audit chain")
        .map_err(Failure::Host)?;
    if let Some((seq, why)) = &report.broken {
        eprintln!(
            "assay: the audit chain is BROKEN at event {seq}: {why} (see `assay audit verify`; /readyz reports it)"
        );
    }
    if let Some(dir) = &args.demo {
        seed(&service, dir).await?;
    }
    let oidc = match (&config.oidc.issuer, &config.oidc.client_id) {
        (Some(issuer), Some(client_id)) => {
            let oidc_config = assay_server::oidc::OidcConfig {
                issuer: issuer.clone(),
                client_id: client_id.clone(),
                client_secret: config.oidc.client_secret.clone(),
                public_url: public_url.clone(),
            };
            let oidc = assay_server::oidc::Oidc::discover(&oidc_config)
                .await
                .map_err(|e| Failure::Input(anyhow::anyhow!(e).context("[oidc]"), None))?;
            tracing::info!(%issuer, "the console signs people in through this OpenID provider");
            Some(oidc)
        }
        (None, None) => None,
        _ => {
            let missing = if config.oidc.issuer.is_none() { "oidc.issuer" } else { "oidc.client_id" };
            return Err(Failure::Input(
                anyhow::anyhow!("[oidc] needs both issuer and client_id; {missing} is unset"),
                None,
            ));
        }
    };
    let http = ServerConfig {
        max_upload_bytes: (server.max_upload_mib as usize) << 20,
        secure_cookies: server.secure_cookies,
        session_ttl: std::time::Duration::from_secs(u64::from(server.session_hours) * 3600),
        oidc,
        public_url: Some(public_url),
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(server.listen)
        .await
        .with_context(|| format!("listening on {}", server.listen))
        .input()?;
    let address = listener.local_addr().context("reading the bound address").map_err(Failure::Host)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Resolves once shutdown begins; every background task stops on it.
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move { drop(stopped.wait_for(|s| *s).await) }
    };
    let workers: Vec<_> = (0..config.service.workers)
        .map(|_| {
            let (service, stop) = (service.clone(), until_stopped());
            tokio::spawn(async move { service.run_worker(stop).await })
        })
        .collect();
    // Deprecation schedules: versions are deprecated and retired as their dates pass.
    let scheduler = {
        let (service, stop) = (service.clone(), until_stopped());
        let period = std::time::Duration::from_secs(server.scheduler_interval_secs.into());
        tokio::spawn(async move { service.run_scheduler(period, stop).await })
    };
    // Partner webhooks: fanned out from the audit log, delivered from the outbox.
    let dispatcher = {
        let (service, stop) = (service.clone(), until_stopped());
        let period = std::time::Duration::from_secs(server.webhook_interval_secs.into());
        tokio::spawn(async move { service.run_dispatcher(period, stop).await })
    };
    // E-mail to people: fanned out from the audit log, sent from the outbox (without a relay
    // configured, events pass by).
    let mailer = {
        let (service, stop) = (service.clone(), until_stopped());
        let period = std::time::Duration::from_secs(config.email.interval_secs.into());
        tokio::spawn(async move { service.run_mailer(period, stop).await })
    };
    // Audit checkpoints: the chain's head signed, its newest events re-verified.
    let checkpointer = {
        let (service, stop) = (service.clone(), until_stopped());
        let period = std::time::Duration::from_secs(config.audit.checkpoint_interval_secs.into());
        tokio::spawn(async move { service.run_checkpointer(period, stop).await })
    };
    let pack = service.pack_manifest();
    tracing::info!(%address, database = ?store.backend(), pack = %format!("{}@{}", pack.name, pack.version), "assay is serving");
    eprintln!(
        "assay: serving http://{address} (web console at /, API under /v1, OpenAPI at /openapi.json); Ctrl-C stops"
    );
    let app = assay_server::router(service.clone(), http);
    let limits = assay_server::listen::Limits {
        header_timeout: std::time::Duration::from_secs(server.header_timeout_secs.into()),
        body_timeout: std::time::Duration::from_secs(server.body_timeout_secs.into()),
        max_connections: server.max_connections as usize,
        ..assay_server::listen::Limits::default()
    };
    assay_server::listen::serve(listener, app, limits, async {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
    .await;
    // Workers finish the review in hand; an unfinished one resumes on the next start.
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    let _ = scheduler.await;
    let _ = checkpointer.await;
    let _ = dispatcher.await;
    let _ = mailer.await;
    // The last events of this run, signed before the store closes.
    if let Err(e) = service.checkpoint_audit().await {
        tracing::warn!(error = %assay_service::error_chain(&e), "the final audit checkpoint failed");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The SMTP mailer `[email]` describes, if a relay is set.
fn mailer(config: &Config) -> Result<Option<assay_server::email::SmtpMailer>, Failure> {
    let email = &config.email;
    let Some(host) = &email.smtp_host else { return Ok(None) };
    let refuse = |why: String| Failure::Input(anyhow::anyhow!(why).context("[email]"), None);
    let Some(from) = &email.from else {
        return Err(refuse(
            "email.smtp_host is set but email.from is not: set the sender, e.g. `assay <assay@example.com>`".into(),
        ));
    };
    let credentials = match (&email.smtp_username, &email.smtp_password) {
        (Some(user), Some(password)) => Some((user.clone(), password.clone())),
        (None, None) => None,
        _ => return Err(refuse("email.smtp_username and email.smtp_password go together".into())),
    };
    let config = assay_server::email::SmtpConfig {
        host: host.clone(),
        port: email.smtp_port,
        security: email.smtp_security.parse().map_err(refuse)?,
        credentials,
        from: from.clone(),
        timeout: std::time::Duration::from_secs(30),
        outbound: assay_core::address::Outbound { allow_local: email.allow_private_relay },
    };
    let mailer = assay_server::email::SmtpMailer::new(config).map_err(refuse)?;
    tracing::info!(relay = %format!("{host}:{}", email.smtp_port), security = %email.smtp_security, "e-mail goes through this SMTP relay");
    Ok(Some(mailer))
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return drop(ctrl_c.await),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Load every example listing under `dir` for partner `demo` (each under its directory's name,
/// so listings that share a slug do not collide) and print tokens to try them with.
async fn seed(service: &Service, dir: &Path) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| {
            format!("reading the example listings in {} (run from the repository, or pass --demo DIR)", dir.display())
        })
        .input()?;
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("listing.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with("invalid-"))
        .collect();
    names.sort();
    let host_err = |e: assay_service::ServiceError| Failure::Host(anyhow::Error::new(e).context("seeding the demo"));
    let partner = service
        .bootstrap_partner("demo", "demo", &[Capability::List, Capability::Checks, Capability::Certify])
        .await
        .map_err(host_err)?;
    let person =
        |email: &str, name: &str, role| assay_service::MemberRequest { email: email.into(), name: name.into(), role };
    let ttl = assay_store::token::DEFAULT_TTL_SECS;
    let (partner_token, _) = service
        .bootstrap_person("demo", &person("owner@demo.test", "Dana Owner", Role::Owner), Some(partner), ttl)
        .await
        .map_err(host_err)?;
    let (reviewer_token, _) = service
        .bootstrap_person("demo", &person("reviewer@platform.test", "Rita Reviewer", Role::Reviewer), None, ttl)
        .await
        .map_err(host_err)?;
    let (admin_token, _) = service
        .bootstrap_person("demo", &person("admin@platform.test", "Ada Admin", Role::Admin), None, ttl)
        .await
        .map_err(host_err)?;
    let demo = service.authenticate(&partner_token).await.map_err(host_err)?;
    let mut loaded = 0;
    for name in &names {
        match service.listing(&demo, name).await {
            Ok(_) => continue,
            Err(assay_service::ServiceError::NotFound(_)) => {}
            Err(e) => return Err(host_err(e)),
        }
        let text = std::fs::read_to_string(dir.join(name).join("listing.toml"))
            .with_context(|| format!("reading {name}/listing.toml"))
            .input()?;
        let manifest = with_slug(&text, name);
        service.create_listing(&demo, name, name).await.map_err(host_err)?;
        service.submit(&demo, name, &manifest, Vec::new()).await.map_err(host_err)?;
        loaded += 1;
    }
    eprintln!("assay: demo: {loaded} example listings submitted for partner `demo` (reviews run in the background)");
    eprintln!("assay: demo partner token:  {partner_token}");
    eprintln!("assay: demo reviewer token: {reviewer_token}");
    eprintln!("assay: demo admin token:    {admin_token}");
    Ok(())
}

/// The manifest with its `slug` replaced.
fn with_slug(manifest: &str, slug: &str) -> String {
    manifest
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("slug ") || line.trim_start().starts_with("slug=") {
                format!("slug = \"{slug}\"")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
