//! Time, injected, so expiries are tested without waiting; and the loop the background jobs
//! (scheduler, webhook dispatcher) run on.

/// Where the service reads the time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }
}

/// Run `pass` every `period` (the first at once) until `stop` resolves; a failed pass is logged
/// as `what` and the next one runs on schedule.
pub(crate) async fn every<T, F, Fut>(
    period: std::time::Duration,
    stop: impl std::future::Future<Output = ()>,
    what: &str,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::ServiceError>>,
{
    tokio::pin!(stop);
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticks.tick() => {
                if let Err(e) = pass().await {
                    tracing::error!(error = %crate::error_chain(&e), "{what} failed");
                }
            }
        }
    }
}
