//! `assay token create`: bootstrap tokens directly on the store.

use std::process::ExitCode;

use anyhow::Context as _;
use assay_store::{Capability, Role, Store};

use crate::args::{CapabilityArg, RoleArg, TokenCreateArgs, TokenRevokeArgs};
use crate::config::{self, Config};
use crate::exit::{Failure, InputContext};

/// Open the configured store (creating and migrating it if needed).
pub async fn open_store(args: &config::Store) -> Result<Store, Failure> {
    match (&args.database_url, &args.data_dir) {
        (Some(url), _) => Store::open(url).await.map_err(|e| match e {
            assay_store::StoreError::Url(_) => Failure::Input(e.into(), None),
            e => Failure::Host(anyhow::Error::new(e).context("opening the database")),
        }),
        (None, dir) => {
            let dir = match dir {
                Some(dir) => dir.clone(),
                None => default_data_dir().input()?,
            };
            Store::open_data_dir(&dir)
                .await
                .with_context(|| format!("opening the store in {}", dir.display()))
                .map_err(Failure::Host)
        }
    }
}

/// A single-threaded runtime for a command that works on the store.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .map_err(Failure::Host)
}

pub fn default_data_dir() -> anyhow::Result<std::path::PathBuf> {
    use etcetera::BaseStrategy as _;
    Ok(etcetera::choose_base_strategy()
        .context("finding the data directory; pass --data-dir")?
        .data_dir()
        .join("assay"))
}

pub fn create(config: &Config, args: &TokenCreateArgs) -> Result<ExitCode, Failure> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let store = open_store(&config.store).await?;
        let role = match args.role {
            RoleArg::Partner => Role::Partner,
            RoleArg::Reviewer => Role::Reviewer,
            RoleArg::Admin => Role::Admin,
        };
        let capabilities: Vec<Capability> = args
            .capabilities
            .iter()
            .map(|c| match c {
                CapabilityArg::List => Capability::List,
                CapabilityArg::Certify => Capability::Certify,
                CapabilityArg::Checks => Capability::Checks,
            })
            .collect();
        let partner = match (&args.partner, role) {
            (Some(name), Role::Partner) => Some(
                store
                    .ensure_partner("cli", name, &capabilities)
                    .await
                    .context("creating the partner")
                    .map_err(Failure::Host)?,
            ),
            (Some(_), _) => return Err(Failure::Input(anyhow::anyhow!("--partner is only for --role partner"), None)),
            (None, _) => None,
        };
        let ttl = i64::from(args.expires_in_days) * 86_400;
        let token = store
            .create_token_for("cli", role, partner, ttl)
            .await
            .context("creating the token")
            .map_err(Failure::Host)?;
        store.close().await;
        let whom = args.partner.as_deref().map(|p| format!(" for partner `{p}`")).unwrap_or_default();
        eprintln!(
            "Store the token now: it is shown once and only its hash is kept. It expires in {} days.",
            args.expires_in_days
        );
        println!("created a {role} token{whom}: {token}", role = role.as_str());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn revoke(config: &Config, args: &TokenRevokeArgs) -> Result<ExitCode, Failure> {
    runtime()?.block_on(async {
        let store = open_store(&config.store).await?;
        let revoked = store.revoke_token("cli", args.id).await.context("revoking the token").map_err(Failure::Host)?;
        store.close().await;
        if !revoked {
            return Err(Failure::Input(anyhow::anyhow!("no live token has id {}", args.id), None));
        }
        println!("revoked token:{}", args.id);
        Ok(ExitCode::SUCCESS)
    })
}
