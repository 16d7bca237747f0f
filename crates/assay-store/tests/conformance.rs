//! The conformance suite: every store operation, against SQLite always and against PostgreSQL
//! when `ASSAY_TEST_POSTGRES_URL` names a server (CI sets it; `.ci/run` shows the value). Each
//! case gets a fresh database.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::time::Duration;

use assay_core::integration::{CallOutcome, PlatformCall};
use assay_core::{CheckOutcome, CheckRun, Finding, ResourceUsage, Severity, Transition, Verdict, VersionState};
use assay_store::audit::{self, Checkpoint};
use assay_store::{
    Attempt, Backend, Capability, ClaimedRecheck, HealthPolicy, JobFate, NewCheck, NewPack, NewWaiver, PackMode,
    RecheckResult, ReviewRecord, Role, Store, StoreError, Submission, TokenStatus,
};
use sqlx::{AssertSqlSafe, Connection, Executor};

const POSTGRES_VAR: &str = "ASSAY_TEST_POSTGRES_URL";

/// A fresh store and what it takes to clean it up.
struct Fresh {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

async fn backends() -> Vec<Fresh> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_data_dir(dir.path()).await.unwrap();
    assert_eq!(sqlite.backend(), Backend::Sqlite);
    let mut out = vec![Fresh { store: sqlite, _dir: Some(dir), postgres: None }];
    if let Ok(admin) = std::env::var(POSTGRES_VAR) {
        sqlx::any::install_default_drivers();
        let name = format!("assay_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{POSTGRES_VAR} must end with /DATABASE"),
        };
        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.backend(), Backend::Postgres);
        out.push(Fresh { store, _dir: None, postgres: Some((admin, name)) });
    } else if std::env::var_os("CI").is_some() {
        panic!("CI must set {POSTGRES_VAR} so the conformance suite runs against PostgreSQL");
    }
    out
}

async fn cleanup(fresh: Fresh) {
    fresh.store.close().await;
    if let Some((admin, name)) = fresh.postgres {
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        conn.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
    }
}

/// `conformance!(name)` runs `async fn name(store: Store)` against every backend.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod every_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    for fresh in super::backends().await {
                        // A failing case still drops its PostgreSQL database.
                        let outcome = tokio::spawn(super::$case(fresh.store.clone())).await;
                        super::cleanup(fresh).await;
                        if let Err(e) = outcome {
                            std::panic::resume_unwind(e.into_panic());
                        }
                    }
                }
            )*
        }
    };
}

conformance!(
    partners_are_created_once,
    tokens_authenticate_by_hash_only,
    tokens_expire_and_are_revoked_with_their_sessions,
    listing_slugs_and_versions_are_unique,
    versions_move_through_the_lifecycle,
    concurrent_decisions_have_exactly_one_winner,
    an_edited_audit_row_breaks_the_chain,
    a_deleted_audit_row_breaks_the_chain,
    checkpoints_catch_a_truncated_tail,
    checkpoints_catch_a_rewritten_tail,
    the_newest_events_are_verified_alone,
    reopening_applies_no_migration_twice,
    a_review_is_recorded_with_its_transition_in_one_transaction,
    decisions_need_a_note_and_are_recorded,
    a_submission_enqueues_its_review_and_stores_checks_once,
    an_interrupted_review_is_claimed_again_and_finishes_once,
    waivers_are_recorded_with_approver_and_justification,
    listings_are_filtered_by_owner_and_the_queue_by_waiting_time,
    notices_and_deprecations_are_recorded_and_listed,
    the_webhook_outbox_enqueues_once_leases_and_logs_attempts,
    webhook_claims_are_fair_and_failing_endpoints_back_off_and_pause,
    the_email_outbox_enqueues_once_leases_retries_and_keeps_opt_outs,
    exception_requests_are_decided_once_and_a_grant_is_a_waiver,
    appeals_are_filed_and_heard_once_and_holds_are_one_at_a_time,
    a_claim_takes_only_an_unassigned_version_and_the_queue_counts_its_holds,
    a_late_completion_from_a_lapsed_lease_is_refused,
    rechecks_are_recorded_once_retried_with_backoff_then_dead_lettered,
    a_job_whose_workers_keep_dying_quarantines_its_components_then_dies,
    concurrent_workers_never_share_a_job,
    a_review_that_keeps_losing_its_workers_goes_to_a_reviewer,
    console_sessions_act_as_their_token_until_they_end,
    listings_and_the_queue_come_a_page_at_a_time,
    a_waiver_expired_early_is_audited_and_stays_expired,
    a_listings_timeline_comes_a_page_at_a_time_and_holds_only_its_own_events,
    a_rollout_enforces_applies_and_reads_back_its_rows,
    two_jobs_for_one_version_are_claimed_in_one_batch,
    invitations_are_accepted_once_by_their_address_until_they_expire,
    sign_ins_in_progress_are_taken_once,
    the_last_owner_stays_and_a_member_who_leaves_loses_their_tokens,
    a_rollback_moves_every_version_at_once_or_none,
    reviews_that_finish_together_are_recorded_in_one_transaction_each_on_its_own_terms,
    a_recorded_review_claims_the_next_in_its_own_transaction,
);

async fn invitations_are_accepted_once_by_their_address_until_they_expire(store: Store) {
    use assay_store::InvitationRefused;
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (secret, invitation) =
        store.create_invitation("admin", "Dev@Acme.test", Some(acme), Role::Developer, 3600).await.unwrap();
    assert_eq!((invitation.email.as_str(), invitation.organisation.as_str()), ("dev@acme.test", "acme"));
    assert_eq!(store.invitation(&secret).await.unwrap().unwrap().id, invitation.id);
    let hash = assay_store::token::hash(&secret);
    // Another address, then too late: refused, and nothing is used up.
    let other = store.accept_invitation(&hash, "eve@acme.test", "Eve", now).await.unwrap();
    assert_eq!(other, Err(InvitationRefused::OtherAddress("dev@acme.test".into())));
    let late = store.accept_invitation(&hash, "dev@acme.test", "Dev", now + 3601).await.unwrap();
    assert_eq!(late, Err(InvitationRefused::Expired));
    // Two at once: exactly one joins.
    let (a, b) = tokio::join!(
        store.accept_invitation(&hash, "dev@acme.test", "Dev", now),
        store.accept_invitation(&hash, "DEV@acme.test", "Dev", now),
    );
    let results = [a.unwrap(), b.unwrap()];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.contains(&Err(InvitationRefused::Used)), "{results:?}");
    let member = store.user_by_email("dev@acme.test").await.unwrap().unwrap();
    assert_eq!((member.role, member.partner), (Role::Developer, Some(acme)));
    let unknown = store.accept_invitation("nope", "dev@acme.test", "Dev", now).await.unwrap();
    assert_eq!(unknown, Err(InvitationRefused::Unknown));
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "member.join").count(), 1);
}

async fn sign_ins_in_progress_are_taken_once(store: Store) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let login = assay_store::PendingLogin {
        browser_hash: "b".into(),
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        next: "/queue".into(),
        invitation_hash: None,
    };
    store.begin_login("state-1", &login, now + 600).await.unwrap();
    store.begin_login("state-2", &login, now + 600).await.unwrap();
    assert_eq!(store.take_login("state-1", now).await.unwrap(), Some(login.clone()));
    assert_eq!(store.take_login("state-1", now).await.unwrap(), None, "a callback works once");
    assert_eq!(store.take_login("state-2", now + 601).await.unwrap(), None, "ten minutes at most");
}

async fn the_last_owner_stays_and_a_member_who_leaves_loses_their_tokens(store: Store) {
    use assay_store::{MemberChange, NewToken, NewUser, TokenOwner};
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let owner = NewUser { email: "olu@acme.test", name: "Olu", partner: Some(acme), role: Role::Owner };
    let olu = store.create_user("admin", &owner).await.unwrap();
    let again = store.create_user("admin", &owner).await;
    assert!(matches!(again, Err(StoreError::Exists(_))), "{again:?}");
    let last = store.change_member("admin", olu.id, MemberChange::Leave).await;
    assert!(matches!(last, Err(StoreError::LastOwner(ref org)) if org == "acme"), "{last:?}");
    let demoted = store.change_member("admin", olu.id, MemberChange::Role(Role::Viewer)).await;
    assert!(matches!(demoted, Err(StoreError::LastOwner(_))), "{demoted:?}");
    let dev = NewUser { email: "dev@acme.test", name: "Dev", partner: Some(acme), role: Role::Developer };
    let dev = store.create_user("admin", &dev).await.unwrap();
    let new =
        NewToken { name: "laptop", owner: TokenOwner::User(dev.id), scopes: Role::Developer.scopes(), ttl_secs: 3600 };
    let (secret, _) = store.issue_token("admin", &new).await.unwrap();
    let principal = store.authenticate(&secret).await.unwrap().unwrap();
    assert_eq!(principal.actor, "Dev <dev@acme.test> (acme)");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (session, _) = store.create_session(&secret, now, 600).await.unwrap().unwrap();
    // A promoted member acts with the new role at once; one who leaves, not at all.
    store.change_member("admin", dev.id, MemberChange::Role(Role::Owner)).await.unwrap();
    assert_eq!(store.authenticate(&secret).await.unwrap().unwrap().role, Role::Owner);
    store.change_member("admin", olu.id, MemberChange::Leave).await.unwrap();
    store.change_member("admin", dev.id, MemberChange::Role(Role::Developer)).await.unwrap_err();
    let left = store.change_member("admin", olu.id, MemberChange::Leave).await;
    assert!(matches!(left, Err(StoreError::NotFound(_))), "{left:?}");
    let dev_left = NewUser { email: "spare@acme.test", name: "Spare", partner: Some(acme), role: Role::Owner };
    store.create_user("admin", &dev_left).await.unwrap();
    store.change_member("admin", dev.id, MemberChange::Leave).await.unwrap();
    assert!(matches!(store.token_status(&secret, now).await.unwrap(), TokenStatus::OwnerLeft(_)));
    assert_eq!(store.session(&session, now).await.unwrap(), None, "their sessions end");
}

fn submission<'a>(slug: &'a str, version: &'a str) -> Submission<'a> {
    Submission { slug, version, manifest: "slug = \"acme-stock-sync\"", checks: &[] }
}

async fn submitted(store: &Store) -> (String, String) {
    let partner = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    store.create_listing("test", partner, "acme-stock-sync", "Acme Stock Sync").await.unwrap();
    store.submit_version("test", &submission("acme-stock-sync", "1.0.0")).await.unwrap();
    ("acme-stock-sync".into(), "1.0.0".into())
}

async fn partners_are_created_once(store: Store) {
    let a = store.ensure_partner("admin", "acme", &[Capability::List, Capability::Certify]).await.unwrap();
    let b = store.ensure_partner("admin", "acme", &[]).await.unwrap();
    assert_eq!(a, b);
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "partner.create").count(), 1);
}

async fn tokens_expire_and_are_revoked_with_their_sessions(store: Store) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let token = store.create_token_for("admin", Role::Reviewer, None, 3600).await.unwrap();
    let TokenStatus::Live(principal, _) = store.token_status(&token, now).await.unwrap() else { panic!("not live") };
    assert_eq!(principal.role, Role::Reviewer);
    // An hour later it has expired, and says when.
    let TokenStatus::Expired(at) = store.token_status(&token, now + 3601).await.unwrap() else { panic!("not expired") };
    assert!((now + 3599..=now + 3601).contains(&at), "{at}");
    // A typo fails the checksum before any lookup.
    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let typo = format!("{}{last}", &token[..token.len() - 1]);
    assert_eq!(store.token_status(&typo, now).await.unwrap(), TokenStatus::Unknown);

    // Revoked: it fails as revoked, its console session ends, and no new one opens.
    let (session, _) = store.create_session(&token, now, 600).await.unwrap().unwrap();
    let id = principal.token;
    assert!(store.revoke_token("admin", id).await.unwrap());
    assert!(!store.revoke_token("admin", id).await.unwrap(), "revoked once");
    assert!(matches!(store.token_status(&token, now).await.unwrap(), TokenStatus::Revoked(_)));
    assert_eq!(store.session(&session, now).await.unwrap(), None);
    assert_eq!(store.create_session(&token, now, 600).await.unwrap(), None);
    assert_eq!(store.audit_events().await.unwrap().last().unwrap().action, "token.revoke");
}

async fn tokens_authenticate_by_hash_only(store: Store) {
    let acme = store.ensure_partner("admin", "acme", &[Capability::Certify, Capability::List]).await.unwrap();
    let token = store.create_token("admin", Role::Owner, Some(acme)).await.unwrap();
    let principal = store.authenticate(&token).await.unwrap().unwrap();
    assert_eq!((principal.role, principal.partner), (Role::Owner, Some(acme)));
    assert!(principal.capabilities.contains(&Capability::Certify));
    let reviewer = store.create_token("admin", Role::Reviewer, None).await.unwrap();
    assert_eq!(store.authenticate(&reviewer).await.unwrap().unwrap().role, Role::Reviewer);
    // Wrong, truncated and foreign tokens are nobody.
    assert_eq!(store.authenticate(&token[..token.len() - 1]).await.unwrap(), None);
    assert_eq!(store.authenticate("Bearer nonsense").await.unwrap(), None);
    // The secret itself is nowhere in the audit log.
    assert!(
        store
            .audit_events()
            .await
            .unwrap()
            .iter()
            .all(|e| !e.detail.contains(&token[6..]) && !e.subject.contains(&token[6..]))
    );
    // A partner token without a partner is refused by the schema.
    assert!(store.create_token("admin", Role::Owner, None).await.is_err());
}

async fn listing_slugs_and_versions_are_unique(store: Store) {
    let (slug, version) = submitted(&store).await;
    let other = store.ensure_partner("admin", "globex", &[]).await.unwrap();
    assert!(matches!(store.create_listing("test", other, &slug, "Copycat").await, Err(StoreError::Exists(_))));
    assert!(matches!(store.submit_version("test", &submission(&slug, &version)).await, Err(StoreError::Exists(_))));
    assert!(matches!(
        store.submit_version("test", &submission("no-such-listing", "1.0.0")).await,
        Err(StoreError::NotFound(_))
    ));
    let stored = store.version(&slug, &version).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.revision, stored.certified), (VersionState::Submitted, 0, false));
    assert_eq!(stored.digest.len(), 64);
}

async fn versions_move_through_the_lifecycle(store: Store) {
    let (slug, version) = submitted(&store).await;
    let steps = [
        (VersionState::Submitted, Transition::StartChecks, VersionState::Checking),
        (VersionState::Checking, Transition::ChecksFinished(Verdict::Pass), VersionState::AwaitingReview),
        (VersionState::AwaitingReview, Transition::Approve, VersionState::Approved),
        (VersionState::Approved, Transition::Certify, VersionState::Approved),
        (VersionState::Approved, Transition::Publish, VersionState::Published),
    ];
    for (i, (from, transition, to)) in steps.into_iter().enumerate() {
        let record = store.transition("reviewer", &slug, &version, from, transition, "ok").await.unwrap();
        assert_eq!((record.state, record.revision), (to, i as i64 + 1));
    }
    assert!(store.version(&slug, &version).await.unwrap().unwrap().certified);
    // A transition the state machine forbids never reaches the database.
    let err = store.transition("reviewer", &slug, &version, VersionState::Published, Transition::Approve, "").await;
    assert!(matches!(err, Err(StoreError::Transition(_))), "{err:?}");
    // Naming a stale state is a conflict that reports the current one.
    let err = store.transition("reviewer", &slug, &version, VersionState::Approved, Transition::Publish, "").await;
    assert!(matches!(err, Err(StoreError::Conflict { current: VersionState::Published })), "{err:?}");
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3 + steps.len()));
}

async fn concurrent_decisions_have_exactly_one_winner(store: Store) {
    let (slug, version) = submitted(&store).await;
    store.transition("w", &slug, &version, VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
    store
        .transition("w", &slug, &version, VersionState::Checking, Transition::ChecksFinished(Verdict::Pass), "")
        .await
        .unwrap();
    let decisions = [Transition::Approve, Transition::Reject, Transition::RequestChanges];
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let (store, slug, version) = (store.clone(), slug.clone(), version.clone());
            tokio::spawn(async move {
                let decision = decisions[i % decisions.len()];
                store
                    .transition(
                        &format!("reviewer{i}"),
                        &slug,
                        &version,
                        VersionState::AwaitingReview,
                        decision,
                        "decided concurrently",
                    )
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(record) => winners.push(record.state),
            Err(StoreError::Conflict { current }) => {
                assert_ne!(current, VersionState::AwaitingReview);
                conflicts += 1;
            }
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    println!("{:?}: {} winner, {conflicts} conflicts", store.backend(), winners.len());
    assert_eq!((winners.len(), conflicts), (1, 23));
    let stored = store.version(&slug, &version).await.unwrap().unwrap();
    assert_eq!(stored.state, winners[0]);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(6));
}

async fn an_edited_audit_row_breaks_the_chain(store: Store) {
    submitted(&store).await;
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3));
    store.execute_unchecked("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2").await.unwrap();
    let broken = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("changed"), "{broken}");
}

async fn a_deleted_audit_row_breaks_the_chain(store: Store) {
    submitted(&store).await;
    store.execute_unchecked("DELETE FROM audit_events WHERE seq = 2").await.unwrap();
    let broken = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("missing"), "{broken}");
}

/// A checkpoint of the chain's head now (signatures are the service's; the store keeps them).
async fn checkpoint(store: &Store) -> i64 {
    let head = store.audit_head().await.unwrap().unwrap();
    let checkpoint =
        Checkpoint { seq: head.seq, hash: head.hash, at: head.at, key_id: "test".into(), signature: "-".into() };
    store.add_audit_checkpoint(&checkpoint).await.unwrap();
    store.add_audit_checkpoint(&checkpoint).await.unwrap(); // a second one at the same seq is a no-op
    assert_eq!(store.audit_checkpoints().await.unwrap(), vec![checkpoint]);
    head.seq
}

/// SQL the way an intruder would write it (the tamper helper takes static text).
fn intruder(sql: String) -> &'static str {
    Box::leak(sql.into_boxed_str())
}

async fn checkpoints_catch_a_truncated_tail(store: Store) {
    submitted(&store).await;
    let head = checkpoint(&store).await;
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3));
    // Cutting the newest event off leaves a chain consistent with itself: only the checkpoint
    // knows it was longer.
    store.execute_unchecked(intruder(format!("DELETE FROM audit_events WHERE seq = {head}"))).await.unwrap();
    assert_eq!(assay_store::audit::verify(&store.audit_events().await.unwrap()), Ok(2));
    for broken in [store.verify_audit().await.unwrap(), store.verify_audit_newest(1).await.unwrap()] {
        let broken = broken.unwrap_err();
        assert_eq!(broken.seq, head, "{broken}");
        assert!(broken.reason.contains("removed from the end"), "{broken}");
    }
}

async fn checkpoints_catch_a_rewritten_tail(store: Store) {
    submitted(&store).await;
    let head = checkpoint(&store).await;
    // Rewrite the newest event with a hash recomputed to fit: the chain still verifies itself.
    let event = store.audit_head().await.unwrap().unwrap();
    let forged =
        audit::hash(&event.prev_hash, event.seq, event.at, "intruder", &event.action, &event.subject, &event.detail);
    store
        .execute_unchecked(intruder(format!(
            "UPDATE audit_events SET actor = 'intruder', hash = '{forged}' WHERE seq = {head}"
        )))
        .await
        .unwrap();
    assert_eq!(assay_store::audit::verify(&store.audit_events().await.unwrap()), Ok(3));
    let broken = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, head, "{broken}");
    assert!(broken.reason.contains("rewritten"), "{broken}");
}

async fn the_newest_events_are_verified_alone(store: Store) {
    submitted(&store).await;
    assert_eq!(store.verify_audit_newest(2).await.unwrap(), Ok(2));
    assert_eq!(store.verify_audit_newest(100).await.unwrap(), Ok(3));
    // An edit older than the newest two is outside the window; the full walk finds it.
    store.execute_unchecked("UPDATE audit_events SET detail = 'edited' WHERE seq = 1").await.unwrap();
    assert_eq!(store.verify_audit_newest(1).await.unwrap(), Ok(1));
    assert_eq!(store.verify_audit().await.unwrap().unwrap_err().seq, 1);
    // The event anchoring the window must hash to what it says.
    store.execute_unchecked("UPDATE audit_events SET detail = 'edited' WHERE seq = 2").await.unwrap();
    assert_eq!(store.verify_audit_newest(1).await.unwrap().unwrap_err().seq, 2);
}

async fn reopening_applies_no_migration_twice(store: Store) {
    submitted(&store).await;
    let count = store.execute_unchecked("UPDATE versions SET digest = digest").await.unwrap();
    assert_eq!(count, 1);
    // Every migration file is recorded exactly once.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite")).unwrap().count();
    let applied = store.execute_unchecked("UPDATE _sqlx_migrations SET success = success").await.unwrap();
    assert_eq!(applied, files as u64);
}

/// Migration 0011 gives tokens issued before expiry existed 90 days from the upgrade; 0012 makes
/// them service accounts of their organisations.
#[tokio::test]
async fn tokens_issued_before_expiry_existed_expire_90_days_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    // A store as the release before token expiry left it: migrations up to 0010, one token.
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("assay.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/sqlite"
    )))
    .await
    .unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version <= 10).cloned().collect::<Vec<_>>().into();
    before.run(&pool).await.unwrap();
    let token = assay_store::token::generate();
    sqlx::query("INSERT INTO tokens (hash, role, created_at) VALUES ($1, 'reviewer', 0)")
        .bind(assay_store::token::hash(&token))
        .execute(&pool)
        .await
        .unwrap();
    let partner_token = assay_store::token::generate();
    sqlx::query("INSERT INTO partners (name, capabilities, created_at) VALUES ('acme', 'list', 0)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO tokens (hash, role, partner_id, created_at) VALUES ($1, 'partner', 1, 0)")
        .bind(assay_store::token::hash(&partner_token))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // The upgrade: it still works now, and until 90 days from now.
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(matches!(store.token_status(&token, now).await.unwrap(), TokenStatus::Live(..)));
    assert!(matches!(store.token_status(&token, now + 89 * 86_400).await.unwrap(), TokenStatus::Live(..)));
    let expired = store.token_status(&token, now + 91 * 86_400).await.unwrap();
    assert!(
        matches!(expired, TokenStatus::Expired(at) if (now + 90 * 86_400 - 60..=now + 90 * 86_400 + 60).contains(&at)),
        "{expired:?}"
    );
    // Migration 0012: tokens from before people existed are service accounts named `token-N`
    // with the scopes their role had (a partner's acts as a developer).
    let reviewer = store.authenticate(&token).await.unwrap().unwrap();
    assert_eq!((reviewer.role, reviewer.scopes.encode().as_str()), (Role::Reviewer, "read,review"));
    assert_eq!(reviewer.actor, "token-1 (service account, platform staff)");
    let partner = store.authenticate(&partner_token).await.unwrap().unwrap();
    assert_eq!((partner.role, partner.scopes.encode().as_str()), (Role::Developer, "read,submit"));
    assert_eq!(partner.actor, "token-2 (service account, acme)");
    assert_eq!(store.token_record(2).await.unwrap().unwrap().name, "token-2");
}

/// Opening the same data directory again finds its data and migrates nothing.
#[tokio::test]
async fn a_reopened_sqlite_store_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let (slug, version) = submitted(&store).await;
    store.close().await;
    let reopened = Store::open_data_dir(dir.path()).await.unwrap();
    assert_eq!(reopened.version(&slug, &version).await.unwrap().unwrap().state, VersionState::Submitted);
    assert_eq!(reopened.verify_audit().await.unwrap(), Ok(3));
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite")).unwrap().count();
    assert_eq!(
        reopened.execute_unchecked("UPDATE _sqlx_migrations SET success = success").await.unwrap(),
        files as u64
    );
}

fn run(check_id: &str, platform: bool, severities: &[Severity]) -> CheckRun {
    CheckRun {
        check_id: check_id.into(),
        digest: "ab".repeat(32),
        rule: None,
        outcome: if severities.is_empty() { CheckOutcome::Passed } else { CheckOutcome::Findings },
        message: None,
        findings: severities
            .iter()
            .enumerate()
            .map(|(i, &severity)| Finding {
                rule_id: check_id.into(),
                severity,
                message: format!("finding {i}"),
                pointer: format!("/scopes/{i}"),
                remediation: Some("fix it".into()),
                help_url: "https://docs.assay.dev/rules/x".into(),
            })
            .collect(),
        usage: ResourceUsage {
            wall_time: Duration::from_micros(12),
            fuel: None,
            peak_memory: 1 << 20,
            output_bytes: 90,
            log_bytes: 0,
            platform_calls: 0,
            bytes_out: 0,
        },
        logs: Vec::new(),
        platform,
        integration: false,
        transcript: Vec::new(),
    }
}

async fn a_review_is_recorded_with_its_transition_in_one_transaction(store: Store) {
    let (slug, version) = submitted(&store).await;
    let mut integration = run("partner.check", false, &[]);
    integration.integration = true;
    integration.usage.platform_calls = 2;
    integration.usage.bytes_out = 40;
    integration.transcript = vec![
        PlatformCall {
            operation: "get-shop".into(),
            scope: "read_shop".into(),
            outcome: CallOutcome::Ok,
            bytes_out: 0,
        },
        PlatformCall {
            operation: "register-webhook".into(),
            scope: "write_webhooks".into(),
            outcome: CallOutcome::Forbidden,
            bytes_out: 40,
        },
    ];
    let runs = [
        run("urls.https", true, &[Severity::Error, Severity::Warning]),
        integration,
        run("copy.shouting", true, &[Severity::Blocker]),
    ];
    let review = ReviewRecord {
        pack_name: "assay-builtin",
        pack_version: "0.1.0",
        runs: &runs,
        verdict: Verdict::Fail,
        job: None,
        seed: 2026,
        limits: r#"{"wall_time_ms":2000}"#,
        previous_version: None,
    };
    // Not checking yet: nothing is recorded.
    let early = store.record_review("worker", &slug, &version, &review).await;
    assert!(matches!(early, Err(StoreError::Conflict { current: VersionState::Submitted })), "{early:?}");
    assert_eq!(store.latest_review(&slug, &version).await.unwrap(), None);
    store.transition("worker", &slug, &version, VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
    let record = store.record_review("worker", &slug, &version, &review).await.unwrap();
    assert_eq!(record.state, VersionState::ChangesRequested);
    let stored = store.latest_review(&slug, &version).await.unwrap().unwrap();
    assert_eq!((stored.verdict, stored.pack_name.as_str(), stored.runs.len()), (Verdict::Fail, "assay-builtin", 3));
    assert_eq!(stored.seed, Some(2026));
    assert_eq!(stored.limits.as_deref(), Some(r#"{"wall_time_ms":2000}"#), "the limits come back as they went in");
    // Every run comes back as it went in: outcome, usage, transcript and its own findings, in order.
    for (back, sent) in stored.runs.iter().zip(&runs) {
        assert_eq!(back, sent);
    }
    // A second delivery of the same result finds the version moved on and records nothing.
    let again = store.record_review("worker", &slug, &version, &review).await;
    assert!(matches!(again, Err(StoreError::Conflict { current: VersionState::ChangesRequested })), "{again:?}");
    assert_eq!(store.latest_review(&slug, &version).await.unwrap().unwrap().runs, stored.runs);
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.last().unwrap().action, "version.review");
    assert!(events.last().unwrap().detail.contains("3 checks, 3 findings"), "{:?}", events.last());
    assert_eq!(store.verify_audit().await.unwrap(), Ok(5));
}

async fn decisions_need_a_note_and_are_recorded(store: Store) {
    let (slug, version) = submitted(&store).await;
    store.transition("w", &slug, &version, VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
    store
        .transition("w", &slug, &version, VersionState::Checking, Transition::ChecksFinished(Verdict::Pass), "")
        .await
        .unwrap();
    let silent =
        store.transition("token:2", &slug, &version, VersionState::AwaitingReview, Transition::Approve, "  ").await;
    assert!(matches!(silent, Err(StoreError::NoteRequired)), "{silent:?}");
    assert_eq!(store.version(&slug, &version).await.unwrap().unwrap().state, VersionState::AwaitingReview);
    store
        .transition(
            "token:2",
            &slug,
            &version,
            VersionState::AwaitingReview,
            Transition::Approve,
            "copy and scopes fine",
        )
        .await
        .unwrap();
    store
        .transition("token:3", &slug, &version, VersionState::Approved, Transition::Certify, "integration verified")
        .await
        .unwrap();
    let decisions = store.decisions(&slug, &version).await.unwrap();
    let decided: Vec<_> = decisions.iter().map(|d| (d.actor.as_str(), d.action.as_str(), d.note.as_str())).collect();
    assert_eq!(
        decided,
        [("token:2", "approve", "copy and scopes fine"), ("token:3", "certify", "integration verified")]
    );
    // Automation's transitions are not decisions.
    assert_eq!(decisions.len(), 2);
}

async fn a_submission_enqueues_its_review_and_stores_checks_once(store: Store) {
    let acme = store.ensure_partner("test", "acme", &[Capability::List, Capability::Checks]).await.unwrap();
    store.create_listing("test", acme, "acme-stock-sync", "Acme Stock Sync").await.unwrap();
    let component = b"\0asm not really, the store does not care".to_vec();
    let digest = "cd".repeat(32);
    let checks = [
        NewCheck { name: "smoke.wasm", digest: &digest, bytes: &component },
        NewCheck { name: "same-again.wasm", digest: &digest, bytes: &component },
    ];
    let submission = Submission { checks: &checks, ..submission("acme-stock-sync", "1.0.0") };
    store.submit_version("partner", &submission).await.unwrap();
    assert_eq!(store.pending_reviews().await.unwrap(), 1);
    // One row per digest, however many versions or positions ship it.
    assert_eq!(store.execute_unchecked("UPDATE plugins SET size = size").await.unwrap(), 1);
    let claimed = store.claim_review("worker", 60).await.unwrap().unwrap();
    assert_eq!((claimed.version.state, claimed.lease.attempt), (VersionState::Checking, 1));
    assert_eq!(claimed.checks.len(), 2);
    assert_eq!((claimed.checks[0].0.as_str(), &claimed.checks[0].2), ("smoke.wasm", &component));
    assert_eq!(claimed.previous_manifest, None);
    // Leased: nobody else gets it meanwhile; the worker's heartbeat renews the lease.
    assert!(store.claim_review("worker-2", 60).await.unwrap().is_none());
    assert!(store.extend_lease(claimed.lease, 60).await.unwrap());
    let review = ReviewRecord {
        pack_name: "assay-builtin",
        pack_version: "0.1.0",
        runs: &[],
        verdict: Verdict::Pass,
        job: Some(claimed.lease),
        seed: 2026,
        limits: "{}",
        previous_version: None,
    };
    let done = store.record_review("worker", "acme-stock-sync", "1.0.0", &review).await.unwrap();
    assert_eq!(done.state, VersionState::AwaitingReview);
    assert_eq!(store.pending_reviews().await.unwrap(), 0);
    assert!(!store.extend_lease(claimed.lease, 60).await.unwrap(), "a finished job has no lease to renew");
    assert_eq!(store.release_leases().await.unwrap(), 0, "a finished job holds no lease");
    assert!(store.claim_review("worker", 60).await.unwrap().is_none());
    let actions: Vec<_> = store.audit_events().await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions[actions.len() - 3..], ["version.submit", "version.start_checks", "version.review"]);
}

async fn an_interrupted_review_is_claimed_again_and_finishes_once(store: Store) {
    let (slug, version) = submitted(&store).await;
    let first = store.claim_review("worker", 3600).await.unwrap().unwrap();
    // The worker dies here. After a restart the lease is released and the review runs again.
    assert_eq!(store.release_leases().await.unwrap(), 1);
    let second = store.claim_review("worker", 3600).await.unwrap().unwrap();
    assert_eq!(
        (second.lease.job, second.lease.attempt, second.version.state),
        (first.lease.job, 2, VersionState::Checking)
    );
    let review = ReviewRecord {
        pack_name: "p",
        pack_version: "1.0.0",
        runs: &[],
        verdict: Verdict::Fail,
        job: Some(second.lease),
        seed: 2026,
        limits: "{}",
        previous_version: None,
    };
    store.record_review("worker", &slug, &version, &review).await.unwrap();
    // A late delivery from the first attempt finds the version moved on and records nothing.
    let late = ReviewRecord { job: Some(first.lease), ..review };
    assert!(matches!(
        store.record_review("worker", &slug, &version, &late).await,
        Err(StoreError::Conflict { current: VersionState::ChangesRequested })
    ));
    assert_eq!(store.execute_unchecked("UPDATE review_runs SET verdict = verdict").await.unwrap(), 1);
    assert_eq!(store.pending_reviews().await.unwrap(), 0);
    // A withdrawn version's job ends without a review.
    store.submit_version("partner", &submission(&slug, "1.1.0")).await.unwrap();
    store.transition("partner", &slug, "1.1.0", VersionState::Submitted, Transition::Withdraw, "").await.unwrap();
    assert!(store.claim_review("worker", 60).await.unwrap().is_none());
    assert_eq!(store.pending_reviews().await.unwrap(), 0);
}

async fn waivers_are_recorded_with_approver_and_justification(store: Store) {
    let (slug, _) = submitted(&store).await;
    let versions: semver::VersionReq = ">=1.0.0, <2.0.0".parse().unwrap();
    let new = NewWaiver { slug: &slug, rule_id: "urls.https", versions: &versions, justification: "", expires_at: 10 };
    assert!(matches!(store.create_waiver("token:2", &new).await, Err(StoreError::NoteRequired)));
    let granted =
        store.create_waiver("token:2", &NewWaiver { justification: "legacy CDN, fixed in 2.0", ..new }).await.unwrap();
    assert_eq!((granted.approver.as_str(), granted.waiver.expires_at), ("token:2", 10));
    let missing = NewWaiver { slug: "nope", justification: "x", ..new };
    assert!(matches!(store.create_waiver("token:2", &missing).await, Err(StoreError::NotFound(_))));
    let all = store.waivers(&slug).await.unwrap();
    assert_eq!(all, vec![granted]);
    assert!(all[0].waiver.covers("urls.https", &semver::Version::new(1, 2, 0), 9));
    assert_eq!(store.audit_events().await.unwrap().last().unwrap().action, "waiver.grant");
}

async fn listings_are_filtered_by_owner_and_the_queue_by_waiting_time(store: Store) {
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let globex = store.ensure_partner("test", "globex", &[Capability::List]).await.unwrap();
    store.create_listing("test", acme, "acme-a", "A").await.unwrap();
    store.create_listing("test", globex, "globex-b", "B").await.unwrap();
    for (slug, version) in [("globex-b", "1.0.0"), ("acme-a", "1.0.0"), ("acme-a", "1.1.0")] {
        store.submit_version("test", &submission(slug, version)).await.unwrap();
    }
    let mine = store.listings(Some(acme)).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0].versions,
        [("1.0.0".to_owned(), VersionState::Submitted), ("1.1.0".into(), VersionState::Submitted)]
    );
    assert_eq!(store.listings(None).await.unwrap().len(), 2);
    assert_eq!(store.listing("globex-b").await.unwrap().unwrap().partner_name, "globex");
    assert_eq!(store.listing("nope").await.unwrap(), None);
    // Reviews finish in submission order; the queue shows the longest-waiting first.
    while let Some(claimed) = store.claim_review("worker", 60).await.unwrap() {
        let review = ReviewRecord {
            pack_name: "p",
            pack_version: "1",
            runs: &[],
            verdict: Verdict::Pass,
            job: Some(claimed.lease),
            seed: 2026,
            limits: "{}",
            previous_version: None,
        };
        store.record_review("worker", &claimed.version.slug, &claimed.version.version, &review).await.unwrap();
    }
    let queue: Vec<_> =
        store.review_queue().await.unwrap().into_iter().map(|e| (e.slug, e.version, e.verdict)).collect();
    assert_eq!(queue.len(), 3);
    assert_eq!(queue[0], ("globex-b".into(), "1.0.0".into(), Some(Verdict::Pass)));
    assert_eq!(store.partner_capabilities(acme).await.unwrap(), vec![Capability::List]);
}

async fn notices_and_deprecations_are_recorded_and_listed(store: Store) {
    use assay_core::deprecation::{Schedule, Stability};
    use assay_core::notice::{Audience, NoticeKind};
    use assay_store::{DeprecationTarget, NewDeprecation, NewNotice};
    use jiff::civil::date;

    let (slug, _) = submitted(&store).await;
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let globex = store.ensure_partner("test", "globex", &[Capability::List]).await.unwrap();
    let notice = NewNotice {
        slug: Some(&slug),
        kind: NoticeKind::Feature,
        summary: "Restock forecasts",
        effective: date(2027, 1, 4),
        action_required: None,
        audience: Audience::Merchants,
    };
    let feature = store.create_notice("token:1", &notice).await.unwrap();
    assert_eq!(
        (feature.slug.as_deref(), feature.kind, feature.effective),
        (Some(slug.as_str()), NoticeKind::Feature, date(2027, 1, 4))
    );
    let platform = NewNotice { slug: None, kind: NoticeKind::Security, audience: Audience::Partners, ..notice.clone() };
    let platform = store.create_notice("token:2", &platform).await.unwrap();
    assert_eq!(platform.slug, None);
    let target = DeprecationTarget::Listing { slug: slug.clone(), versions: "<2.0.0".parse().unwrap() };
    let schedule =
        Schedule { announced: date(2026, 12, 1), deprecated_from: date(2027, 1, 1), sunset: date(2027, 12, 1) };
    let deprecation = NewDeprecation {
        target: &target,
        stability: Stability::Ga,
        schedule,
        notice: NewNotice {
            kind: NoticeKind::Deprecation,
            summary: "1.x is retired",
            effective: schedule.sunset,
            action_required: Some("Upgrade to 2.x"),
            ..notice.clone()
        },
    };
    let recorded = store.create_deprecation("token:1", &deprecation).await.unwrap();
    assert_eq!(
        (recorded.target.clone(), recorded.stability, recorded.schedule),
        (target.clone(), Stability::Ga, schedule)
    );
    let announcing = store.notice(recorded.notice_id).await.unwrap().unwrap();
    assert_eq!(
        (announcing.kind, announcing.action_required.as_deref()),
        (NoticeKind::Deprecation, Some("Upgrade to 2.x"))
    );
    let api = DeprecationTarget::ApiVersion("2026-04".into());
    let api = store
        .create_deprecation(
            "token:2",
            &NewDeprecation {
                target: &api,
                notice: NewNotice { slug: None, ..deprecation.notice.clone() },
                ..deprecation.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(api.target, DeprecationTarget::ApiVersion("2026-04".into()));
    assert_eq!(store.api_deprecations("2026-04").await.unwrap(), std::slice::from_ref(&api));
    assert!(store.api_deprecations_to_recheck("2026-12-31").await.unwrap().is_empty(), "not in effect yet");
    assert_eq!(store.api_deprecations_to_recheck("2027-01-01").await.unwrap(), [(api.id, "2026-04".to_owned())]);
    // Listed: newest first for notices, by sunset for deprecations.
    let listing = store.notices(Some(&slug), None).await.unwrap();
    assert_eq!(listing.iter().map(|n| n.id).collect::<Vec<_>>(), [recorded.notice_id, feature.id]);
    assert_eq!(store.notices(None, Some(acme)).await.unwrap().len(), 4, "acme's and the platform's");
    let others = store.notices(None, Some(globex)).await.unwrap();
    assert!(others.iter().all(|n| n.slug.is_none()), "another partner sees only platform notices: {others:?}");
    assert_eq!(store.deprecations(Some(&slug)).await.unwrap(), std::slice::from_ref(&recorded));
    assert_eq!(store.deprecations(None).await.unwrap().len(), 2);
    // Nothing for a listing that does not exist, and nothing half-written.
    let missing = NewDeprecation {
        notice: NewNotice { slug: Some("nope"), ..deprecation.notice.clone() },
        ..deprecation.clone()
    };
    assert!(matches!(store.create_deprecation("token:1", &missing).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.notices(None, Some(acme)).await.unwrap().len(), 4, "the refused deprecation left no notice");
    let actions: Vec<_> = store.audit_events().await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(
        actions.ends_with(&[
            "notice.publish".into(),
            "deprecation.schedule".into(),
            "notice.publish".into(),
            "deprecation.schedule".into()
        ]),
        "{actions:?}"
    );
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn the_webhook_outbox_enqueues_once_leases_and_logs_attempts(store: Store) {
    use assay_store::{AttemptOutcome, NewMessage};

    let (slug, _) = submitted(&store).await;
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let endpoint =
        store.create_endpoint("token:1", acme, "https://acme.example/hook", &["*".into()], "whsec_AAAA").await.unwrap();
    assert!(endpoint.wants("listing.version.decided"));
    assert_eq!(store.endpoints(None).await.unwrap(), std::slice::from_ref(&endpoint));
    assert_eq!(store.endpoints(Some(acme)).await.unwrap(), std::slice::from_ref(&endpoint));
    let (cursor, events) = store.audit_after_cursor(100).await.unwrap();
    assert_eq!(cursor, 0);
    assert!(events.iter().any(|e| e.subject == format!("listing:{slug}@1.0.0")));
    let last = events.last().unwrap().seq;
    let message = |msg_id: &str| NewMessage {
        endpoint: endpoint.id,
        msg_id: msg_id.into(),
        event_type: "listing.version.reviewed".into(),
        payload: "{}".into(),
    };
    assert_eq!(store.fan_out(0, last, &[message("msg_1")], 1_000).await.unwrap(), Some(1));
    // A second node with the same stale cursor writes nothing.
    assert_eq!(store.fan_out(0, last, &[message("msg_2")], 1_000).await.unwrap(), None);
    assert_eq!(store.audit_after_cursor(100).await.unwrap().0, last);
    // The same message id is stored once.
    assert_eq!(store.enqueue_messages(&[message("msg_1"), message("msg_3")], 1_000).await.unwrap(), 1);
    assert_eq!(store.message_counts(endpoint.id).await.unwrap(), (2, 0, 0));
    // Claimed messages are leased: not due again until the lease lapses.
    let none = std::collections::HashMap::new();
    let due = store.claim_due_messages(1_000, 60, 10, 8, &none).await.unwrap();
    assert_eq!(due.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["msg_1", "msg_3"]);
    assert_eq!(due[0].secrets, ["whsec_AAAA"]);
    assert!(store.claim_due_messages(1_059, 60, 10, 8, &none).await.unwrap().is_empty());
    let policy = HealthPolicy { max_endpoint_backoff_secs: 900, pause_after_secs: 0 };
    let attempt = |message: i64, status: Option<u16>, error: Option<&str>, outcome: AttemptOutcome| Attempt {
        message,
        endpoint: endpoint.id,
        status,
        error: error.map(str::to_owned),
        duration_ms: 5,
        outcome,
    };
    let failed = [
        attempt(due[0].id, Some(500), Some("the receiver answered 500"), AttemptOutcome::Retry { next_at: 1_030 }),
        attempt(due[1].id, None, Some("could not connect to the receiver"), AttemptOutcome::Failed),
    ];
    assert_eq!(store.record_attempts(&failed, 1_000, policy).await.unwrap(), []);
    // Two failures in a row: the endpoint backs off (2 s) and shows why.
    let health = store.endpoint(endpoint.id).await.unwrap().unwrap().health;
    assert_eq!((health.failures_in_a_row, health.failing_since, health.status()), (2, Some(1_000), "failing"));
    assert_eq!(health.last_error.as_deref(), Some("could not connect to the receiver"));
    let retried = store.claim_due_messages(1_030, 60, 10, 8, &none).await.unwrap();
    assert_eq!((retried.len(), retried[0].attempts), (1, 1));
    let delivered = [attempt(retried[0].id, Some(204), None, AttemptOutcome::Delivered)];
    store.record_attempts(&delivered, 1_031, policy).await.unwrap();
    assert_eq!(store.message_counts(endpoint.id).await.unwrap(), (0, 1, 1));
    let health = store.endpoint(endpoint.id).await.unwrap().unwrap().health;
    assert_eq!((health.failures_in_a_row, health.failing_since, health.last_success_at), (0, None, Some(1_031)));
    // A late result from a node whose lease lapsed is logged but does not reopen the message.
    let late = [attempt(retried[0].id, Some(500), Some("late"), AttemptOutcome::Retry { next_at: 1_100 })];
    store.record_attempts(&late, 1_040, policy).await.unwrap();
    assert_eq!(store.message_counts(endpoint.id).await.unwrap(), (0, 1, 1));
    let log = store.deliveries(endpoint.id, 10).await.unwrap();
    let rows: Vec<_> = log.iter().map(|d| (d.msg_id.as_str(), d.attempt, d.status, d.state.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("msg_1", 3, Some(500), "delivered"),
            ("msg_1", 2, Some(204), "delivered"),
            ("msg_3", 1, None, "failed"),
            ("msg_1", 1, Some(500), "delivered")
        ]
    );
    // A failed message sent again by hand gets its attempts back.
    assert!(store.redeliver("token:1", endpoint.id, "msg_3", 1_050).await.unwrap());
    assert!(!store.redeliver("token:1", endpoint.id, "msg_nope", 1_050).await.unwrap());
    let again = store.claim_due_messages(1_050, 60, 10, 8, &none).await.unwrap();
    assert_eq!((again.len(), again[0].msg_id.as_str(), again[0].attempts), (1, "msg_3", 0));
}

async fn webhook_claims_are_fair_and_failing_endpoints_back_off_and_pause(store: Store) {
    use assay_store::{AttemptOutcome, NewMessage};
    use std::collections::HashMap;

    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let add = |url: &'static str| {
        let store = store.clone();
        async move { store.create_endpoint("token:1", acme, url, &["*".into()], "whsec_AAAA").await.unwrap() }
    };
    let (noisy, quiet) = (add("https://noisy.example/hook").await, add("https://quiet.example/hook").await);
    let message = |endpoint: i64, i: usize| NewMessage {
        endpoint,
        msg_id: format!("msg_{i}"),
        event_type: "webhook.test".into(),
        payload: "{}".into(),
    };
    // Three hundred messages for one endpoint, then one for another.
    let backlog: Vec<_> = (0..300).map(|i| message(noisy.id, i)).collect();
    store.enqueue_messages(&backlog, 1_000).await.unwrap();
    store.enqueue_messages(&[message(quiet.id, 0)], 1_001).await.unwrap();
    // The quiet endpoint's first message comes with the noisy one's first, not after its 300.
    let due = store.claim_due_messages(1_001, 60, 4, 8, &HashMap::new()).await.unwrap();
    let endpoints: Vec<i64> = due.iter().map(|m| m.endpoint).collect();
    assert_eq!(endpoints.iter().filter(|e| **e == quiet.id).count(), 1, "{endpoints:?}");
    assert_eq!(endpoints.len(), 4);
    // No endpoint gets more than its share in flight, counting what this node is sending.
    let busy = HashMap::from([(noisy.id, 3)]);
    let more = store.claim_due_messages(1_001, 60, 10, 8, &busy).await.unwrap();
    assert_eq!(more.len(), 5, "8 in flight at most: 3 busy + 5");
    let busy = HashMap::from([(noisy.id, 8)]);
    assert!(store.claim_due_messages(1_001, 60, 10, 8, &busy).await.unwrap().is_empty());

    // Every attempt fails: the endpoint backs off 1, 2, 4 … s and is paused after the period.
    let policy = HealthPolicy { max_endpoint_backoff_secs: 900, pause_after_secs: 3_600 };
    let fail = |m: &assay_store::DueMessage| Attempt {
        message: m.id,
        endpoint: m.endpoint,
        status: Some(503),
        error: Some("the receiver answered 503".into()),
        duration_ms: 1,
        outcome: AttemptOutcome::Retry { next_at: 1_002 },
    };
    let noisy_due: Vec<Attempt> = due.iter().chain(&more).filter(|m| m.endpoint == noisy.id).map(fail).collect();
    let n = noisy_due.len() as i64;
    assert_eq!(store.record_attempts(&noisy_due, 1_001, policy).await.unwrap(), []);
    // Backing off: nothing is claimed for it until 1_001 + 2^(n-1) s (at most 900).
    let until = 1_001 + (1_i64 << (n - 1)).min(900);
    let claimed = store.claim_due_messages(until - 1, 60, 10, 8, &HashMap::new()).await.unwrap();
    assert!(claimed.iter().all(|m| m.endpoint != noisy.id), "the failing endpoint is backing off");
    let probe = store.claim_due_messages(until, 60, 1, 8, &HashMap::new()).await.unwrap();
    assert_eq!(probe.iter().map(|m| m.endpoint).collect::<Vec<_>>(), [noisy.id]);
    let paused = store.record_attempts(&[fail(&probe[0])], 1_001 + 3_600, policy).await.unwrap();
    assert_eq!(paused.len(), 1);
    assert_eq!((paused[0].endpoint, paused[0].partner), (noisy.id, acme));
    assert!(
        paused[0].reason.contains("paused automatically") && paused[0].reason.contains("503"),
        "{}",
        paused[0].reason
    );
    let health = store.endpoint(noisy.id).await.unwrap().unwrap().health;
    assert_eq!((health.status(), health.paused_at), ("paused", Some(1_001 + 3_600)));
    let events = store.audit_after_cursor(1_000).await.unwrap().1;
    assert!(
        events.iter().any(|e| e.action == "webhook.endpoint.pause" && e.subject == format!("endpoint:{}", noisy.id))
    );
    // Paused: nothing is claimed for it, however long it waits.
    let later = store.claim_due_messages(100_000, 60, 50, 50, &HashMap::new()).await.unwrap();
    assert!(later.iter().all(|m| m.endpoint != noisy.id));
    // Resumed: its messages go out now, its failures forgotten.
    store.set_endpoint_paused("token:1", noisy.id, None, 100_001).await.unwrap();
    let health = store.endpoint(noisy.id).await.unwrap().unwrap().health;
    assert_eq!((health.status(), health.failures_in_a_row), ("healthy", 0));
    assert_eq!(store.claim_due_messages(100_001, 60, 8, 8, &HashMap::new()).await.unwrap().len(), 8);

    // Rotation: both secrets sign during the grace period, then the new one alone.
    store.rotate_endpoint_secret("token:1", quiet.id, "whsec_BBBB", 2_000).await.unwrap();
    store.enqueue_messages(&[message(quiet.id, 1)], 1_500).await.unwrap();
    let signed = store.claim_due_messages(1_500, 60, 8, 8, &HashMap::new()).await.unwrap();
    let quiet_msg = signed.iter().find(|m| m.endpoint == quiet.id).unwrap();
    assert_eq!(quiet_msg.secrets, ["whsec_BBBB", "whsec_AAAA"]);
    store.enqueue_messages(&[message(quiet.id, 2)], 2_000).await.unwrap();
    let after = store.claim_due_messages(2_000, 60, 8, 8, &HashMap::new()).await.unwrap();
    assert_eq!(after.iter().find(|m| m.msg_id == "msg_2").unwrap().secrets, ["whsec_BBBB"]);
    // Deleting takes its messages and log with it; the audit log keeps that it was.
    store.delete_endpoint("token:1", quiet.id).await.unwrap();
    assert_eq!(store.endpoint(quiet.id).await.unwrap(), None);
    assert_eq!(store.message_counts(quiet.id).await.unwrap(), (0, 0, 0));
    assert!(matches!(store.delete_endpoint("token:1", quiet.id).await, Err(StoreError::NotFound(_))));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// `n` listings with an approved (live) version each; returns their slugs.
async fn live_listings(store: &Store, n: usize, checks: &[NewCheck<'_>]) -> Vec<String> {
    let partner = store.ensure_partner("test", "acme", &[Capability::List, Capability::Checks]).await.unwrap();
    let mut slugs = Vec::new();
    for i in 0..n {
        let slug = format!("live-{i:04}");
        store.create_listing("test", partner, &slug, "Live").await.unwrap();
        store.submit_version("partner", &Submission { checks, ..submission(&slug, "1.0.0") }).await.unwrap();
        let claimed = store.claim_review("worker", 60).await.unwrap().unwrap();
        let review = ReviewRecord {
            pack_name: "p",
            pack_version: "1.0.0",
            runs: &[],
            verdict: Verdict::Pass,
            job: Some(claimed.lease),
            seed: 2026,
            limits: "{}",
            previous_version: None,
        };
        store.record_review("worker", &slug, "1.0.0", &review).await.unwrap();
        store
            .transition("reviewer", &slug, "1.0.0", VersionState::AwaitingReview, Transition::Approve, "ok")
            .await
            .unwrap();
        slugs.push(slug);
    }
    slugs
}

fn pack<'a>(version: &'a str, components: &'a [NewCheck<'a>]) -> NewPack<'a> {
    NewPack { name: "platform", version, digest: "ab", manifest: "name = \"platform\"", components, docs: &[] }
}

fn result(claim: &ClaimedRecheck, verdict: Verdict, blocking: &str) -> RecheckResult {
    RecheckResult {
        lease: claim.lease,
        version: claim.version.id,
        pack: claim.pack,
        pack_name: "platform".into(),
        pack_version: "2.0.0".into(),
        verdict,
        blocking: blocking.into(),
        findings: "[]".into(),
        fuel: 1,
        enforce: false,
    }
}

async fn a_late_completion_from_a_lapsed_lease_is_refused(store: Store) {
    let (slug, version) = submitted(&store).await;
    // A lease of -1 s has lapsed the moment it is granted: the worker "died" at once.
    let first = store.claim_review("worker-1", -1).await.unwrap().unwrap();
    let second = store.claim_review("worker-2", 60).await.unwrap().unwrap();
    assert_eq!(second.lease.job, first.lease.job);
    assert!(second.lease.token > first.lease.token, "every claim has a new token");
    let review = |lease| ReviewRecord {
        pack_name: "p",
        pack_version: "1.0.0",
        runs: &[],
        verdict: Verdict::Pass,
        job: Some(lease),
        seed: 2026,
        limits: "{}",
        previous_version: None,
    };
    // The first worker comes back while the version is still `checking`: refused, nothing kept.
    assert!(matches!(
        store.record_review("worker-1", &slug, &version, &review(first.lease)).await,
        Err(StoreError::LeaseLost)
    ));
    assert_eq!(store.version(&slug, &version).await.unwrap().unwrap().state, VersionState::Checking);
    assert_eq!(store.execute_unchecked("UPDATE review_runs SET verdict = verdict").await.unwrap(), 0);
    assert!(!store.extend_lease(first.lease, 60).await.unwrap(), "a superseded claim cannot renew");
    // The current holder records the one verdict.
    let done = store.record_review("worker-2", &slug, &version, &review(second.lease)).await.unwrap();
    assert_eq!(done.state, VersionState::AwaitingReview);
    assert_eq!(store.execute_unchecked("UPDATE review_runs SET verdict = verdict").await.unwrap(), 1);
    assert_eq!(store.pending_reviews().await.unwrap(), 0);
}

async fn rechecks_are_recorded_once_retried_with_backoff_then_dead_lettered(store: Store) {
    let slugs = live_listings(&store, 3, &[]).await;
    let component = b"\0asm component".to_vec();
    let digest = "ef".repeat(32);
    let components = [NewCheck { name: "rule.wasm", digest: &digest, bytes: &component }];
    let docs = [("rule.md", "# rule.id: A rule\n\nWhat it checks.")];
    let (record, enqueued) =
        store.publish_pack("reviewer", &NewPack { docs: &docs, ..pack("2.0.0", &components) }).await.unwrap();
    assert_eq!((enqueued, record.mode), (3, PackMode::Shadow));
    assert!(matches!(store.publish_pack("reviewer", &pack("2.0.0", &components)).await, Err(StoreError::Exists(_))));
    // The components, then the documentation, as files by name.
    let (manifest, parts) = store.pack_contents(record.id).await.unwrap();
    let expected =
        vec![("rule.wasm".to_owned(), component.clone()), ("rule.md".to_owned(), docs[0].1.as_bytes().to_vec())];
    assert_eq!((manifest.as_str(), parts), ("name = \"platform\"", expected));
    // Batches, oldest first; a claimed job is nobody else's.
    let batch = store.claim_rechecks("w1", 60, 2, true).await.unwrap();
    assert_eq!(batch.iter().map(|c| c.version.slug.as_str()).collect::<Vec<_>>(), [&slugs[0], &slugs[1]]);
    assert!(batch.iter().all(|c| c.pack == Some(record.id) && c.reason == "pack"));
    let rest = store.claim_rechecks("w2", 60, 10, true).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(store.claim_rechecks("w3", 60, 10, true).await.unwrap().is_empty());
    let results = [result(&batch[0], Verdict::Pass, ""), result(&batch[1], Verdict::Fail, "urls.https")];
    let done = store.complete_rechecks("worker", &results).await.unwrap();
    assert_eq!((done.recorded, done.refused), (2, 0));
    // Delivered twice: the second delivery records nothing.
    let again = store.complete_rechecks("worker", &results).await.unwrap();
    assert_eq!((again.recorded, again.refused), (0, 2));
    let verdicts = store.recheck_verdicts(record.id, "pack").await.unwrap();
    assert_eq!((verdicts.pass, verdicts.fail), (1, 1));
    let affected = store.blast_radius(record.id, "pack", 10).await.unwrap();
    assert_eq!((affected[0].slug.as_str(), affected[0].blocking.as_str()), (slugs[1].as_str(), "urls.https"));
    assert_eq!(store.blast_by_rule(record.id, "pack").await.unwrap(), [("urls.https".to_owned(), 1)]);
    // The third fails: retried after a backoff, not before.
    let fate = store.fail_job(rest[0].lease, "the host panicked").await.unwrap();
    assert!(matches!(fate, JobFate::Retry(_)), "{fate:?}");
    assert!(store.claim_rechecks("w1", 60, 10, true).await.unwrap().is_empty(), "claimed during its backoff");
    let mut attempts = 1;
    loop {
        store.execute_unchecked("UPDATE jobs SET run_after = 0").await.unwrap();
        let claim = store.claim_rechecks("w1", 60, 10, true).await.unwrap().pop().unwrap();
        attempts += 1;
        assert_eq!(claim.lease.attempt, attempts);
        match store.fail_job(claim.lease, "the host panicked").await.unwrap() {
            JobFate::Retry(_) => continue,
            JobFate::Dead => break,
            JobFate::LeaseLost => panic!("the claim was live"),
        }
    }
    assert_eq!(attempts, assay_store::MAX_ATTEMPTS);
    let dead = store.dead_jobs(10).await.unwrap();
    assert_eq!(
        (dead.len(), dead[0].error.as_str(), dead[0].subject.as_str()),
        (1, "the host panicked", "live-0002@1.0.0")
    );
    let counts = store.job_counts(Some((record.id, "pack"))).await.unwrap();
    assert_eq!((counts.waiting, counts.running, counts.done, counts.dead), (0, 0, 2, 1));
    assert_eq!(store.stuck_jobs(0).await.unwrap(), 0);
}

async fn a_job_whose_workers_keep_dying_quarantines_its_components_then_dies(store: Store) {
    let component = b"\0asm crashing check".to_vec();
    let digest = "66".repeat(32);
    let checks = [NewCheck { name: "crash.wasm", digest: &digest, bytes: &component }];
    live_listings(&store, 1, &checks).await;
    let versions: Vec<i64> = store.live_versions().await.unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(store.enqueue_rechecks(&versions, "checks", "checks:1", None).await.unwrap(), 1);
    assert_eq!(
        store.enqueue_rechecks(&versions, "checks", "checks:1", None).await.unwrap(),
        0,
        "enqueued once per key"
    );
    // Each claim's worker dies at once (a lease of -1 s): the job is claimed alone each time.
    for _ in 0..assay_store::MAX_LOST {
        let claim = store.claim_rechecks("w", -1, 10, true).await.unwrap();
        assert_eq!(claim.len(), 1);
        assert_eq!(claim[0].checks.len(), 1, "not quarantined yet");
    }
    // The next loss quarantines the partner component; the job runs once more without it.
    let claim = store.claim_rechecks("w", -1, 10, true).await.unwrap().pop().unwrap();
    assert!(claim.checks.is_empty(), "the quarantined component is left out");
    assert_eq!(store.quarantined(&[&digest]).await.unwrap(), std::slice::from_ref(&digest));
    assert_eq!(
        store.quarantined(&["sha256:never-stored", &digest]).await.unwrap(),
        std::slice::from_ref(&digest),
        "one query finds the quarantined among several digests"
    );
    assert!(store.quarantined(&[]).await.unwrap().is_empty());
    // It keeps dying with nothing left to quarantine: dead, with the reason.
    for _ in 1..assay_store::MAX_LOST {
        assert_eq!(store.claim_rechecks("w", -1, 10, true).await.unwrap().len(), 1);
    }
    assert!(store.claim_rechecks("w", 60, 10, true).await.unwrap().is_empty(), "dead, not handed out");
    let dead = store.dead_jobs(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].error.contains("was lost 3 times"), "{}", dead[0].error);
    // A new version shipping the same component is reviewed without it.
    store.submit_version("partner", &Submission { checks: &checks, ..submission("live-0000", "1.1.0") }).await.unwrap();
    let review = store.claim_review("worker", 60).await.unwrap().unwrap();
    assert!(review.checks.is_empty());
    assert_eq!(review.quarantined, ["crash.wasm"]);
}

async fn concurrent_workers_never_share_a_job(store: Store) {
    live_listings(&store, 40, &[]).await;
    let (record, enqueued) = store.publish_pack("reviewer", &pack("3.0.0", &[])).await.unwrap();
    assert_eq!(enqueued, 40);
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_rechecks(&format!("w{w}"), 60, 3, true).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    let results: Vec<_> = batch.iter().map(|c| result(c, Verdict::Pass, "")).collect();
                    let done = store.complete_rechecks("worker", &results).await.unwrap();
                    assert_eq!((done.recorded, done.refused), (batch.len(), 0));
                    mine.extend(batch.iter().map(|c| c.lease.job.0));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let claimed = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!((claimed, all.len()), (40, 40), "every job claimed exactly once");
    assert_eq!(store.recheck_verdicts(record.id, "pack").await.unwrap().pass, 40);
}

async fn a_review_that_keeps_losing_its_workers_goes_to_a_reviewer(store: Store) {
    let (slug, version) = submitted(&store).await;
    // Every claim's worker dies at once (a lease of -1 s); the version ships no partner
    // component, so there is nothing to quarantine.
    for _ in 0..assay_store::MAX_LOST {
        assert!(store.claim_review("worker", -1).await.unwrap().is_some());
    }
    assert!(store.claim_review("worker", 60).await.unwrap().is_none(), "dead, not handed out");
    let v = store.version(&slug, &version).await.unwrap().unwrap();
    assert_eq!(v.state, VersionState::AwaitingReview, "not left in `checking`");
    let events = store.listing_events(&slug).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.action, "version.checks_finished");
    assert!(last.detail.contains("could not run") && last.detail.contains("lost 3 times"), "{}", last.detail);
    assert_eq!(store.dead_jobs(10).await.unwrap().len(), 1);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn console_sessions_act_as_their_token_until_they_end(store: Store) {
    let acme = store.ensure_partner("admin", "acme", &[Capability::List]).await.unwrap();
    let token = store.create_token("admin", Role::Owner, Some(acme)).await.unwrap();
    assert_eq!(store.create_session("assay_nope", 1_000, 60).await.unwrap(), None, "unknown tokens open nothing");
    let (session, principal) = store.create_session(&token, 1_000, 60).await.unwrap().unwrap();
    assert_ne!(session, token);
    assert_eq!(principal, store.authenticate(&token).await.unwrap().unwrap());
    assert_eq!(store.session(&session, 1_030).await.unwrap(), Some(principal.clone()));
    assert_eq!(store.session(&token, 1_030).await.unwrap(), None, "a token is not a session");
    assert_eq!(store.session(&session, 1_060).await.unwrap(), None, "expired at its end");
    let (second, _) = store.create_session(&token, 2_000, 60).await.unwrap().unwrap();
    assert!(store.end_session(&second).await.unwrap());
    assert_eq!(store.session(&second, 2_001).await.unwrap(), None, "ended at sign-out");
    assert!(!store.end_session(&second).await.unwrap(), "signing out twice ends nothing more");
}

async fn listings_and_the_queue_come_a_page_at_a_time(store: Store) {
    let acme = store.ensure_partner("admin", "acme", &[Capability::List]).await.unwrap();
    let globex = store.ensure_partner("admin", "globex", &[Capability::List]).await.unwrap();
    for i in 0..25 {
        let owner = if i % 5 == 0 { globex } else { acme };
        store.create_listing("test", owner, &format!("app-{i:02}"), "App").await.unwrap();
    }
    store.create_listing("test", acme, "beta", "Beta").await.unwrap();
    let slugs = |page: Vec<assay_store::ListingRecord>| page.into_iter().map(|l| l.slug).collect::<Vec<_>>();
    let first = slugs(store.listings_page(None, "", None, 10).await.unwrap());
    assert_eq!(first.first().map(String::as_str), Some("app-00"));
    assert_eq!(first.len(), 10);
    let next = slugs(store.listings_page(None, "", Some("app-09"), 10).await.unwrap());
    assert_eq!(next.first().map(String::as_str), Some("app-10"));
    let last = slugs(store.listings_page(None, "", Some("app-19"), 10).await.unwrap());
    assert_eq!(last, ["app-20", "app-21", "app-22", "app-23", "app-24", "beta"]);
    // A prefix, an owner, and both.
    assert_eq!(slugs(store.listings_page(None, "b", None, 10).await.unwrap()), ["beta"]);
    assert_eq!(store.listings_page(Some(globex), "", None, 100).await.unwrap().len(), 5);
    assert_eq!(slugs(store.listings_page(Some(globex), "app-1", None, 100).await.unwrap()), ["app-10", "app-15"]);
    assert_eq!(store.count_listings(Some(acme)).await.unwrap(), 21);
    assert_eq!(store.count_listings(None).await.unwrap(), 26);

    // The queue: longest-waiting first, then by id, a page at a time.
    for i in 0..5 {
        let slug = format!("app-{:02}", i * 5 + 1);
        store.submit_version("test", &submission(&slug, "1.0.0")).await.unwrap();
        store.transition("test", &slug, "1.0.0", VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
        store
            .transition("test", &slug, "1.0.0", VersionState::Checking, Transition::ChecksFinished(Verdict::Pass), "")
            .await
            .unwrap();
    }
    assert_eq!(store.count_waiting().await.unwrap(), 5);
    let page = store.review_queue_page(None, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let cursor = page.last().map(|e| (e.waiting_since, e.id));
    let rest = store.review_queue_page(cursor, 10).await.unwrap();
    assert_eq!(rest.len(), 3);
    let all: Vec<_> = page.iter().chain(&rest).map(|e| e.slug.clone()).collect();
    assert_eq!(all, store.review_queue().await.unwrap().into_iter().map(|e| e.slug).collect::<Vec<_>>());
}

async fn a_waiver_expired_early_is_audited_and_stays_expired(store: Store) {
    let (slug, _) = submitted(&store).await;
    let versions: semver::VersionReq = "^1".parse().unwrap();
    let new =
        NewWaiver { slug: &slug, rule_id: "urls.https", versions: &versions, justification: "CDN", expires_at: 5_000 };
    let waiver = store.create_waiver("token:2", &new).await.unwrap();
    assert!(matches!(
        store.expire_waiver("token:2", &slug, waiver.waiver.id, 1_000, " ").await,
        Err(StoreError::NoteRequired)
    ));
    let ended = store.expire_waiver("token:2", &slug, waiver.waiver.id, 1_000, "moved").await.unwrap();
    assert_eq!(ended.waiver.expires_at, 1_000);
    // Expiring again changes nothing: not the date, not the audit log.
    let events = store.audit_events().await.unwrap().len();
    let again = store.expire_waiver("token:2", &slug, waiver.waiver.id, 2_000, "again").await.unwrap();
    assert_eq!(again.waiver.expires_at, 1_000);
    assert_eq!(store.audit_events().await.unwrap().len(), events);
    let last = store.audit_events().await.unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.detail.as_str()), ("waiver.expire", "waiver 1; moved"));
    // Another listing's waiver id is not found.
    let acme = store.ensure_partner("test", "acme", &[]).await.unwrap();
    store.create_listing("test", acme, "other", "Other").await.unwrap();
    assert!(matches!(
        store.expire_waiver("token:2", "other", waiver.waiver.id, 1_000, "x").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_listings_timeline_comes_a_page_at_a_time_and_holds_only_its_own_events(store: Store) {
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    // Slugs that share `app`'s prefix, on both sides of `@` and `A` in byte order.
    let slugs = ["ap", "app", "app-2", "app2", "appa", "apps"];
    for slug in slugs {
        store.create_listing("test", acme, slug, "App").await.unwrap();
    }
    for patch in 0..4 {
        for slug in slugs {
            store.submit_version("test", &submission(slug, &format!("1.0.{patch}"))).await.unwrap();
        }
    }
    let seqs = |events: &[assay_store::audit::AuditEvent]| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    for slug in slugs {
        // Exactly the events about the listing and its versions, oldest first.
        let expected: Vec<_> = store
            .audit_events()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.subject == format!("listing:{slug}") || e.subject.starts_with(&format!("listing:{slug}@")))
            .collect();
        assert_eq!(expected.len(), 5, "{slug}: created, and four versions submitted");
        let timeline = store.listing_events(slug).await.unwrap();
        assert_eq!(seqs(&timeline), seqs(&expected), "{slug}");
        // Newest first, two a page, each page older than the last.
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let page = store.listing_events_page(slug, before, 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            pages.extend(seqs(&page));
        }
        assert_eq!(pages, seqs(&expected).into_iter().rev().collect::<Vec<_>>(), "{slug}");
    }
    assert!(store.listing_events_page("nope", None, 10).await.unwrap().is_empty());
}

async fn a_rollout_enforces_applies_and_reads_back_its_rows(store: Store) {
    let slugs = live_listings(&store, 2, &[]).await;
    let (record, _) = store.publish_pack("reviewer", &pack("4.0.0", &[])).await.unwrap();
    assert_eq!(store.pack("platform", "4.0.0").await.unwrap().as_ref(), Some(&record));
    assert_eq!(store.packs().await.unwrap(), std::slice::from_ref(&record));
    // Shadow verdicts, read back.
    let batch = store.claim_rechecks("w", 60, 10, true).await.unwrap();
    let results: Vec<_> = batch.iter().map(|c| result(c, Verdict::Fail, "urls.https")).collect();
    assert_eq!(store.complete_rechecks("worker", &results).await.unwrap().recorded, 2);
    assert_eq!(store.recheck_totals(record.id).await.unwrap(), (2, 2));
    let rechecks = store.rechecks(&slugs[0], "1.0.0").await.unwrap();
    assert_eq!(
        rechecks.iter().map(|r| (r.job, r.reason.as_str(), r.pack.as_str(), r.verdict.as_str())).collect::<Vec<_>>(),
        [(batch[0].lease.job.0, "pack", "platform@2.0.0", "fail")]
    );
    assert_eq!((rechecks[0].blocking.as_str(), rechecks[0].findings.as_str()), ("urls.https", "[]"));
    // A partner's new checks are stored by digest and re-checked.
    let bytes = b"\0asm checks".to_vec();
    let digest = "cd".repeat(32);
    let checks = [NewCheck { name: "mine.wasm", digest: &digest, bytes: &bytes }];
    let job = store.update_checks("partner", &slugs[1], "1.0.0", &checks).await.unwrap();
    assert_eq!(store.plugin_bytes(&digest).await.unwrap(), Some(bytes.clone()));
    assert_eq!(store.plugin_bytes("00").await.unwrap(), None);
    let claimed = store.claim_rechecks("w", 60, 10, true).await.unwrap();
    let update = claimed.iter().find(|c| c.lease.job == job).unwrap();
    assert_eq!((update.reason.as_str(), update.checks.clone()), ("checks", vec![("mine.wasm".to_owned(), digest)]));
    // Enforced with a deadline, due at it, applied once: then it is the active pack.
    assert_eq!(store.active_pack().await.unwrap(), None);
    let enforced = store.enforce_pack("reviewer", record.id, 1_000, &[]).await.unwrap().unwrap();
    assert_eq!((enforced.mode, enforced.enforce_at, enforced.applied_at), (PackMode::Enforce, Some(1_000), None));
    assert_eq!(store.enforce_pack("reviewer", record.id, 2_000, &[]).await.unwrap(), None, "enforced once");
    assert!(store.packs_due(999).await.unwrap().is_empty());
    assert_eq!(store.packs_due(1_000).await.unwrap(), std::slice::from_ref(&enforced));
    assert_eq!(store.apply_pack("scheduler", record.id, 1_000).await.unwrap(), Some(2));
    assert_eq!(store.apply_pack("scheduler", record.id, 1_000).await.unwrap(), None, "applied once");
    let active = store.active_pack().await.unwrap().unwrap();
    assert_eq!((active.id, active.applied_at), (record.id, Some(1_000)));
    // Imported live elsewhere: approved, and what the next version is compared against.
    let partner = store.ensure_partner("test", "acme", &[]).await.unwrap();
    assert_eq!(store.import_live("admin", partner, &[("imported", "3.1.0", "slug = \"imported\"")]).await.unwrap(), 1);
    let next = store.submit_version("partner", &submission("imported", "3.2.0")).await.unwrap();
    let previous = store.last_approved("imported", next.id).await.unwrap().unwrap();
    assert_eq!(
        (previous.version.as_str(), previous.state, previous.manifest.as_str(), previous.certified),
        ("3.1.0", VersionState::Approved, "slug = \"imported\"", false)
    );
    assert_eq!(store.last_approved("imported", previous.id).await.unwrap(), None);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn two_jobs_for_one_version_are_claimed_in_one_batch(store: Store) {
    let component = b"\0asm partner".to_vec();
    let digest = "ab".repeat(32);
    let slugs = live_listings(&store, 1, &[NewCheck { name: "mine.wasm", digest: &digest, bytes: &component }]).await;
    store.publish_pack("reviewer", &pack("5.0.0", &[])).await.unwrap();
    let version = store.version(&slugs[0], "1.0.0").await.unwrap().unwrap();
    assert_eq!(store.enqueue_rechecks(&[version.id.0], "api-deprecation", "api:2026-04", None).await.unwrap(), 1);
    // A pack re-check and an API-deprecation re-check of one version: both handed out, each
    // with the version and its partner checks.
    let batch = store.claim_rechecks("w", 60, 10, true).await.unwrap();
    assert_eq!(batch.iter().map(|c| c.reason.as_str()).collect::<Vec<_>>(), ["pack", "api-deprecation"]);
    for claim in &batch {
        assert_eq!(
            (claim.version.id, claim.checks.clone()),
            (version.id, vec![("mine.wasm".to_owned(), digest.clone())])
        );
    }
}

async fn the_email_outbox_enqueues_once_leases_retries_and_keeps_opt_outs(store: Store) {
    use assay_store::{AttemptOutcome, EmailAttempt, EmailCounts, NewEmail, NewUser};
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let ada = NewUser { email: "ada@acme.test", name: "Ada", partner: Some(acme), role: Role::Owner };
    let ada = store.create_user("admin", &ada).await.unwrap();
    // The unsubscribe token is made once and names its person.
    let token = store.unsubscribe_token(ada.id).await.unwrap();
    assert_eq!(store.unsubscribe_token(ada.id).await.unwrap(), token);
    assert_eq!(store.user_by_unsubscribe_token(&token).await.unwrap(), Some(ada.id));
    assert_eq!(store.user_by_unsubscribe_token("unsub_nobody").await.unwrap(), None);

    // Fan-out moves the cursor and enqueues in one transaction; a stale cursor writes nothing.
    let (cursor, events) = store.audit_after_email_cursor(100).await.unwrap();
    let last = events.last().expect("creating the user was audited").seq;
    let email = NewEmail {
        key: format!("audit_{last}_user_{}", ada.id.0),
        user: Some(ada.id),
        address: "ada@acme.test".into(),
        kind: "decision".into(),
        subject: "acme-x 1.0.0 was approved".into(),
        content: "{}".into(),
    };
    let now = 1_800_000_000;
    assert_eq!(store.fan_out_emails(cursor, last, std::slice::from_ref(&email), now).await.unwrap(), Some(1));
    assert_eq!(store.fan_out_emails(cursor, last, std::slice::from_ref(&email), now).await.unwrap(), None);
    assert!(store.audit_after_email_cursor(100).await.unwrap().1.is_empty());
    assert_eq!(store.enqueue_emails(&[email], now).await.unwrap(), 0, "one e-mail per key");

    // Claimed with a lease; retried after a failure; sent.
    let due = store.claim_due_emails(now, 60, 10).await.unwrap();
    assert_eq!((due.len(), due[0].attempts, due[0].kind.as_str()), (1, 0, "decision"));
    assert!(store.claim_due_emails(now, 60, 10).await.unwrap().is_empty(), "leased");
    let failed = EmailAttempt {
        message: due[0].id,
        error: Some("the relay did not answer".into()),
        duration_ms: 5,
        outcome: AttemptOutcome::Retry { next_at: now + 30 },
    };
    store.record_email_attempts(&[failed], now).await.unwrap();
    assert!(store.claim_due_emails(now + 29, 60, 10).await.unwrap().is_empty(), "backing off");
    let again = store.claim_due_emails(now + 30, 60, 10).await.unwrap();
    assert_eq!(again[0].attempts, 1);
    let sent = EmailAttempt { message: again[0].id, error: None, duration_ms: 3, outcome: AttemptOutcome::Delivered };
    store.record_email_attempts(&[sent], now + 30).await.unwrap();
    assert_eq!(store.email_counts().await.unwrap(), EmailCounts { pending: 0, sent: 1, failed: 0 });

    // Opt-outs are replaced whole and audited.
    store.set_email_opt_outs("ada", ada.id, &["decision".into(), "notice".into()], now).await.unwrap();
    assert_eq!(store.email_opt_outs(ada.id).await.unwrap(), ["decision", "notice"]);
    store.set_email_opt_outs("ada", ada.id, &[], now).await.unwrap();
    assert!(store.email_opt_outs(ada.id).await.unwrap().is_empty());
    let (_, events) = store.audit_after_cursor(1000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "user.email_preferences" && e.detail.contains("decision, notice")));
}

async fn a_claim_takes_only_an_unassigned_version_and_the_queue_counts_its_holds(store: Store) {
    let (slug, version) = submitted(&store).await;
    store.transition("w", &slug, &version, VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
    let pass = Transition::ChecksFinished(Verdict::Pass);
    let record = store.transition("w", &slug, &version, VersionState::Checking, pass, "").await.unwrap();
    // Eight reviewers claim it at once: one has it, the others are told who.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, slug, version) = (store.clone(), slug.clone(), version.clone());
            tokio::spawn(async move {
                let me = format!("reviewer{i}");
                store.assign_review(&me, &slug, &version, &me, false, 10).await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let holder = store.assignee(&slug, &version).await.unwrap().unwrap();
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.to_string().contains(&holder)), "{results:?}");
    // Claiming it again is a no-op for its holder; a reviewer's assignment takes it over.
    store.assign_review(&holder, &slug, &version, &holder, false, 11).await.unwrap();
    store.assign_review("lead", &slug, &version, "Sam", true, 12).await.unwrap();
    assert_eq!(store.assignee(&slug, &version).await.unwrap().as_deref(), Some("Sam"));

    // The queue carries the assignee, the open hold and the time held since it started waiting.
    let waiting_since = store.review_queue().await.unwrap()[0].waiting_since;
    store.place_hold("Sam", &slug, &version, "first", waiting_since + 10).await.unwrap();
    store.release_hold("Sam", &slug, &version, "answered", waiting_since + 70).await.unwrap();
    store.place_hold("Sam", &slug, &version, "second", waiting_since + 100).await.unwrap();
    let (entry, before, waiting) = store.queue_place(record.id).await.unwrap().unwrap();
    assert_eq!((before, waiting), (0, 1));
    assert_eq!(entry.assignee.as_deref(), Some("Sam"));
    assert_eq!(entry.hold, Some(("second".to_owned(), waiting_since + 100)));
    assert_eq!((entry.held_secs, entry.held_for(waiting_since + 130)), (60, 90));
    assert_eq!(store.unassign_review("Sam", &slug, &version).await.unwrap().as_deref(), Some("Sam"));
    assert_eq!(store.unassign_review("Sam", &slug, &version).await.unwrap(), None);
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "version.assign").count(), 2, "a claim and a takeover");
}

async fn appeals_are_filed_and_heard_once_and_holds_are_one_at_a_time(store: Store) {
    use assay_core::appeal::AppealState;
    use assay_store::AppealFilter;
    let (slug, version) = submitted(&store).await;
    store.transition("w", &slug, &version, VersionState::Submitted, Transition::StartChecks, "").await.unwrap();
    let pass = Transition::ChecksFinished(Verdict::Pass);
    store.transition("w", &slug, &version, VersionState::Checking, pass, "").await.unwrap();

    // Messages: internal notes only when asked for, and off the listing's timeline.
    store.post_message("Rita", &slug, &version, true, false, "Which account?", 10).await.unwrap();
    store.post_message("Ada", &slug, &version, false, false, "reviewer@acme.test", 11).await.unwrap();
    store.post_message("Rita", &slug, &version, true, true, "INTERNAL odd vault", 12).await.unwrap();
    let partner_view = store.messages(&slug, &version, false).await.unwrap();
    assert_eq!(
        partner_view.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["Which account?", "reviewer@acme.test"]
    );
    let staff_view = store.messages(&slug, &version, true).await.unwrap();
    assert!(staff_view[2].internal && staff_view[2].staff && staff_view[2].at == 12, "{staff_view:?}");
    let timeline = store.listing_events(&slug).await.unwrap();
    assert!(timeline.iter().all(|e| !e.detail.contains("INTERNAL")), "{timeline:?}");
    assert!(store.post_message("Ada", &slug, "9.9.9", false, false, "x", 13).await.is_err());

    // Holds: one at a time, released once, kept with their spans.
    let hold = store.place_hold("Rita", &slug, &version, "waiting for a test account", 20).await.unwrap();
    assert!(matches!(store.place_hold("Rita", &slug, &version, "again", 21).await, Err(StoreError::Exists(_))));
    let released = store.release_hold("Sam", &slug, &version, "received", 50).await.unwrap().unwrap();
    assert_eq!((released.id, released.held_for(99)), (hold.id, 30));
    assert_eq!(store.release_hold("Sam", &slug, &version, "again", 60).await.unwrap(), None);
    assert_eq!(store.holds(&slug, &version).await.unwrap().len(), 1);
    assert_eq!(store.hold(hold.id).await.unwrap().unwrap().released, Some(("Sam".into(), 50)));

    // A rejection appealed once; eight hearings at once, one winner, and the overturn approves.
    store
        .transition("Rita", &slug, &version, VersionState::AwaitingReview, Transition::Reject, "parked domain")
        .await
        .unwrap();
    let decision = store.last_decision(&slug, &version).await.unwrap().unwrap();
    assert_eq!(
        (decision.actor.as_str(), decision.action.as_str(), decision.to_state.as_str()),
        ("Rita", "reject", "rejected")
    );
    let id = store.file_appeal("Ada", &slug, &version, decision.id, "it answers now", 100).await.unwrap();
    assert!(matches!(
        store.file_appeal("Ada", &slug, &version, decision.id, "again", 101).await,
        Err(StoreError::Exists(_))
    ));
    let filed = store.appeal(id).await.unwrap().unwrap();
    assert_eq!(
        (filed.state, filed.decided_by.as_str(), filed.partner_name.as_str()),
        (AppealState::Open, "Rita", "acme")
    );
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, overturn) = (store.clone(), i % 2 == 1);
            tokio::spawn(async move { store.decide_appeal(&format!("Sam{i}"), id, overturn, "heard", 200).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().filter(|o| o.is_err()).all(|o| matches!(o, Err(StoreError::AlreadyDecided(_)))),
        "{outcomes:?}"
    );
    let state = store.version(&slug, &version).await.unwrap().unwrap().state;
    let expected =
        if winners[0].state == AppealState::Overturned { VersionState::Approved } else { VersionState::Rejected };
    assert_eq!(state, expected);
    let open = AppealFilter { state: Some(AppealState::Open), ..Default::default() };
    assert!(store.appeals(&open).await.unwrap().is_empty());
    assert_eq!(store.appeals(&AppealFilter::default()).await.unwrap().len(), 1);
    let events = store.audit_events().await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action.starts_with("appeal.")).count(), 2, "filed, and heard once");
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn exception_requests_are_decided_once_and_a_grant_is_a_waiver(store: Store) {
    use assay_core::exception::ExceptionState;
    use assay_store::{ExceptionDecision, ExceptionFilter, NewException};
    let acme = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
    let globex = store.ensure_partner("test", "globex", &[Capability::List]).await.unwrap();
    store.create_listing("acme", acme, "acme-x", "X").await.unwrap();
    let new = NewException {
        slug: "acme-x",
        version: "1.2.0",
        rule_id: "urls.https",
        severity: "error",
        versions: "^1",
        justification: "the CDN moves in March",
        expires_at: 5_000,
    };
    let id = store.request_exception("Ada <ada@acme.test> (acme)", &new, 1_000).await.unwrap();
    let asked = store.exception(id).await.unwrap().unwrap();
    assert_eq!(
        (asked.state, asked.partner_name.as_str(), asked.status(1_000)),
        (ExceptionState::Requested, "acme", "requested")
    );
    let mine = ExceptionFilter { partner: Some(acme), ..Default::default() };
    assert_eq!(store.exceptions(&mine).await.unwrap().len(), 1);
    let theirs = ExceptionFilter { partner: Some(globex), ..Default::default() };
    assert!(store.exceptions(&theirs).await.unwrap().is_empty());
    let denied_only = ExceptionFilter { state: Some(ExceptionState::Denied), ..Default::default() };
    assert!(store.exceptions(&denied_only).await.unwrap().is_empty());

    // Granted (narrower, shorter): a waiver in the same transaction, audited.
    let range: semver::VersionReq = ">=1.2.0, <1.3.0".parse().unwrap();
    let grant = ExceptionDecision::Grant { versions: &range, expires_at: 4_000, rationale: "booked" };
    let granted = store.decide_exception("Rita", id, ExceptionState::Requested, grant, 1_100).await.unwrap();
    assert_eq!(
        (granted.state, granted.granted_expires_at, granted.decided_by.as_deref()),
        (ExceptionState::Granted, Some(4_000), Some("Rita"))
    );
    let waivers = store.waivers("acme-x").await.unwrap();
    assert_eq!(waivers.len(), 1);
    assert_eq!((Some(waivers[0].waiver.id), waivers[0].waiver.expires_at), (granted.waiver, 4_000));
    assert_eq!((granted.status(3_999), granted.status(4_000)), ("live", "lapsed"));

    // A second decision from the state it read loses, and its waiver is rolled back.
    let late = store.decide_exception("Sam", id, ExceptionState::Requested, grant, 1_200).await;
    assert!(matches!(late, Err(assay_store::StoreError::AlreadyDecided(_))), "{late:?}");
    assert_eq!(store.waivers("acme-x").await.unwrap().len(), 1, "the loser's waiver is not kept");

    // A blocker's first grant waits for a second reviewer; a denial ends it.
    let id = store.request_exception("Ada", &NewException { severity: "blocker", ..new }, 1_300).await.unwrap();
    let pending = ExceptionDecision::GrantPending { versions: &range, expires_at: 4_000, rationale: "first" };
    let first = store.decide_exception("Rita", id, ExceptionState::Requested, pending, 1_400).await.unwrap();
    assert_eq!(
        (first.state, first.first_decision.clone()),
        (ExceptionState::Confirming, Some(("Rita".into(), "first".into())))
    );
    assert!(first.waiver.is_none());
    let deny = ExceptionDecision::Deny { rationale: "no" };
    let denied = store.decide_exception("Sam", id, ExceptionState::Confirming, deny, 1_500).await.unwrap();
    assert_eq!((denied.state, denied.status(1_500)), (ExceptionState::Denied, "denied"));
    let actions: Vec<String> = store
        .audit_events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("exception."))
        .collect();
    assert_eq!(
        actions,
        ["exception.request", "exception.grant", "exception.request", "exception.grant_pending", "exception.deny"]
    );
}

async fn a_rollback_moves_every_version_at_once_or_none(store: Store) {
    let (slug, v1) = submitted(&store).await;
    let approve = |version: String| {
        let (store, slug) = (store.clone(), slug.clone());
        async move {
            let steps = [
                (VersionState::Submitted, Transition::StartChecks),
                (VersionState::Checking, Transition::ChecksFinished(Verdict::Pass)),
                (VersionState::AwaitingReview, Transition::Approve),
            ];
            for (from, transition) in steps {
                store.transition("reviewer", &slug, &version, from, transition, "ok").await.unwrap();
            }
        }
    };
    approve(v1.clone()).await;
    store.submit_version("test", &submission(&slug, "1.1.0")).await.unwrap();
    approve("1.1.0".into()).await;
    store.transition("partner", &slug, "1.1.0", VersionState::Approved, Transition::Publish, "go").await.unwrap();
    assert!(store.set_auto_release("partner", &slug, true).await.unwrap());
    assert!(store.listing(&slug).await.unwrap().unwrap().auto_release);
    assert!(!store.set_auto_release("partner", "no-such-listing", true).await.unwrap());

    // Naming a state the newer version is not in: a conflict, and nothing moved.
    let stale = [("1.1.0".to_owned(), VersionState::Approved)];
    let err = store.roll_back("partner", &slug, (&v1, VersionState::Approved), &stale).await;
    assert!(matches!(err, Err(StoreError::Conflict { current: VersionState::Published })), "{err:?}");
    let state = |version: &'static str| {
        let (store, slug) = (store.clone(), slug.clone());
        async move { store.version(&slug, version).await.unwrap().unwrap().state }
    };
    assert_eq!((state("1.0.0").await, state("1.1.0").await), (VersionState::Approved, VersionState::Published));

    let newer = [("1.1.0".to_owned(), VersionState::Published)];
    store.roll_back("partner", &slug, (&v1, VersionState::Approved), &newer).await.unwrap();
    assert_eq!((state("1.0.0").await, state("1.1.0").await), (VersionState::Published, VersionState::Withdrawn));
    let events = store.listing_events(&slug).await.unwrap();
    assert!(events.iter().any(|e| e.action == "version.withdraw" && e.detail.contains("rolled back to 1.0.0")));
    assert!(events.iter().any(|e| e.action == "listing.auto_release"));
    assert!(store.verify_audit().await.unwrap().is_ok());
}

/// Node slots on a shared database: a live process's leases are never released by another
/// process joining, and a process that takes a dead one's slot releases its leases at once.
/// PostgreSQL only (a SQLite store has one process, which releases every lease on start).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_nodes_jobs_stay_its_own_and_a_dead_nodes_are_taken_back_at_once() {
    for fresh in backends().await {
        let Some((admin, name)) = fresh.postgres.clone() else {
            assert_eq!(fresh.store.join_as_node().await.unwrap().slot, Some(0));
            cleanup(fresh).await;
            continue;
        };
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        let first = Store::open(&url).await.unwrap();
        let nothing = assay_store::NodeJoin { slot: Some(0), released: 0, released_messages: 0 };
        assert_eq!(first.join_as_node().await.unwrap(), nothing);
        assert_eq!(first.join_as_node().await.unwrap().slot, Some(0), "joining twice keeps the slot");
        submitted(&first).await;
        let claim = first.claim_review("first", 3600).await.unwrap().unwrap();
        // It is sending a webhook message, leased for an hour too.
        let acme = first.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
        let every = ["*".to_owned()];
        let hook = first.create_endpoint("token:1", acme, "https://acme.example/hook", &every, "whsec_AAAA");
        let endpoint = hook.await.unwrap().id;
        let message = assay_store::NewMessage {
            endpoint,
            msg_id: "msg_1".into(),
            event_type: "listing.version.reviewed".into(),
            payload: "{}".into(),
        };
        first.enqueue_messages(&[message], 1_000).await.unwrap();
        let none = std::collections::HashMap::new();
        assert_eq!(first.claim_due_messages(1_000, 3600, 10, 8, &none).await.unwrap().len(), 1);

        // A second live process takes another slot and leaves the first one's job alone.
        let second = Store::open(&url).await.unwrap();
        let second_join = assay_store::NodeJoin { slot: Some(1), released: 0, released_messages: 0 };
        assert_eq!(second.join_as_node().await.unwrap(), second_join);
        assert!(second.claim_review("second", 3600).await.unwrap().is_none(), "a live node's job was taken");
        assert!(second.claim_due_messages(1_001, 60, 10, 8, &none).await.unwrap().is_empty(), "and its message");

        // The first process dies (its connections with it); its restart takes slot 0 back and
        // with it the job, long before the lease's hour is up.
        first.close().await;
        drop(first);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let (restarted, joined) = loop {
            let store = Store::open(&url).await.unwrap();
            let joined = store.join_as_node().await.unwrap();
            if joined.slot == Some(0) || std::time::Instant::now() > deadline {
                break (store, joined);
            }
            // The server has not noticed the dead session yet.
            store.close().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(joined, assay_store::NodeJoin { slot: Some(0), released: 1, released_messages: 1 });
        let again = restarted.claim_review("restarted", 3600).await.unwrap().unwrap();
        assert_eq!((again.lease.job, again.lease.attempt), (claim.lease.job, 2));
        let resent = restarted.claim_due_messages(1_001, 60, 10, 8, &none).await.unwrap();
        assert_eq!(resent.iter().map(|m| m.msg_id.as_str()).collect::<Vec<_>>(), ["msg_1"], "sent again at once");
        second.close().await;
        restarted.close().await;
        cleanup(fresh).await;
    }
}

async fn reviews_that_finish_together_are_recorded_in_one_transaction_each_on_its_own_terms(store: Store) {
    let (slug, _) = submitted(&store).await;
    for v in ["1.1.0", "1.2.0", "1.3.0"] {
        store.submit_version("test", &submission(&slug, v)).await.unwrap();
    }
    // Four review jobs, claimed in order: 1.0.0, 1.1.0, 1.2.0, 1.3.0.
    let mut claims = Vec::new();
    while let Some(claim) = store.claim_review("worker", 3600).await.unwrap() {
        claims.push(claim);
    }
    assert_eq!(claims.len(), 4);
    // 1.2.0 moves on before its verdict (a reviewer's hand, say); 1.3.0's lease is taken over.
    store
        .transition("reviewer", &slug, "1.2.0", VersionState::Checking, Transition::ChecksFinished(Verdict::Error), "")
        .await
        .unwrap();
    // (1.3.0 is the newest version: another claim bumped its job's token.)
    let bumped = store
        .execute_unchecked("UPDATE jobs SET lease = lease + 1 WHERE version_id = (SELECT MAX(id) FROM versions)")
        .await
        .unwrap();
    assert_eq!(bumped, 1);
    let runs = [run("urls.https", true, &[Severity::Error])];
    let review = |claim: &assay_store::ClaimedReview| ReviewRecord {
        pack_name: "assay-builtin",
        pack_version: "0.1.0",
        runs: &runs,
        verdict: Verdict::Fail,
        job: Some(claim.lease),
        seed: 2026,
        limits: "{}",
        previous_version: None,
    };
    let batch: Vec<_> = claims.iter().map(|c| (slug.as_str(), c.version.version.as_str(), review(c))).collect();
    let outcomes = store.record_reviews("worker", &batch).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].as_ref().unwrap().state, VersionState::ChangesRequested);
    assert_eq!(outcomes[1].as_ref().unwrap().state, VersionState::ChangesRequested);
    assert!(matches!(outcomes[2], Err(StoreError::Conflict { .. })), "{:?}", outcomes[2]);
    assert!(matches!(outcomes[3], Err(StoreError::LeaseLost)), "{:?}", outcomes[3]);
    // Exactly the two that held were recorded, with their jobs ended and their audit events.
    for (v, recorded) in [("1.0.0", true), ("1.1.0", true), ("1.2.0", false), ("1.3.0", false)] {
        assert_eq!(store.latest_review(&slug, v).await.unwrap().is_some(), recorded, "{v}");
    }
    assert_eq!(store.version(&slug, "1.3.0").await.unwrap().unwrap().state, VersionState::Checking);
    let events = store.listing_events(&slug).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "version.review").count(), 2);
    assert!(store.verify_audit().await.unwrap().is_ok());
}

async fn a_recorded_review_claims_the_next_in_its_own_transaction(store: Store) {
    let (slug, _) = submitted(&store).await;
    store.submit_version("test", &submission(&slug, "1.1.0")).await.unwrap();
    let first = store.claim_review("worker", 3600).await.unwrap().unwrap();
    let runs = [run("urls.https", true, &[])];
    let review = |claim: &assay_store::ClaimedReview| ReviewRecord {
        pack_name: "assay-builtin",
        pack_version: "0.1.0",
        runs: &runs,
        verdict: Verdict::Pass,
        job: Some(claim.lease),
        seed: 2026,
        limits: "{}",
        previous_version: None,
    };
    let batch = [(slug.as_str(), "1.0.0", review(&first))];
    let (outcomes, next) = store.record_reviews_then_claim("worker", &batch, Some(("worker", 3600, 4))).await.unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap().state, VersionState::AwaitingReview);
    // The one review waiting was claimed with the verdict: checking, under a lease, audited.
    assert_eq!(next.iter().map(|c| c.version.version.as_str()).collect::<Vec<_>>(), ["1.1.0"]);
    assert_eq!(next[0].version.state, VersionState::Checking);
    let carried = next[0].clone();
    assert_eq!(store.version(&slug, "1.1.0").await.unwrap().unwrap().state, VersionState::Checking);
    assert!(store.claim_review("other", 3600).await.unwrap().is_none(), "the claimed review is not claimed twice");
    let events = store.listing_events(&slug).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "version.start_checks").count(), 2, "{events:?}");

    // A review that records nothing (its version moved on) claims nothing either.
    store.submit_version("test", &submission(&slug, "1.2.0")).await.unwrap();
    let again = [(slug.as_str(), "1.0.0", review(&first))];
    let (outcomes, next) = store.record_reviews_then_claim("worker", &again, Some(("worker", 3600, 1))).await.unwrap();
    assert!(matches!(outcomes[0], Err(StoreError::Conflict { .. })), "{:?}", outcomes[0]);
    assert!(next.is_empty());
    assert_eq!(store.version(&slug, "1.2.0").await.unwrap().unwrap().state, VersionState::Submitted);
    // Recorded with nothing waiting, or without asking: nothing claimed.
    let second = [(slug.as_str(), "1.1.0", review(&carried))];
    let (_, next) = store.record_reviews_then_claim("worker", &second, None).await.unwrap();
    assert!(next.is_empty());
    assert_eq!(store.version(&slug, "1.2.0").await.unwrap().unwrap().state, VersionState::Submitted);
    assert!(store.verify_audit().await.unwrap().is_ok());
}
