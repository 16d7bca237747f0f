//! The use cases end to end: a real plugin host running the built-in pack, a real SQLite store.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use assay_core::{Verdict, VersionState};
use assay_host::{Host, HostConfig, RulePack};
use assay_service::{
    Action, Capability, Clock, Principal, Role, Service, ServiceConfig, ServiceError, UploadedCheck, WaiverRequest,
};
use assay_store::Store;

#[derive(Debug)]
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn host() -> Arc<Host> {
    static HOST: OnceLock<Arc<Host>> = OnceLock::new();
    HOST.get_or_init(|| {
        let cache_dir = Some(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("service-components"));
        Arc::new(Host::new(HostConfig { cache_dir, ..HostConfig::default() }).unwrap())
    })
    .clone()
}

fn pack() -> Arc<RulePack> {
    Arc::new(RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from)).unwrap())
}

struct World {
    service: Service,
    /// The store under `service`, for what a test checks behind the service's back.
    store: Store,
    clock: Arc<TestClock>,
    acme: Principal,
    globex: Principal,
    reviewer: Principal,
    /// Staff who govern: packs, platform notices and deprecations.
    admin: Principal,
    _dir: tempfile::TempDir,
}

async fn world(acme_capabilities: &[Capability]) -> World {
    world_with(acme_capabilities, host(), ServiceConfig::default()).await
}

async fn world_with(acme_capabilities: &[Capability], host: Arc<Host>, config: ServiceConfig) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let acme_id = store.ensure_partner("test", "acme", acme_capabilities).await.unwrap();
    let globex_id = store.ensure_partner("test", "globex", &[Capability::List, Capability::Checks]).await.unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
    let service = Service::new(store.clone(), host, pack(), config).with_clock(clock.clone());
    let acme = principal(&store, Role::Owner, Some(acme_id)).await;
    let globex = principal(&store, Role::Owner, Some(globex_id)).await;
    let reviewer = principal(&store, Role::Reviewer, None).await;
    let admin = principal(&store, Role::Admin, None).await;
    World { service, store, clock, acme, globex, reviewer, admin, _dir: dir }
}

async fn principal(store: &Store, role: Role, partner: Option<assay_store::PartnerId>) -> Principal {
    let token = store.create_token("test", role, partner).await.unwrap();
    store.authenticate(&token).await.unwrap().unwrap()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../examples/listings/{name}/listing.toml", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

fn slug_of(manifest: &str) -> String {
    assay_core::Manifest::parse("listing.toml", manifest).unwrap().manifest.slug.as_str().to_owned()
}

/// Create the listing of example `name` for `who`, submit it and run its review.
async fn reviewed(world: &World, who: &Principal, name: &str) -> (String, String) {
    let manifest = example(name);
    let slug = slug_of(&manifest);
    world.service.create_listing(who, &slug, "Example").await.unwrap();
    let record = world.service.submit(who, &slug, &manifest, Vec::new()).await.unwrap();
    assert_eq!(record.state, VersionState::Submitted);
    let done = world.service.review_next().await.unwrap().unwrap();
    assert_eq!(done.version, record.version);
    (slug, record.version)
}

#[tokio::test]
async fn a_clean_listing_is_reviewed_approved_and_certified() {
    let world = world(&[Capability::List, Capability::Certify]).await;
    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    let view = world.service.version(&world.acme, &slug, &version).await.unwrap();
    assert_eq!((view.record.state, view.verdict), (VersionState::AwaitingReview, Some(Verdict::Pass)));
    assert_eq!(view.review.as_ref().unwrap().runs.len(), world.service.pack_manifest().rules.len());
    let queue = world.service.review_queue(&world.reviewer).await.unwrap();
    assert_eq!(queue.iter().map(|e| e.slug.as_str()).collect::<Vec<_>>(), [slug.as_str()]);
    // The partner cannot decide, and a decision needs a note.
    assert!(matches!(
        world.service.decide(&world.acme, &slug, &version, Action::Approve, "mine").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        world.service.decide(&world.reviewer, &slug, &version, Action::Approve, " ").await,
        Err(ServiceError::NoteRequired)
    ));
    let approved =
        world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "looks right").await.unwrap();
    assert_eq!(approved.state, VersionState::Approved);
    let certified = world.service.decide(&world.reviewer, &slug, &version, Action::Certify, "audited").await.unwrap();
    assert!(certified.certified);
    // Rejecting an approved version is not a transition the lifecycle has.
    let refused = world.service.decide(&world.reviewer, &slug, &version, Action::Reject, "changed my mind").await;
    assert!(
        matches!(&refused, Err(ServiceError::NotAllowed { current: VersionState::Approved, message }) if message.contains("approved")),
        "{refused:?}"
    );
    assert!(world.service.review_queue(&world.reviewer).await.unwrap().is_empty());
}

#[tokio::test]
async fn certification_needs_the_partners_capability() {
    let world = world(&[Capability::List]).await;
    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "ok").await.unwrap();
    let refused = world.service.decide(&world.reviewer, &slug, &version, Action::Certify, "audited").await;
    assert!(matches!(refused, Err(ServiceError::CapabilityRequired(Capability::Certify))), "{refused:?}");
    // Partner checks need the `checks` capability; nothing is stored when refused.
    let manifest = example("clean").replace("version = \"1.4.0\"", "version = \"1.5.0\"");
    let check = UploadedCheck { name: "x.wasm".into(), bytes: b"\0asm".to_vec() };
    let refused = world.service.submit(&world.acme, &slug, &manifest, vec![check]).await;
    assert!(matches!(refused, Err(ServiceError::CapabilityRequired(Capability::Checks))), "{refused:?}");
    assert_eq!(world.store.pending_reviews().await.unwrap(), 0);
}

#[tokio::test]
async fn a_waiver_passes_a_finding_until_it_expires() {
    let world = world(&[Capability::List]).await;
    let (slug, version) = reviewed(&world, &world.acme, "http-urls").await;
    let view = world.service.version(&world.acme, &slug, &version).await.unwrap();
    assert_eq!((view.record.state, view.verdict), (VersionState::ChangesRequested, Some(Verdict::Fail)));
    assert!(view.findings.iter().all(|f| f.finding.rule_id == "urls.https" && f.waived_by.is_none()));
    let request = WaiverRequest {
        slug: slug.clone(),
        rule_id: "urls.https".into(),
        versions: "^1".into(),
        justification: "the CDN moves to HTTPS next quarter".into(),
        expires_at: world.clock.now() + 3600,
    };
    // Only reviewers grant waivers; a waiver must expire in the future and name a semver range.
    assert!(matches!(world.service.grant_waiver(&world.acme, &request).await, Err(ServiceError::Forbidden(_))));
    let past = WaiverRequest { expires_at: world.clock.now(), ..request.clone() };
    assert!(matches!(world.service.grant_waiver(&world.reviewer, &past).await, Err(ServiceError::Invalid { .. })));
    let bad = WaiverRequest { versions: "one point oh".into(), ..request.clone() };
    assert!(matches!(world.service.grant_waiver(&world.reviewer, &bad).await, Err(ServiceError::Invalid { .. })));
    let waiver = world.service.grant_waiver(&world.reviewer, &request).await.unwrap();
    let view = world.service.version(&world.acme, &slug, &version).await.unwrap();
    assert_eq!(view.verdict, Some(Verdict::Pass));
    assert!(view.findings.iter().all(|f| f.waived_by == Some(waiver.waiver.id)));
    // The next version is reviewed with the waiver live: it passes to a reviewer.
    let next = example("http-urls").replace("version = \"1.4.0\"", "version = \"1.4.1\"");
    world.service.submit(&world.acme, &slug, &next, Vec::new()).await.unwrap();
    let done = world.service.review_next().await.unwrap().unwrap();
    assert_eq!(done.state, VersionState::AwaitingReview);
    // Time passes; the waiver expires and its findings count again.
    world.clock.0.fetch_add(3600, Ordering::SeqCst);
    let view = world.service.version(&world.acme, &slug, "1.4.1").await.unwrap();
    assert_eq!(view.verdict, Some(Verdict::Fail));
    assert!(view.findings.iter().all(|f| f.waived_by.is_none()));
}

#[tokio::test]
async fn partners_see_only_their_own_listings() {
    let world = world(&[Capability::List]).await;
    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    let hidden = |r: Result<_, ServiceError>| matches!(r, Err(ServiceError::NotFound(_)));
    assert!(hidden(world.service.listing(&world.globex, &slug).await.map(|_| ())));
    assert!(hidden(world.service.version(&world.globex, &slug, &version).await.map(|_| ())));
    assert!(hidden(world.service.waivers(&world.globex, &slug).await.map(|_| ())));
    let manifest = example("clean").replace("version = \"1.4.0\"", "version = \"2.0.0\"");
    assert!(hidden(world.service.submit(&world.globex, &slug, &manifest, Vec::new()).await.map(|_| ())));
    assert!(world.service.listings(&world.globex).await.unwrap().is_empty());
    assert_eq!(world.service.listings(&world.reviewer).await.unwrap().len(), 1);
    assert!(matches!(world.service.review_queue(&world.globex).await, Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn bad_submissions_are_refused_with_their_field_and_leave_nothing() {
    let world = world(&[Capability::List, Capability::Checks]).await;
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    world.service.create_listing(&world.acme, &slug, "Example").await.unwrap();
    let refused = world.service.submit(&world.acme, &slug, "slug = 3", Vec::new()).await;
    assert!(matches!(refused, Err(ServiceError::InvalidManifest(_))), "{refused:?}");
    let other = manifest.replacen(&format!("slug = \"{slug}\""), "slug = \"someone-else\"", 1);
    let refused = world.service.submit(&world.acme, &slug, &other, Vec::new()).await;
    assert!(matches!(&refused, Err(ServiceError::Invalid { pointer, .. }) if pointer == "/slug"), "{refused:?}");
    for (name, bytes) in
        [("random.wasm", b"not wasm at all".to_vec()), ("core.wasm", wat::parse_str("(module)").unwrap())]
    {
        let check = UploadedCheck { name: name.into(), bytes };
        let refused = world.service.submit(&world.acme, &slug, &manifest, vec![check]).await;
        assert!(matches!(&refused, Err(ServiceError::InvalidPlugin { name: n, .. }) if n == name), "{refused:?}");
    }
    assert!(world.service.listing(&world.acme, &slug).await.unwrap().versions.is_empty());
    assert_eq!(world.store.pending_reviews().await.unwrap(), 0);
    assert!(matches!(
        world.service.create_listing(&world.acme, "Bad Slug", "x").await,
        Err(ServiceError::Invalid { .. })
    ));
    assert!(matches!(world.service.create_listing(&world.acme, &slug, "again").await, Err(ServiceError::Exists(_))));
}

#[tokio::test]
async fn a_partner_check_runs_in_the_review_and_its_failure_blocks() {
    let world = world(&[Capability::List, Capability::Checks]).await;
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    world.service.create_listing(&world.acme, &slug, "Example").await.unwrap();
    let trap = assay_builtin::artifact("hostile_trap.wasm");
    world
        .service
        .submit(&world.acme, &slug, &manifest, vec![UploadedCheck { name: "trap.wasm".into(), bytes: trap }])
        .await
        .unwrap();
    let done = world.service.review_next().await.unwrap().unwrap();
    assert_eq!(done.state, VersionState::ChangesRequested);
    let view = world.service.version(&world.acme, &slug, "1.4.0").await.unwrap();
    let partner: Vec<_> = view.review.unwrap().runs.into_iter().filter(|r| !r.platform).collect();
    assert_eq!(partner.len(), 1);
    assert_eq!(partner[0].outcome.as_str(), "trapped");
    assert_eq!(view.verdict, Some(Verdict::Fail));
}

#[tokio::test]
async fn a_new_version_is_reviewed_against_the_last_approved_one() {
    let world = world(&[Capability::List]).await;
    let dir = format!("{}/../../examples/listings/scope-escalation-minor-bump", env!("CARGO_MANIFEST_DIR"));
    let previous = std::fs::read_to_string(format!("{dir}/previous.toml")).unwrap();
    let slug = slug_of(&previous);
    world.service.create_listing(&world.acme, &slug, "Example").await.unwrap();
    world.service.submit(&world.acme, &slug, &previous, Vec::new()).await.unwrap();
    world.service.review_next().await.unwrap().unwrap();
    world.service.decide(&world.reviewer, &slug, "1.3.0", Action::Approve, "ok").await.unwrap();
    // 1.4.0 escalates read_orders to write_orders: a minor bump understates it.
    let next = std::fs::read_to_string(format!("{dir}/listing.toml")).unwrap();
    world.service.submit(&world.acme, &slug, &next, Vec::new()).await.unwrap();
    let done = world.service.review_next().await.unwrap().unwrap();
    assert_eq!(done.state, VersionState::ChangesRequested);
    let view = world.service.version(&world.acme, &slug, "1.4.0").await.unwrap();
    let rules: Vec<_> = view.findings.iter().map(|f| f.finding.rule_id.as_str()).collect();
    assert_eq!(rules, ["version.bump-understated"]);
    assert!(view.findings[0].finding.message.contains("write_orders"), "{:?}", view.findings[0]);
}

fn shop_sync_listing() -> String {
    std::fs::read_to_string(format!("{}/../../examples/integration-check/listing.toml", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

fn shop_sync_check() -> Vec<UploadedCheck> {
    vec![UploadedCheck { name: "shop_sync_check.wasm".into(), bytes: assay_builtin::artifact("shop_sync_check.wasm") }]
}

fn regressions(view: &assay_service::VersionView) -> Vec<String> {
    view.findings
        .iter()
        .filter(|f| f.finding.rule_id == assay_core::integration::RESOURCE_REGRESSION)
        .map(|f| f.finding.message.clone())
        .collect()
}

/// The example integration check, approved at 1.0.0; 1.0.1 does the same work (no regression
/// at the default factor of 2); 1.0.2 subscribes to five more webhooks, so it sends the
/// platform more than twice the bytes 1.0.0 did, and that is a finding against 1.0.0's run.
#[tokio::test]
async fn integration_resources_are_compared_with_the_last_approved_version() {
    let world = world(&[Capability::List, Capability::Checks]).await;
    let text = shop_sync_listing();
    let slug = slug_of(&text);
    let check = shop_sync_check;
    world.service.create_listing(&world.acme, &slug, "Shop Sync").await.unwrap();
    world.service.submit(&world.acme, &slug, &text, check()).await.unwrap();
    world.service.review_next().await.unwrap().unwrap();
    let first = world.service.version(&world.acme, &slug, "1.0.0").await.unwrap();
    assert_eq!(first.verdict, Some(Verdict::Pass), "{:#?}", first.findings);
    let runs = &first.review.as_ref().unwrap().runs;
    let integration = runs.iter().find(|r| r.integration).unwrap();
    assert_eq!(integration.transcript.len(), 12, "the transcript is stored with the run");
    assert!(runs.iter().all(|r| r.check_id != assay_core::integration::RESOURCE_REGRESSION), "no baseline yet");
    world.service.decide(&world.reviewer, &slug, "1.0.0", Action::Approve, "ok").await.unwrap();

    world
        .service
        .submit(&world.acme, &slug, &text.replace("version = \"1.0.0\"", "version = \"1.0.1\""), check())
        .await
        .unwrap();
    world.service.review_next().await.unwrap().unwrap();
    let same = world.service.version(&world.acme, &slug, "1.0.1").await.unwrap();
    assert_eq!(regressions(&same), Vec::<String>::new(), "the same work is no regression");

    let mut more = text.replace("version = \"1.0.0\"", "version = \"1.0.2\"");
    for topic in ["orders/updated", "orders/paid", "products/create", "products/update", "app/uninstalled"] {
        more.push_str(&format!(
            "\n[[webhooks]]\ntopic = \"{topic}\"\nurl = \"https://acme-apps.com/hooks/{}\"\n",
            topic.replace('/', "-")
        ));
    }
    world.service.submit(&world.acme, &slug, &more, check()).await.unwrap();
    world.service.review_next().await.unwrap().unwrap();
    let grown = world.service.version(&world.acme, &slug, "1.0.2").await.unwrap();
    let found = regressions(&grown);
    assert!(
        found.iter().any(|m| m.contains("check `acme.shop-sync` used") && m.contains("bytes sent")),
        "a bytes-sent regression against 1.0.0: {found:#?}"
    );
    assert!(found.iter().all(|m| !m.contains("peak memory")), "memory did not grow: {found:#?}");
    // A warning: the version still passes and waits for a reviewer.
    assert_eq!(grown.verdict, Some(Verdict::Pass), "{:#?}", grown.findings);
    // The bundle of that review names its previous version and replays.
    let bundle = world.service.bundle(&world.acme, &slug, "1.0.2").await.unwrap();
    assert!(bundle.previous.as_ref().unwrap().text.contains("version = \"1.0.0\""));
    let replay = bundle.replay(&host()).unwrap();
    assert!(replay.matched(), "{:#?}", replay.differences);
    assert!(matches!(world.service.bundle(&world.globex, &slug, "1.0.2").await, Err(ServiceError::NotFound(_))));
    // A server restarted with other limits still exports the limits the review ran under.
    let limits = assay_host::Limits { max_platform_calls: 7, ..Default::default() };
    let other = Arc::new(Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap());
    let restarted = Service::new(world.store.clone(), other, pack(), ServiceConfig::default());
    let again = restarted.bundle(&world.acme, &slug, "1.0.2").await.unwrap();
    assert_eq!(again.limits, bundle.limits);
    assert_eq!(again.limits.max_platform_calls, 1_000);

    // A pack that makes regressions a gate: the same growth now blocks the version.
    let manifest = assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", "version = \"0.2.0\"")
        + "\n[resource-regression]\nseverity = \"error\"\n";
    let gate = assay_service::PackUpload { manifest, files: assay_builtin::files() };
    world.service.publish_pack(&world.admin, gate).await.unwrap();
    drain(&world).await;
    world.service.enforce_pack(&world.admin, "assay-builtin", "0.2.0", 0).await.unwrap();
    world.clock.0.fetch_add(86_400, Ordering::SeqCst);
    world.service.apply_schedules().await.unwrap();
    drain(&world).await;
    let gated = more.replace("version = \"1.0.2\"", "version = \"1.0.3\"");
    world.service.submit(&world.acme, &slug, &gated, check()).await.unwrap();
    let done = world.service.review_next().await.unwrap().unwrap();
    let blocked = world.service.version(&world.acme, &slug, "1.0.3").await.unwrap();
    assert_eq!(blocked.review.as_ref().unwrap().pack_version, "0.2.0");
    assert!(!regressions(&blocked).is_empty(), "{:#?}", blocked.findings);
    assert_eq!((done.state, blocked.verdict), (VersionState::ChangesRequested, Some(Verdict::Fail)));
}

/// Hostile integration checks through the whole service: each is stopped and classified, the
/// review still records every platform rule, and the version is blocked.
#[tokio::test]
async fn hostile_integration_checks_are_contained_in_a_review() {
    let limits = assay_host::Limits { max_platform_calls: 50, ..Default::default() };
    let host = Arc::new(Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap());
    let world = world_with(&[Capability::List, Capability::Checks], host, ServiceConfig::default()).await;
    let text = shop_sync_listing();
    let slug = slug_of(&text);
    world.service.create_listing(&world.acme, &slug, "Shop Sync").await.unwrap();
    let cases = [
        ("hostile_platform_flood.wasm", "budget_exceeded"),
        ("hostile_platform_payload.wasm", "budget_exceeded"),
        ("hostile_platform_hoard.wasm", "out_of_memory"),
    ];
    for (i, (name, outcome)) in cases.into_iter().enumerate() {
        let version = format!("1.0.{i}");
        let manifest = text.replace("version = \"1.0.0\"", &format!("version = \"{version}\""));
        let upload = vec![UploadedCheck { name: name.into(), bytes: assay_builtin::artifact(name) }];
        world.service.submit(&world.acme, &slug, &manifest, upload).await.unwrap();
        let done = world.service.review_next().await.unwrap().unwrap();
        assert_eq!(done.state, VersionState::ChangesRequested, "{name}");
        let view = world.service.version(&world.acme, &slug, &version).await.unwrap();
        let runs = view.review.unwrap().runs;
        let partner: Vec<_> = runs.iter().filter(|r| !r.platform).collect();
        assert_eq!(partner.len(), 1, "{name}");
        assert_eq!(partner[0].outcome.as_str(), outcome, "{name}: {:?}", partner[0].message);
        assert!(partner[0].transcript.len() <= 51, "{name}: the budget bounds the transcript");
        // Every rule of the pack still reported.
        let rules = runs.iter().filter(|r| r.platform && !r.check_id.starts_with("integration.")).count();
        assert_eq!(rules, world.service.pack_manifest().rules.len(), "{name}");
        assert_eq!(view.verdict, Some(Verdict::Fail), "{name}");
    }
}

/// Uploads that would make the host compile without end are bounded: a compile past the limit
/// is refused (and nothing is stored); with every compile slot taken, an upload is told to come
/// back later.
#[tokio::test]
async fn uploads_are_bounded_in_compile_time_and_concurrency() {
    let limits = assay_host::Limits { max_compile_time: std::time::Duration::ZERO, ..Default::default() };
    let slow = Arc::new(Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap());
    let world = world_with(&[Capability::List, Capability::Checks], slow, ServiceConfig::default()).await;
    let text = shop_sync_listing();
    let slug = slug_of(&text);
    world.service.create_listing(&world.acme, &slug, "Shop Sync").await.unwrap();
    let refused = world.service.submit(&world.acme, &slug, &text, shop_sync_check()).await;
    assert!(
        matches!(&refused, Err(ServiceError::InvalidPlugin { name, message })
            if name == "shop_sync_check.wasm" && message.starts_with("compiling the component took longer than the limit")),
        "{refused:?}"
    );
    assert!(world.service.listing(&world.acme, &slug).await.unwrap().versions.is_empty());
    assert_eq!(world.store.pending_reviews().await.unwrap(), 0);

    // No compile slot at all stands for every slot held by compiles still running.
    let limits = assay_host::Limits { max_compile_time: std::time::Duration::from_millis(50), ..Default::default() };
    let busy = Arc::new(Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap());
    let config = ServiceConfig { parallel_compiles: 0, ..ServiceConfig::default() };
    let world = world_with(&[Capability::List, Capability::Checks], busy, config).await;
    world.service.create_listing(&world.acme, &slug, "Shop Sync").await.unwrap();
    let refused = world.service.submit(&world.acme, &slug, &text, shop_sync_check()).await;
    assert!(matches!(&refused, Err(ServiceError::Busy { retry_after_secs: 1, .. })), "{refused:?}");
    assert!(world.service.listing(&world.acme, &slug).await.unwrap().versions.is_empty());
    // A submission without components needs no slot.
    let plain = text.split("[check]").next().unwrap().to_owned();
    world.service.submit(&world.acme, &slug, &plain, Vec::new()).await.unwrap();
}

/// A review that outlasts its lease keeps its job: the worker renews the lease while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_review_renews_its_lease() {
    let limits = assay_host::Limits { wall_time: std::time::Duration::from_secs(5), ..Default::default() };
    let cache_dir = Some(std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("service-components"));
    let slow_host = Arc::new(Host::new(HostConfig { limits, cache_dir, ..HostConfig::default() }).unwrap());
    let config = ServiceConfig { lease_secs: 2, ..ServiceConfig::default() };
    let world = world_with(&[Capability::List, Capability::Checks], slow_host, config).await;
    let manifest = example("clean");
    let slug = slug_of(&manifest);
    world.service.create_listing(&world.acme, &slug, "Example").await.unwrap();
    // A partner check that spins until the 5 s wall-time limit stops it.
    let spin = UploadedCheck { name: "loop.wasm".into(), bytes: assay_builtin::artifact("hostile_loop.wasm") };
    world.service.submit(&world.acme, &slug, &manifest, vec![spin]).await.unwrap();
    let service = world.service.clone();
    let review = tokio::spawn(async move { service.review_next().await });
    // Past the 2 s lease (and a whole second more, as leases are kept in seconds).
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let stolen = world.store.claim_review("another-worker", 2).await.unwrap();
    let stolen = stolen.map(|c| (c.lease.job, c.lease.attempt));
    assert!(stolen.is_none(), "a running review's job was taken over: {stolen:?}");
    let done = review.await.unwrap().unwrap().unwrap();
    assert_eq!(done.state, VersionState::ChangesRequested, "the spinning partner check timed out and blocks");
    assert_eq!(world.store.pending_reviews().await.unwrap(), 0);
}

/// Notices keep their lead time, deprecations their minimum notice; a scheduled range is
/// deprecated on its date and retired at its sunset, moved by the test clock.
#[tokio::test]
async fn notices_and_deprecation_schedules_keep_the_policy_and_retire_at_sunset() {
    use assay_core::deprecation::{Schedule, Stability};
    use assay_core::notice::{Audience, NoticeKind};
    use assay_service::{DeprecationRequest, NoticeRequest};
    use assay_store::DeprecationTarget;
    use jiff::civil::date;

    let world = world(&[Capability::List]).await;
    // 1_800_000_000 is 2027-01-15 (UTC).
    assert_eq!(world.service.today(), date(2027, 1, 15));
    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "ok").await.unwrap();

    // A breaking notice 12 days out is refused with the rule; 30 days out it is published.
    let breaking = NoticeRequest {
        kind: NoticeKind::Breaking,
        summary: "The stock webhook payload drops `legacy_id`.".into(),
        effective: date(2027, 1, 27),
        action_required: Some("Read `id` instead.".into()),
        audience: Audience::Merchants,
    };
    let refused = world.service.publish_notice(&world.acme, Some(&slug), &breaking).await;
    assert!(
        matches!(&refused, Err(ServiceError::Policy(v)) if v.rule == "notice.breaking-lead-time" && v.message.contains("the earliest allowed date is 2027-02-14")),
        "{refused:?}"
    );
    let published = world
        .service
        .publish_notice(&world.acme, Some(&slug), &NoticeRequest { effective: date(2027, 2, 14), ..breaking.clone() })
        .await
        .unwrap();
    assert_eq!(world.service.notices(&world.acme, Some(&slug)).await.unwrap(), std::slice::from_ref(&published));
    // Another partner cannot see or publish on it; a partner cannot publish platform notices.
    assert!(matches!(world.service.notices(&world.globex, Some(&slug)).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(
        world.service.publish_notice(&world.globex, Some(&slug), &breaking).await,
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        world.service.publish_notice(&world.acme, None, &breaking).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(world.service.notices(&world.globex, None).await.unwrap().is_empty());

    // A GA range with six months' notice is refused; with twelve it is scheduled.
    let range = DeprecationTarget::Listing { slug: slug.clone(), versions: "<2.0.0".parse().unwrap() };
    let mut request = DeprecationRequest {
        target: range,
        stability: Stability::Ga,
        schedule: Schedule {
            announced: date(2027, 1, 15),
            deprecated_from: date(2027, 2, 1),
            sunset: date(2027, 7, 15),
        },
        summary: "1.x is replaced by 2.0".into(),
        action_required: "Install 2.0 before the sunset.".into(),
    };
    let refused = world.service.schedule_deprecation(&world.acme, &request).await;
    assert!(
        matches!(&refused, Err(ServiceError::Policy(v)) if v.rule == "deprecation.minimum-notice" && v.pointer == "/sunset"),
        "{refused:?}"
    );
    request.schedule.sunset = date(2028, 1, 15);
    let scheduled = world.service.schedule_deprecation(&world.acme, &request).await.unwrap();
    assert_eq!(world.service.deprecation_of(&slug, &version).await.unwrap(), Some(scheduled.clone()));
    // The platform API version the listing targets (2026-07) is deprecated too, with an
    // earlier sunset: that is the one its headers name.
    let api = DeprecationRequest {
        target: DeprecationTarget::ApiVersion("2026-07".into()),
        stability: Stability::Beta,
        schedule: Schedule {
            announced: date(2027, 1, 15),
            deprecated_from: date(2027, 3, 1),
            sunset: date(2027, 10, 15),
        },
        summary: "API 2026-07 is retired".into(),
        action_required: "Target 2026-10".into(),
    };
    assert!(matches!(world.service.schedule_deprecation(&world.acme, &api).await, Err(ServiceError::Forbidden(_))));
    let api = world.service.schedule_deprecation(&world.admin, &api).await.unwrap();
    assert_eq!(world.service.deprecation_of(&slug, &version).await.unwrap(), Some(api.clone()));
    assert_eq!(
        world.service.deprecations(&world.globex, None).await.unwrap(),
        std::slice::from_ref(&api),
        "every partner sees platform schedules"
    );
    assert_eq!(world.service.deprecations(&world.reviewer, None).await.unwrap().len(), 2);

    // Nothing moves before deprecated-from; then the version is deprecated; at the sunset, retired.
    assert_eq!(world.service.apply_schedules().await.unwrap(), assay_service::ScheduleReport::default());
    let at = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second();
    world.clock.0.store(at(date(2027, 2, 1)), Ordering::SeqCst);
    let report = world.service.apply_schedules().await.unwrap();
    assert_eq!(report.deprecated, [format!("{slug}@{version}")]);
    let state = |w: &World| {
        let (slug, version) = (slug.clone(), version.clone());
        let store = w.store.clone();
        async move { store.version(&slug, &version).await.unwrap().unwrap().state }
    };
    assert_eq!(state(&world).await, VersionState::Deprecated);
    world.clock.0.store(at(date(2028, 1, 14)), Ordering::SeqCst);
    // The platform API version the listing targets is deprecated by now: it is re-checked.
    let expected = assay_service::ScheduleReport { rechecks: 1, ..Default::default() };
    assert_eq!(world.service.apply_schedules().await.unwrap(), expected);
    world.clock.0.store(at(date(2028, 1, 15)), Ordering::SeqCst);
    assert_eq!(world.service.apply_schedules().await.unwrap().retired, [format!("{slug}@{version}")]);
    assert_eq!(state(&world).await, VersionState::Retired);
    // A second pass (or another node) finds nothing left to do.
    assert_eq!(world.service.apply_schedules().await.unwrap(), assay_service::ScheduleReport::default());
}

/// Deprecation reminders go out 30, 7 and 1 days before a sunset, each once however often the
/// dispatcher runs; a new event is fanned out to the partner's endpoint once.
#[tokio::test]
async fn deprecation_reminders_are_enqueued_once_per_threshold() {
    use assay_core::deprecation::{Schedule, Stability};
    use assay_service::DeprecationRequest;
    use assay_store::DeprecationTarget;
    use jiff::civil::date;

    let world = world(&[Capability::List]).await;
    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    let endpoint =
        world.service.register_endpoint(&world.acme, "https://acme.example/hook", &[]).await.unwrap().endpoint;
    assert!(matches!(
        world.service.register_endpoint(&world.acme, "https://acme.example/hook", &["order.paid".into()]).await,
        Err(ServiceError::Invalid { pointer, .. }) if pointer == "/events"
    ));
    // The server's own network is off limits.
    for inside in [
        "https://10.0.0.5/hook",
        "https://127.0.0.1:8420/v1",
        "http://localhost/hook",
        "https://[::1]/x",
        "https://169.254.169.254/",
    ] {
        assert!(
            matches!(world.service.register_endpoint(&world.acme, inside, &[]).await, Err(ServiceError::Invalid { pointer, .. }) if pointer == "/url"),
            "{inside} was accepted"
        );
    }
    let request = DeprecationRequest {
        target: DeprecationTarget::Listing { slug: slug.clone(), versions: "*".parse().unwrap() },
        stability: Stability::Alpha,
        schedule: Schedule {
            announced: date(2027, 1, 15),
            deprecated_from: date(2027, 1, 15),
            sunset: date(2027, 4, 1),
        },
        summary: "Retired".into(),
        action_required: "Move to the new app".into(),
    };
    world.service.schedule_deprecation(&world.acme, &request).await.unwrap();
    world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "ok").await.unwrap();
    // Fan-out: what happened since the endpoint was registered (the notice, the approval).
    let first = world.service.dispatch_webhooks().await.unwrap();
    let counts = world.store.message_counts(endpoint.id).await.unwrap();
    assert_eq!(counts.0 as usize, first.enqueued);
    assert!(first.enqueued >= 2, "{first:?}");
    assert_eq!(world.service.dispatch_webhooks().await.unwrap().enqueued, 0, "nothing twice");
    let at = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second();
    let reminders = |world: &World| {
        let store = world.store.clone();
        async move { store.message_counts(endpoint.id).await.unwrap().0 }
    };
    let before = reminders(&world).await;
    world.clock.0.store(at(date(2027, 3, 2)), Ordering::SeqCst); // 30 days to go
    world.service.dispatch_webhooks().await.unwrap();
    world.service.dispatch_webhooks().await.unwrap();
    assert_eq!(reminders(&world).await, before + 1, "the 30-day reminder, once");
    world.clock.0.store(at(date(2027, 3, 26)), Ordering::SeqCst); // 6 days to go
    world.service.dispatch_webhooks().await.unwrap();
    assert_eq!(reminders(&world).await, before + 2, "the 7-day reminder");
    world.clock.0.store(at(date(2027, 4, 1)), Ordering::SeqCst); // the sunset: no more reminders
    world.service.dispatch_webhooks().await.unwrap();
    assert_eq!(reminders(&world).await, before + 2);
}

/// The built-in pack as version 0.2.0, with `copy.shouting` raised from a warning to an error.
fn stricter_pack() -> assay_service::PackUpload {
    let manifest = assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", "version = \"0.2.0\"").replace(
        "component = \"rule_copy_shouting.wasm\"\n",
        "component = \"rule_copy_shouting.wasm\"\nseverity = \"error\"\n",
    );
    assay_service::PackUpload { manifest, files: assay_builtin::files() }
}

/// Submit example `name` as listing `slug` for `who`, review it and approve it.
async fn live(world: &World, who: &Principal, name: &str, slug: &str) {
    let manifest = example(name).replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\""));
    world.service.create_listing(who, slug, "Example").await.unwrap();
    let record = world.service.submit(who, slug, &manifest, Vec::new()).await.unwrap();
    world.service.review_next().await.unwrap().unwrap();
    world.service.decide(&world.reviewer, slug, &record.version, Action::Approve, "ok").await.unwrap();
}

async fn drain(world: &World) {
    while world.service.work_once("test").await.unwrap().rechecks > 0 {}
}

/// Shadow → blast radius → enforce with grace (notices to the affected partner) → at the
/// deadline the pack is active and the failing live version leaves the marketplace.
#[tokio::test]
async fn a_rule_pack_rolls_out_in_shadow_then_is_enforced_at_its_deadline() {
    let world = world(&[Capability::List]).await;
    live(&world, &world.acme, "clean", "acme-clean").await;
    live(&world, &world.globex, "shouting", "globex-loud").await;
    let refused = world.service.publish_pack(&world.acme, stricter_pack()).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let shadow = world.service.publish_pack(&world.admin, stricter_pack()).await.unwrap();
    assert_eq!((shadow.phase, shadow.jobs.total(), shadow.jobs.waiting), (assay_service::Phase::Shadow, 2, 2));
    let early = world.service.enforce_pack(&world.admin, "assay-builtin", "0.2.0", 14).await;
    assert!(matches!(&early, Err(ServiceError::NotReady(m)) if m.contains("0 of 2")), "{early:?}");
    drain(&world).await;
    let report = world.service.rollout(&world.reviewer, "assay-builtin", "0.2.0").await.unwrap();
    assert!(report.complete());
    assert_eq!((report.verdicts.pass, report.verdicts.fail), (1, 1));
    assert_eq!(report.by_rule, [("copy.shouting".to_owned(), 1)]);
    assert_eq!((report.affected[0].slug.as_str(), report.affected[0].partner.as_str()), ("globex-loud", "globex"));
    // Shadow blocks nothing.
    let loud = world.service.version(&world.globex, "globex-loud", "1.4.0").await.unwrap();
    assert_eq!(loud.record.state, VersionState::Approved);

    let enforced = world.service.enforce_pack(&world.admin, "assay-builtin", "0.2.0", 14).await.unwrap();
    assert_eq!(enforced.phase, assay_service::Phase::Grace);
    assert_eq!(enforced.pack.enforce_at, Some(1_800_000_000 + 14 * 86_400));
    let notices = world.service.notices(&world.globex, Some("globex-loud")).await.unwrap();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].summary.contains("copy.shouting") && notices[0].summary.contains("0.2.0"), "{notices:?}");
    assert!(world.service.notices(&world.acme, Some("acme-clean")).await.unwrap().is_empty(), "only the affected");
    // Before the deadline nothing applies; after it the pack is active and its verdicts apply.
    assert!(world.service.apply_schedules().await.unwrap().packs_applied.is_empty());
    world.clock.0.fetch_add(15 * 86_400, Ordering::SeqCst);
    assert_eq!(world.service.apply_schedules().await.unwrap().packs_applied, ["assay-builtin@0.2.0"]);
    assert!(world.service.apply_schedules().await.unwrap().packs_applied.is_empty(), "applied once");
    drain(&world).await;
    let loud = world.service.version(&world.globex, "globex-loud", "1.4.0").await.unwrap();
    assert_eq!(loud.record.state, VersionState::ChangesRequested, "the failing live version left the marketplace");
    let clean = world.service.version(&world.acme, "acme-clean", "1.4.0").await.unwrap();
    assert_eq!(clean.record.state, VersionState::Approved);
    let timeline = world.service.timeline(&world.globex, "globex-loud").await.unwrap();
    assert!(
        timeline.iter().any(|e| e.action == "version.enforce" && e.detail.contains("copy.shouting")),
        "{timeline:?}"
    );
    let active = world.service.rollout(&world.reviewer, "assay-builtin", "0.2.0").await.unwrap();
    assert_eq!((active.phase, active.verdicts.fail), (assay_service::Phase::Enforced, 1));
    assert_eq!(world.service.active_pack().await.unwrap().version.to_string(), "0.2.0");
    // The published pack's documentation was stored with it and is what the rules pages show.
    let catalogue = world.service.rule_catalogue().await.unwrap();
    assert_eq!((catalogue.pack.as_str(), catalogue.version.as_str()), ("assay-builtin", "0.2.0"));
    assert!(catalogue.rules.iter().all(|r| r.docs.is_some()), "every rule keeps its documentation");
    let shouting = world.service.rule_doc("copy.shouting").await.unwrap();
    assert_eq!(shouting.severity, assay_core::Severity::Error, "the pack's override, not the rule's default");
    assert!(shouting.docs.unwrap().starts_with("# copy.shouting"));
}

/// A platform API version entering deprecation re-checks the live listings that target it,
/// once, and flags them.
#[tokio::test]
async fn an_api_version_entering_deprecation_rechecks_the_listings_that_target_it() {
    let world = world(&[Capability::List]).await;
    live(&world, &world.acme, "clean", "acme-clean").await;
    let api = assay_core::Manifest::parse("listing.toml", &example("clean")).unwrap().manifest.api_version;
    let request = assay_service::DeprecationRequest {
        target: assay_store::DeprecationTarget::ApiVersion(api.clone()),
        stability: assay_core::deprecation::Stability::Beta,
        schedule: assay_core::deprecation::Schedule {
            announced: world.service.today(),
            deprecated_from: "2027-02-01".parse().unwrap(),
            sunset: "2027-12-01".parse().unwrap(),
        },
        summary: format!("API {api} is deprecated"),
        action_required: "Move to the current API version.".into(),
    };
    world.service.schedule_deprecation(&world.admin, &request).await.unwrap();
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 0, "not deprecated yet");
    world.clock.0.store(1_801_526_400, Ordering::SeqCst); // 2027-02-01
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 1);
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 0, "enqueued once");
    drain(&world).await;
    let (counts, dead) = world.service.queue(&world.reviewer).await.unwrap();
    assert_eq!((counts.waiting, counts.dead, dead.len()), (0, 0, 0));
    let rechecks = world.store.rechecks("acme-clean", "1.4.0").await.unwrap();
    assert_eq!(rechecks.len(), 1);
    let flagged = &rechecks[0].findings;
    assert!(flagged.contains("platform.api-version-deprecated") && flagged.contains("2027-12-01"), "{flagged}");
}

/// A partner ships a new version of its own check for a live version: it is validated, the
/// live version is re-checked with it (not with the checks it shipped with), and the verdict is
/// recorded without moving the version.
#[tokio::test]
async fn a_partner_check_update_rechecks_the_live_version_with_the_new_check() {
    let world = world(&[Capability::List, Capability::Checks]).await;
    live(&world, &world.acme, "clean", "acme-clean").await;
    let panics =
        || vec![UploadedCheck { name: "panic.wasm".into(), bytes: assay_builtin::artifact("hostile_panic.wasm") }];
    let other = world.service.update_checks(&world.globex, "acme-clean", panics()).await;
    assert!(matches!(other, Err(ServiceError::NotFound(_))), "{other:?}");
    let empty = world.service.update_checks(&world.acme, "acme-clean", Vec::new()).await;
    assert!(matches!(empty, Err(ServiceError::Invalid { .. })), "{empty:?}");
    let broken = vec![UploadedCheck { name: "broken.wasm".into(), bytes: b"\0asm\x0d\0\x01\0".to_vec() }];
    let refused = world.service.update_checks(&world.acme, "acme-clean", broken).await;
    assert!(matches!(refused, Err(ServiceError::InvalidPlugin { .. })), "{refused:?}");
    let (version, job) = world.service.update_checks(&world.acme, "acme-clean", panics()).await.unwrap();
    assert_eq!(version.version, "1.4.0");
    drain(&world).await;
    let rechecks = world.service.rechecks(&world.acme, "acme-clean", "1.4.0").await.unwrap();
    assert_eq!(rechecks.len(), 1);
    assert_eq!((rechecks[0].reason.as_str(), rechecks[0].verdict.as_str()), ("checks", "fail"), "{rechecks:?}");
    assert_eq!(rechecks[0].job, job.0);
    assert!(matches!(
        world.service.rechecks(&world.globex, "acme-clean", "1.4.0").await,
        Err(ServiceError::NotFound(_))
    ));
    let view = world.service.version(&world.acme, "acme-clean", "1.4.0").await.unwrap();
    assert_eq!(view.record.state, VersionState::Approved, "a re-check of new partner checks moves nothing");
    let timeline = world.service.timeline(&world.acme, "acme-clean").await.unwrap();
    assert!(timeline.iter().any(|e| e.action == "version.checks_update"), "{timeline:?}");
}

/// A sender that keeps every message it is given and answers 204: what receivers would get.
#[derive(Debug, Default)]
struct Inbox(std::sync::Mutex<Vec<(String, serde_json::Value)>>);

impl assay_service::Sender for Inbox {
    fn send(&self, url: &str, _headers: &[(&str, String)], body: &str) -> Result<u16, assay_service::SendFailure> {
        self.0.lock().unwrap().push((url.to_owned(), serde_json::from_str(body).unwrap()));
        Ok(204)
    }
}

/// Records every e-mail instead of sending it.
#[derive(Debug, Default)]
struct Mailbox(std::sync::Mutex<Vec<assay_service::OutgoingEmail>>);

impl assay_service::Mailer for Mailbox {
    fn send(&self, email: &assay_service::OutgoingEmail) -> Result<(), assay_service::SendFailure> {
        self.0.lock().unwrap().push(email.clone());
        Ok(())
    }
}

/// Every event type is sent for what really happens — a submission, a review, a decision, a
/// certification and its loss, a notice, a deprecation scheduled, reminded of, entered and
/// reached, an enforced pack, a test message — and each message validates against its event
/// type's JSON Schema in `docs/events/` (additional properties refused). The same events reach
/// the people they concern by e-mail, each kind to its audience.
#[tokio::test]
async fn every_event_type_is_sent_and_validates_against_its_schema() {
    use assay_core::deprecation::{Schedule, Stability};
    use assay_store::DeprecationTarget;
    let date = |y, m, d| jiff::civil::date(y, m, d);
    let at = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp().as_second();
    let mut world = world(&[Capability::List, Capability::Certify]).await;
    let inbox = Arc::new(Inbox::default());
    let config = assay_service::WebhookConfig { first_backoff_secs: 0, ..Default::default() };
    let mailbox = Arc::new(Mailbox::default());
    let email = assay_service::EmailConfig { public_url: "https://assay.test".into(), ..Default::default() };
    world.service = world.service.clone().with_webhooks(inbox.clone(), config).with_mailer(mailbox.clone(), email);
    for (address, org, role) in [
        ("olu@acme.test", Some("acme"), Role::Owner),
        ("vic@acme.test", Some("acme"), Role::Viewer),
        ("gus@globex.test", Some("globex"), Role::Owner),
        ("rey@platform.test", None, Role::Reviewer),
    ] {
        let partner = match org {
            Some(name) => Some(world.store.partner_by_name(name).await.unwrap().unwrap().id),
            None => None,
        };
        let user = assay_store::NewUser { email: address, name: address, partner, role };
        world.store.create_user("test", &user).await.unwrap();
    }
    let deliver = |world: &World| {
        let service = world.service.clone();
        async move {
            while service.dispatch_webhooks().await.unwrap() != assay_service::DispatchReport::default() {}
            service.dispatch_emails().await.unwrap();
        }
    };
    let acme = world.service.register_endpoint(&world.acme, "https://acme.example/hook", &[]).await.unwrap();
    let globex = world.service.register_endpoint(&world.globex, "https://globex.example/hook", &[]).await.unwrap();
    world.service.send_test_event(&world.acme, acme.endpoint.id).await.unwrap();
    // acme talks with a reviewer (who also notes something internally), waits on a hold, is
    // rejected, appeals, and a second reviewer overturns the rejection.
    let appeal_manifest = example("clean").replace("slug = \"acme-stock-sync\"", "slug = \"acme-appeal\"");
    world.service.create_listing(&world.acme, "acme-appeal", "Appeal").await.unwrap();
    let appealed =
        world.service.submit(&world.acme, "acme-appeal", &appeal_manifest, Vec::new()).await.unwrap().version;
    world.service.review_next().await.unwrap().unwrap();
    let service = &world.service;
    service.post_message(&world.reviewer, "acme-appeal", &appealed, "Which test account?", false).await.unwrap();
    service.post_message(&world.acme, "acme-appeal", &appealed, "reviewer@acme.test", false).await.unwrap();
    service.post_message(&world.reviewer, "acme-appeal", &appealed, "INTERNAL: check it", true).await.unwrap();
    service.place_hold(&world.reviewer, "acme-appeal", &appealed, "waiting for a test account").await.unwrap();
    service.release_hold(&world.reviewer, "acme-appeal", &appealed, "received").await.unwrap();
    service.decide(&world.reviewer, "acme-appeal", &appealed, Action::Reject, "no support page").await.unwrap();
    let filed = service.appeal(&world.acme, "acme-appeal", &appealed, "it is at /support").await.unwrap();
    let second = Principal { actor: "Rey <rey@platform.test> (platform staff)".into(), ..world.reviewer.clone() };
    let overturn = assay_service::appeals::AppealOutcome::Overturn;
    service.decide_appeal(&second, filed.id, overturn, "the page answers").await.unwrap();

    let (slug, version) = reviewed(&world, &world.acme, "clean").await;
    world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "ok").await.unwrap();
    world.service.decide(&world.reviewer, &slug, &version, Action::Certify, "audited").await.unwrap();
    world.service.move_version(&world.acme, &slug, &version, assay_service::PartnerMove::Release, "").await.unwrap();
    let revoke = assay_service::CapabilityRequest {
        grant: vec![],
        revoke: vec![Capability::Certify],
        suspend: None,
        rationale: "certification programme paused".into(),
    };
    world.service.decide_capabilities(&world.admin, "acme", &revoke).await.unwrap();
    let notice = assay_service::NoticeRequest {
        kind: assay_core::notice::NoticeKind::Fix,
        summary: "Stock counts round correctly.".into(),
        effective: date(2027, 1, 20),
        action_required: None,
        audience: assay_core::notice::Audience::Merchants,
    };
    world.service.publish_notice(&world.acme, Some(&slug), &notice).await.unwrap();
    let deprecation = assay_service::DeprecationRequest {
        target: DeprecationTarget::Listing { slug: slug.clone(), versions: "*".parse().unwrap() },
        stability: Stability::Alpha,
        schedule: Schedule {
            announced: date(2027, 1, 15),
            deprecated_from: date(2027, 1, 15),
            sunset: date(2027, 4, 1),
        },
        summary: "Replaced by the new app".into(),
        action_required: "Move to the new app".into(),
    };
    world.service.schedule_deprecation(&world.acme, &deprecation).await.unwrap();
    world.service.apply_schedules().await.unwrap(); // deprecated
    deliver(&world).await;
    world.clock.0.store(at(date(2027, 3, 2)), Ordering::SeqCst); // 30 days to the sunset
    deliver(&world).await;
    world.clock.0.store(at(date(2027, 4, 1)), Ordering::SeqCst); // the sunset
    world.service.apply_schedules().await.unwrap(); // retired

    // An enforced pack sends globex's failing live version back.
    live(&world, &world.globex, "shouting", "globex-loud").await;
    world.service.publish_pack(&world.admin, stricter_pack()).await.unwrap();
    drain(&world).await;
    world.service.enforce_pack(&world.admin, "assay-builtin", "0.2.0", 14).await.unwrap();
    world.clock.0.fetch_add(15 * 86_400, Ordering::SeqCst);
    world.service.apply_schedules().await.unwrap();
    drain(&world).await;
    deliver(&world).await;
    // globex asks for an exception to one of its findings; a reviewer grants it.
    let loud = world.store.listing("globex-loud").await.unwrap().unwrap().versions[0].0.clone();
    let view = world.service.version(&world.globex, "globex-loud", &loud).await.unwrap();
    let rule = view.findings.first().expect("shouting copy is reported").finding.rule_id.clone();
    let ask = assay_service::exceptions::ExceptionRequest {
        rule_id: rule,
        versions: None,
        justification: "the brand is written in capitals".into(),
        expires_at: world.clock.now() + 10 * 86_400,
    };
    let asked = world.service.request_exception(&world.globex, "globex-loud", &loud, &ask).await.unwrap();
    let grant = assay_service::exceptions::ExceptionVerdict::Grant {
        versions: None,
        expires_at: None,
        rationale: "a registered trademark".into(),
    };
    world.service.decide_exception(&world.reviewer, asked.id, &grant).await.unwrap();
    let withdraw = assay_service::PartnerMove::Withdraw;
    world.service.move_version(&world.globex, "globex-loud", &loud, withdraw, "superseded").await.unwrap();
    deliver(&world).await;
    // Four days on, the exception lapses in six: a reminder, once.
    world.clock.0.fetch_add(4 * 86_400, Ordering::SeqCst);
    deliver(&world).await;
    deliver(&world).await;

    let schemas = format!("{}/../../docs/events", env!("CARGO_MANIFEST_DIR"));
    let received = inbox.0.lock().unwrap().clone();
    let mut seen = std::collections::BTreeSet::new();
    for (url, message) in &received {
        let event = message["type"].as_str().unwrap();
        let path = format!("{schemas}/{event}.schema.json");
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(message).map(|e| format!("{}: {e}", e.instance_path)).collect();
        assert!(errors.is_empty(), "{event} to {url} does not match {path}:\n{}\n{message:#}", errors.join("\n"));
        // The payload links to the API objects it names.
        if let Some(links) = message["data"]["links"].as_object() {
            assert!(links.values().all(|l| l.as_str().is_some_and(|l| l.starts_with("/v1/"))), "{message}");
        }
        seen.insert(event.to_owned());
    }
    let all: std::collections::BTreeSet<String> =
        assay_api::events::EVENTS.iter().map(|(event, ..)| (*event).to_owned()).collect();
    assert_eq!(seen, all, "every event type is sent and checked");
    // Each partner hears of its own listings, and of what concerns every partner.
    let to_globex: Vec<&str> =
        received.iter().filter(|(url, _)| url.contains("globex")).map(|(_, m)| m["type"].as_str().unwrap()).collect();
    assert!(to_globex.contains(&"listing.version.enforced"), "{to_globex:?}");
    assert!(!to_globex.contains(&"listing.version.certified"), "acme's events stay acme's: {to_globex:?}");
    let _ = globex;
    let notes = received.iter().filter(|(_, m)| m.to_string().contains("INTERNAL"));
    assert_eq!(notes.count(), 0, "internal notes are never sent to partners");

    // E-mail: each person hears of what concerns them, each kind once per event.
    let mails = mailbox.0.lock().unwrap().clone();
    let kinds_to = |address: &str| -> std::collections::BTreeSet<String> {
        mails.iter().filter(|m| m.to == address).map(|m| m.kind.clone()).collect()
    };
    let set = |kinds: &[&str]| kinds.iter().map(|k| (*k).to_owned()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        kinds_to("olu@acme.test"),
        set(&[
            "appeal",
            "capability",
            "certification",
            "decision",
            "deprecation",
            "hold",
            "message",
            "notice",
            "release",
            "verdict"
        ]),
        "{mails:#?}"
    );
    assert_eq!(kinds_to("vic@acme.test"), kinds_to("olu@acme.test"), "every member of the partner");
    // globex hears of its own version (its review, approval, the enforcement notice and the
    // version sent back), never of acme's certification or capabilities.
    let globex_kinds = kinds_to("gus@globex.test");
    assert!(globex_kinds.is_superset(&set(&["decision", "notice", "verdict"])), "{globex_kinds:?}");
    assert!(globex_kinds.is_disjoint(&set(&["capability", "certification"])), "{globex_kinds:?}");
    let enforced = mails.iter().filter(|m| m.to == "gus@globex.test" && m.subject.contains("enforced rule pack"));
    assert_eq!(enforced.count(), 1, "{mails:#?}");
    assert_eq!(kinds_to("rey@platform.test"), set(&["appeal", "exception", "message", "review_queue"]));
    assert!(mails.iter().all(|m| !m.content.paragraphs.concat().contains("INTERNAL")), "{mails:#?}");
    assert!(globex_kinds.contains("exception"), "its exception was granted: {globex_kinds:?}");
    let lapsing: Vec<&str> = mails.iter().filter(|m| m.subject.contains("lapses on")).map(|m| m.to.as_str()).collect();
    assert_eq!(lapsing, ["gus@globex.test"], "one reminder, to the exception's partner: {mails:#?}");
    let acme_deprecation: Vec<&str> = mails
        .iter()
        .filter(|m| m.to == "olu@acme.test" && m.kind == "deprecation")
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(acme_deprecation.len(), 4, "scheduled, deprecated, 30 days to go, retired: {acme_deprecation:?}");
    assert!(acme_deprecation.iter().any(|s| s.contains("is sunset in 30 days")), "{acme_deprecation:?}");
    let lost = mails.iter().find(|m| m.to == "olu@acme.test" && m.subject.contains("no longer certified")).unwrap();
    assert!(lost.content.paragraphs[0].contains("certification programme paused"), "{lost:#?}");
    let capability = mails.iter().find(|m| m.to == "olu@acme.test" && m.kind == "capability").unwrap();
    assert!(
        capability.content.facts.iter().any(|(label, value)| label == "Before" && value.contains("certify")),
        "{capability:#?}"
    );
    for mail in &mails {
        let link = mail.content.unsubscribe.as_deref().unwrap_or_default();
        assert!(link.starts_with("https://assay.test/unsubscribe/unsub_"), "{mail:#?}");
        assert!(link.ends_with(&format!("?kind={}", mail.kind)), "{mail:#?}");
        if let Some((_, url)) = &mail.content.action {
            assert!(url.starts_with("https://assay.test/"), "{mail:#?}");
        }
    }
    // Nothing is sent twice: another pass finds nothing new.
    let again = world.service.dispatch_emails().await.unwrap();
    assert_eq!((again.enqueued, again.sent), (0, 0), "{again:?}");
}

/// A lapsed exception re-opens its finding: the scheduler re-checks the live versions it
/// covered, once, and the re-check counts the finding again.
#[tokio::test]
async fn a_lapsed_exception_rechecks_the_versions_it_covered_once() {
    use assay_service::exceptions::{ExceptionRequest, ExceptionVerdict};
    let world = world(&[Capability::List]).await;
    let (slug, version) = reviewed(&world, &world.acme, "shouting").await;
    world.service.decide(&world.reviewer, &slug, &version, Action::Approve, "ok").await.unwrap();
    let ask = ExceptionRequest {
        rule_id: "copy.shouting".into(),
        versions: None,
        justification: "the CDN moves in March".into(),
        expires_at: world.clock.now() + 5 * 86_400,
    };
    let asked = world.service.request_exception(&world.acme, &slug, &version, &ask).await.unwrap();
    let grant = ExceptionVerdict::Grant { versions: None, expires_at: None, rationale: "booked".into() };
    world.service.decide_exception(&world.reviewer, asked.id, &grant).await.unwrap();
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 0, "it is still live");
    world.clock.0.fetch_add(6 * 86_400, Ordering::SeqCst);
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 1);
    assert_eq!(world.service.apply_schedules().await.unwrap().rechecks, 0, "once per exception");
    drain(&world).await;
    let rechecks = world.service.rechecks(&world.acme, &slug, &version).await.unwrap();
    let lapsed = rechecks.iter().find(|r| r.reason == "exception-lapsed").unwrap_or_else(|| panic!("{rechecks:?}"));
    assert!(lapsed.findings.contains("copy.shouting"), "the finding counts again: {lapsed:?}");
}
