//! `assay worker`: queue workers without the API, for scale-out on a shared database.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use assay_service::{Service, ServiceConfig};

use crate::args::{Global, WorkerArgs};
use crate::exit::Failure;
use crate::{serve, setup, token};

pub fn run(global: &Global, args: &WorkerArgs) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .map_err(Failure::Host)?;
    runtime.block_on(work(global, args))
}

async fn work(global: &Global, args: &WorkerArgs) -> Result<ExitCode, Failure> {
    let store = token::open_store(&args.store).await?;
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
    let host = Arc::new(setup::host(global)?);
    let pack = Arc::new(setup::builtin_pack().map_err(Failure::Host)?);
    let config = ServiceConfig { lease_secs: i64::from(args.lease_secs), ..ServiceConfig::default() };
    let service = Service::new(store.clone(), host, pack, config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..args.workers)
        .map(|_| {
            let service = service.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move { service.run_worker(async move { drop(stopped.wait_for(|s| *s).await) }).await })
        })
        .collect();
    tracing::info!(workers = args.workers, database = ?store.backend(), "assay worker is running");
    eprintln!("assay: {} worker(s) claiming jobs; Ctrl-C stops after the jobs in hand", args.workers);
    serve::shutdown_signal().await;
    tracing::info!("stopping: finishing the jobs in hand");
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
