//! Console pages with 100 listings against the same pages with 10,000, on SQLite and PostgreSQL.
//!
//! `cargo bench -p assay-server --bench console` (PostgreSQL too when `ASSAY_TEST_POSTGRES_URL`
//! names a server). Each store gets `n` listings, each with one version, every other one waiting
//! for a reviewer, and five audit events each; a partner `acme` owns 20 of them in both sizes.
//! Every page is requested through the whole router (session cookie, store, template), in
//! process, and the median time of many requests is reported. The baseline is the same page on the 100-listing store, in the
//! same process: the ratio says what ten thousand listings cost a page.

#![allow(clippy::unwrap_used)] // a benchmark fails by panicking

mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use assay_host::{Host, RulePack};
use assay_server::{ServerConfig, router};
use assay_service::{Capability, Role, Service, ServiceConfig};
use assay_store::Store;

const SIZES: [i64; 2] = [100, 10_000];
const REQUESTS: usize = 200;

/// A backend's name, and the database URL of its store with `n` listings.
type Backend = (&'static str, Box<dyn Fn(i64) -> String>);
/// A page's label, and its path and session on a site.
type Page = (&'static str, fn(&Site) -> (String, &str));

struct Site {
    router: axum::Router,
    reviewer: String,
    partner: String,
    middle: String,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (host, pack) = setup::host_and_pack();
    let dir = tempfile::tempdir().unwrap();
    let mut backends: Vec<Backend> = vec![(
        "SQLite",
        Box::new(move |n| format!("sqlite://{}?mode=rwc", dir.path().join(format!("console-{n}.db")).display())),
    )];
    let admin = std::env::var("ASSAY_TEST_POSTGRES_URL").ok();
    let mut databases = Vec::new();
    if let Some(admin) = &admin {
        let (server, _) = admin.rsplit_once('/').unwrap();
        let server = server.to_owned();
        for n in SIZES {
            let name = format!("assay_bench_console_{n}_{}", std::process::id());
            runtime.block_on(setup::admin_sql(admin, &format!("CREATE DATABASE {name}")));
            databases.push(name);
        }
        let pid = std::process::id();
        backends.push(("PostgreSQL", Box::new(move |n| format!("{server}/assay_bench_console_{n}_{pid}"))));
    }
    println!("| backend | page | {} listings | {} listings | ratio |", SIZES[0], SIZES[1]);
    println!("|---|---|---:|---:|---:|");
    for (backend, url) in &backends {
        let sites: Vec<Site> =
            SIZES.iter().map(|&n| runtime.block_on(site(&url(n), n, host.clone(), pack.clone()))).collect();
        let pages: [Page; 6] = [
            ("reviewer: `/listings`, first page", |s| ("/listings".into(), s.reviewer.as_str())),
            ("reviewer: `/listings`, a middle page", |s| {
                (format!("/listings?after={}", s.middle), s.reviewer.as_str())
            }),
            ("reviewer: `/queue`", |s| ("/queue".into(), s.reviewer.as_str())),
            ("reviewer: a listing's page with its audit trail", |s| {
                (format!("/listings/{}", s.middle), s.reviewer.as_str())
            }),
            ("reviewer: a version's page", |s| (format!("/listings/{}/versions/1.0.0", s.middle), s.reviewer.as_str())),
            ("partner: `/listings` with standing", |s| ("/listings".into(), s.partner.as_str())),
        ];
        for (label, page) in pages {
            let times: Vec<Duration> = sites
                .iter()
                .map(|site| {
                    let (path, session) = page(site);
                    runtime.block_on(median(&site.router, &path, session))
                })
                .collect();
            println!(
                "| {backend} | {label} | {:.2} ms | {:.2} ms | **{:.2}×** |",
                ms(times[0]),
                ms(times[1]),
                times[1].as_secs_f64() / times[0].as_secs_f64()
            );
        }
    }
    if let Some(admin) = &admin {
        for name in databases {
            runtime.block_on(setup::admin_sql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The listings: `app-100001` … owned by `bulk`, except every `n/20`th, owned by `acme`.
macro_rules! listings_sql {
    ($n:literal) => {
        concat!(
            "INSERT INTO listings (slug, name, partner_id, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ",
            $n,
            ") SELECT 'app-' || CAST(i + 100000 AS TEXT), 'App ' || CAST(i AS TEXT), \
             CASE WHEN i % (",
            $n,
            " / 20) = 0 THEN 1 ELSE 2 END, 0 FROM n"
        )
    };
}

/// A store with `n` listings (acme owns 20), one version each, every other one waiting.
async fn site(url: &str, n: i64, host: Arc<Host>, pack: Arc<RulePack>) -> Site {
    let store = Store::open(url).await.unwrap();
    let acme = store.ensure_partner("bench", "acme", &[Capability::List]).await.unwrap();
    let bulk = store.ensure_partner("bench", "bulk", &[Capability::List]).await.unwrap();
    assert_eq!((acme.0, bulk.0), (1, 2), "a fresh store");
    // One statement each (the same SQL on both databases): 10,000 transactions would measure
    // the disk, not the pages.
    match n {
        100 => {
            store.execute_unchecked(listings_sql!(100)).await.unwrap();
        }
        10_000 => {
            store.execute_unchecked(listings_sql!(10000)).await.unwrap();
        }
        _ => unreachable!(),
    }
    store
        .execute_unchecked(
            "INSERT INTO versions (listing_id, version, manifest, digest, state, created_at, updated_at) \
             SELECT id, '1.0.0', 'slug = \"x\"', 'digest', \
             CASE WHEN id % 2 = 0 THEN 'awaiting_review' ELSE 'published' END, 0, id FROM listings",
        )
        .await
        .unwrap();
    // Five audit events about each listing's version (the chain is not verified here).
    store
        .execute_unchecked(
            "INSERT INTO audit_events (seq, at, actor, action, subject, detail, prev_hash, hash) \
             SELECT l.id * 8 + k.k, 0, 'bench', 'version.recheck', 'listing:' || l.slug || '@1.0.0', 'pass', '', '' \
             FROM listings l CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 \
             UNION ALL SELECT 4 UNION ALL SELECT 5) k",
        )
        .await
        .unwrap();
    // Statistics and the visibility map, as autovacuum (or SQLite's `ANALYZE`) would have them
    // for a store that grew to this size: without statistics PostgreSQL plans for an empty
    // table, and without the visibility map its counts cannot be answered from an index alone.
    let maintain = match store.backend() {
        assay_store::Backend::Postgres => "VACUUM ANALYZE",
        assay_store::Backend::Sqlite => "ANALYZE",
    };
    store.execute_unchecked(maintain).await.unwrap();
    let reviewer = store.create_token("bench", Role::Reviewer, None).await.unwrap();
    let partner = store.create_token("bench", Role::Owner, Some(acme)).await.unwrap();
    let service = Service::new(store.clone(), host, pack, ServiceConfig::default());
    let (reviewer, _) = service.open_session(&reviewer, 3600).await.unwrap();
    let (partner, _) = service.open_session(&partner, 3600).await.unwrap();
    Site {
        router: router(service, ServerConfig::default()),
        reviewer,
        partner,
        middle: format!("app-{}", 100_000 + n / 2),
    }
}

async fn median(router: &axum::Router, path: &str, session: &str) -> Duration {
    let get = || {
        Request::get(path)
            .header(header::HOST, "127.0.0.1")
            .header(header::COOKIE, format!("assay_session={session}"))
            .body(Body::empty())
            .unwrap()
    };
    let first = router.clone().oneshot(get()).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK, "{path}");
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = router.clone().oneshot(get()).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        times.push(started.elapsed());
        assert!(body.len() > 1000);
    }
    times.sort();
    times[REQUESTS / 2]
}
