//! `assay token create --role` and `assay token revoke --on-store`: tokens directly on the
//! store, to bootstrap the first admin (and as an operator's last resort).

use std::process::ExitCode;

use anyhow::Context as _;
use assay_store::{Capability, NewToken, NewUser, Role, Store, TokenOwner};

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
        let Some(role_arg) = args.role else {
            return Err(Failure::Input(anyhow::anyhow!("bootstrap on the store needs --role"), None));
        };
        let role = match role_arg {
            RoleArg::Partner | RoleArg::Owner => Role::Owner,
            RoleArg::Developer => Role::Developer,
            RoleArg::Viewer => Role::Viewer,
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
        let partner = match (&args.partner, role.is_staff()) {
            (Some(name), false) => Some(
                store
                    .ensure_partner("cli", name, &capabilities)
                    .await
                    .context("creating the partner")
                    .map_err(Failure::Host)?,
            ),
            (Some(_), true) => {
                return Err(Failure::Input(anyhow::anyhow!("--partner is only for a partner's roles"), None));
            }
            (None, _) => None,
        };
        let ttl = i64::from(args.expires_in_days) * 86_400;
        let (token, whose) = match (&args.email, &args.name) {
            (Some(email), Some(name)) => {
                if !assay_service::people::valid_email(email) {
                    return Err(Failure::Input(anyhow::anyhow!("`{email}` is not an e-mail address"), None));
                }
                let user =
                    match store.user_by_email(email).await.context("finding the person").map_err(Failure::Host)? {
                        Some(user) if user.left_at.is_none() => {
                            if user.partner != partner || user.role != role {
                                return Err(Failure::Input(
                                    anyhow::anyhow!(
                                        "{email} is already {} in {}; their tokens act with that role",
                                        user.role,
                                        user.organisation
                                    ),
                                    None,
                                ));
                            }
                            user
                        }
                        _ => store
                            .create_user("cli", &NewUser { email, name, partner, role })
                            .await
                            .context("adding the person")
                            .map_err(Failure::Host)?,
                    };
                let new = NewToken {
                    name: "bootstrap",
                    owner: TokenOwner::User(user.id),
                    scopes: role.scopes(),
                    ttl_secs: ttl,
                };
                let (token, _) =
                    store.issue_token("cli", &new).await.context("creating the token").map_err(Failure::Host)?;
                (token, format!(" for {} <{}> ({})", user.name, user.email, user.organisation))
            }
            _ => {
                let token = store
                    .create_token_for("cli", role, partner, ttl)
                    .await
                    .context("creating the token")
                    .map_err(Failure::Host)?;
                let whose = args
                    .partner
                    .as_deref()
                    .map(|p| format!(" for a service account of partner `{p}`"))
                    .unwrap_or_else(|| " for a staff service account".into());
                (token, whose)
            }
        };
        store.close().await;
        eprintln!(
            "Store the token now: it is shown once and only its hash is kept. It expires in {} days.",
            args.expires_in_days
        );
        println!("created a {role} token{whose}: {token}", role = role.as_str());
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
