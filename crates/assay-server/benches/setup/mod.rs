//! What every server benchmark starts from: the plugin host with its artifact cache, the
//! built-in pack, and SQL against the PostgreSQL admin database.

use std::sync::Arc;

use assay_host::{Host, HostConfig, RulePack};

/// The plugin host (artifacts cached under `target/tmp`) and the built-in rule pack.
pub fn host_and_pack() -> (Arc<Host>, Arc<RulePack>) {
    let cache_dir = Some(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-components"));
    let host = Arc::new(Host::new(HostConfig { cache_dir, ..HostConfig::default() }).unwrap());
    let pack = Arc::new(
        RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from)).unwrap(),
    );
    (host, pack)
}

/// Run `sql` (CREATE or DROP DATABASE) on the server `admin` names.
pub async fn admin_sql(admin: &str, sql: &str) {
    use sqlx::{Connection as _, Executor as _};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned())).await.unwrap();
}
