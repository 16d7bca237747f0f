//! `assay worker`: queue workers without the API, for scale-out on a shared database.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;
use crate::exit::Failure;
use crate::{serve, setup, token};

pub fn run(config: &Config) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .map_err(Failure::Host)?;
    runtime.block_on(work(config))
}

async fn work(config: &Config) -> Result<ExitCode, Failure> {
    let store = token::open_store(&config.store).await?;
    if store.backend() == assay_store::Backend::Sqlite {
        // `assay serve` owns a SQLite store: on start it releases every lease, a live worker's
        // included.
        return Err(Failure::Input(
            anyhow::anyhow!(
                "`assay worker` needs a shared PostgreSQL database (--database-url postgres://…); on SQLite the workers run inside `assay serve` (--workers)"
            ),
            None,
        ));
    }
    join_as_node(&store).await?;
    let service = setup::service(config, store.clone())?;
    let count = config.service.workers;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..count)
        .map(|_| {
            let service = service.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move { service.run_worker(async move { drop(stopped.wait_for(|s| *s).await) }).await })
        })
        .collect();
    tracing::info!(workers = count, database = ?store.backend(), "assay worker is running");
    eprintln!("assay: {count} worker(s) claiming jobs; Ctrl-C stops after the jobs in hand");
    serve::shutdown_signal().await;
    tracing::info!("stopping: finishing the jobs in hand");
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Join the store as a node (see `Store::join_as_node`): the jobs a previous incarnation of
/// this process held — one that crashed or was killed — are claimed again at once.
pub(crate) async fn join_as_node(store: &assay_store::Store) -> Result<(), Failure> {
    let joined = store.join_as_node().await.context("joining the job queue as a node").map_err(Failure::Host)?;
    match joined.slot {
        Some(slot) if joined.released + joined.released_messages > 0 => {
            tracing::info!(
                node = slot,
                released = joined.released,
                messages = joined.released_messages,
                "resuming jobs and sending again the messages a stopped process held"
            );
        }
        Some(slot) => tracing::info!(node = slot, "joined the job queue"),
        None => tracing::warn!("every node slot is taken: this process's jobs, should it crash, wait out their leases"),
    }
    Ok(())
}
