//! `assay serve` as a real process, driven by the real CLI: the walkthrough of a partner and a
//! reviewer, and crashes (SIGKILL, and aborts at chosen points inside write transactions) that
//! must leave every submission fully recorded or absent and every review finished after restart.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assay_store::{Role, Store};
use serde_json::Value;

use super::{assay, root, run};

/// A running `assay serve`.
pub(super) struct Server {
    child: Child,
    pub(super) url: String,
    stderr: mpsc::Receiver<String>,
}

/// Where the server keeps its data: an SQLite directory, or a PostgreSQL URL.
#[derive(Clone)]
pub(super) enum Data {
    Dir(PathBuf),
    Url(String),
}

impl Data {
    pub(super) fn args(&self) -> Vec<String> {
        match self {
            Data::Dir(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            Data::Url(url) => vec!["--database-url".into(), url.clone()],
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Data::Dir(_) => "SQLite",
            Data::Url(_) => "PostgreSQL",
        }
    }

    async fn open(&self) -> Store {
        match self {
            Data::Dir(dir) => Store::open_data_dir(dir).await.unwrap(),
            Data::Url(url) => Store::open(url).await.unwrap(),
        }
    }
}

impl Server {
    fn start(data: &Data, fault: Option<&str>) -> Server {
        Server::start_with(data, fault, &[])
    }

    pub(super) fn start_with(data: &Data, fault: Option<&str>, extra: &[&str]) -> Server {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("assay"));
        cmd.current_dir(root()).args(["serve", "--listen", "127.0.0.1:0"]);
        if !extra.contains(&"--review-lease-secs") {
            cmd.args(["--review-lease-secs", "2"]);
        }
        cmd.args(extra)
            .args(data.args())
            .env("ASSAY_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("assay-cache"))
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match fault {
            Some(point) => cmd.env("ASSAY_FAULT", point),
            None => cmd.env_remove("ASSAY_FAULT"),
        };
        let mut child = cmd.spawn().unwrap();
        let (send, stderr) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = loop {
            let line = stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("assay serve did not start");
            if let Some(rest) = line.strip_prefix("assay: serving ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Server { child, url, stderr }
    }

    /// Wait until the process ends on its own (an injected fault aborts it).
    fn wait_for_crash(mut self) -> Vec<String> {
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "the server should have aborted");
        self.stderr.try_iter().collect()
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(server: &Server, token: &str, args: &[&str]) -> super::Output {
    run(assay().args(args).env("ASSAY_SERVER", &server.url).env("ASSAY_TOKEN", token))
}

pub(super) fn token(data: &Data, role: &str, partner: Option<&str>) -> String {
    let mut cmd = assay();
    cmd.args(["token", "create", "--role", role]).args(data.args());
    if let Some(partner) = partner {
        cmd.args(["--partner", partner, "--capability", "list", "--capability", "checks"]);
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.split_whitespace().last().unwrap().to_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Fresh data for one test: SQLite always, and PostgreSQL when the suite has a server.
fn backends(dir: &Path) -> Vec<Data> {
    let mut out = vec![Data::Dir(dir.join("data"))];
    if let Ok(admin) = std::env::var("ASSAY_TEST_POSTGRES_URL") {
        use sqlx::{Connection as _, Executor as _};
        let name = format!("assay_cli_{}", std::process::id() as u64 * 1000 + rand_suffix());
        runtime().block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        });
        let (server, _) = admin.rsplit_once('/').unwrap();
        out.push(Data::Url(format!("{server}/{name}")));
    }
    out
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64 % 1000
}

/// Drops a test's PostgreSQL database when the test ends, passed or failed.
struct DropDatabase(Data);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        drop_database(&self.0);
    }
}

fn drop_database(data: &Data) {
    if let (Data::Url(url), Ok(admin)) = (data, std::env::var("ASSAY_TEST_POSTGRES_URL")) {
        use sqlx::{Connection as _, Executor as _};
        let name = url.rsplit('/').next().unwrap().to_owned();
        runtime().block_on(async {
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
        });
    }
}

#[test]
fn a_partner_and_a_reviewer_walk_the_whole_flow() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let partner = token(&data, "partner", Some("acme"));
    let reviewer = token(&data, "reviewer", None);
    let second = {
        let mut cmd = assay();
        cmd.args(["token", "create", "--role", "reviewer", "--email", "sam@platform.test", "--name", "Sam Second"]);
        let out = run(cmd.args(data.args()));
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout.split_whitespace().last().unwrap().to_owned()
    };
    let server = Server::start(&data, None);

    // The partner submits a flawed listing: the findings come back as `assay check` shows them.
    let flawed = client(&server, &partner, &["submit", "examples/listings/http-urls"]);
    assert_eq!(flawed.code, 1, "{}{}", flawed.stdout, flawed.stderr);
    assert!(flawed.stderr.contains("created listing `acme-stock-sync`"), "{}", flawed.stderr);
    assert!(
        flawed.stdout.contains("error[urls.https]") && flawed.stdout.contains("listing.toml:16:12"),
        "{}",
        flawed.stdout
    );
    assert!(flawed.stdout.contains("state: changes_requested"), "{}", flawed.stdout);

    // The partner asks for an exception to the finding; a rule that never fired is refused;
    // the reviewer grants it for less time; the register shows it live.
    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 60)).to_string();
    let ask = |rule: &str| {
        let args = ["exception", "request", "acme-stock-sync@1.4.0", "--rule", rule, "--until", until.as_str()];
        let mut args = args.to_vec();
        args.extend(["--justification", "the CDN moves to https in March"]);
        client(&server, &partner, &args)
    };
    let never = ask("privacy.policy");
    assert_eq!(never.code, 2, "{}", never.stderr);
    assert!(never.stderr.contains("reported no finding") && never.stderr.contains("urls.https"), "{}", never.stderr);
    let asked = ask("urls.https");
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    assert!(asked.stdout.contains("exception #1 requested"), "{}", asked.stdout);
    let sooner = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let granted =
        client(&server, &reviewer, &["exception", "grant", "1", "--rationale", "migration booked", "--until", &sooner]);
    assert_eq!(granted.code, 0, "{}", granted.stderr);
    assert!(granted.stdout.contains("status:    live") && granted.stdout.contains(&sooner), "{}", granted.stdout);
    let again = client(&server, &reviewer, &["exception", "deny", "1", "--rationale", "no"]);
    assert!(again.code != 0 && again.stderr.contains("409 conflict"), "{}", again.stderr);
    let register = client(&server, &partner, &["exception", "list", "--status", "live"]);
    assert!(
        register.stdout.contains("acme-stock-sync@1.4.0") && register.stdout.contains("urls.https"),
        "{}",
        register.stdout
    );

    // Fixed and bumped: it passes and waits for a reviewer.
    let fixed = dir.path().join("fixed");
    std::fs::create_dir(&fixed).unwrap();
    let text = std::fs::read_to_string(root().join("examples/listings/clean/listing.toml")).unwrap();
    std::fs::write(fixed.join("listing.toml"), text.replace("version = \"1.4.0\"", "version = \"1.4.1\"")).unwrap();
    let passed = client(&server, &partner, &["submit", fixed.to_str().unwrap(), "--format", "json"]);
    assert_eq!(passed.code, 0, "{}{}", passed.stdout, passed.stderr);
    let version: Value = serde_json::from_str(&passed.stdout).unwrap();
    assert_eq!((version["state"].as_str(), version["verdict"].as_str()), (Some("awaiting_review"), Some("pass")));

    // The reviewer sees it in the queue and approves it; the partner sees the decision.
    let queue = client(&server, &reviewer, &["review", "queue"]);
    assert!(queue.stdout.contains("acme-stock-sync") && queue.stdout.contains("1.4.1"), "{}", queue.stdout);
    let partner_queue = client(&server, &partner, &["review", "queue"]);
    assert_eq!(partner_queue.code, 2, "{}", partner_queue.stderr);
    assert!(partner_queue.stderr.contains("403 forbidden"), "{}", partner_queue.stderr);
    let no_note =
        client(&server, &reviewer, &["review", "decide", "acme-stock-sync@1.4.1", "--action", "approve", "--note", ""]);
    assert_eq!(no_note.code, 2);
    let approve = client(
        &server,
        &reviewer,
        &["review", "decide", "acme-stock-sync@1.4.1", "--action", "approve", "--note", "ok"],
    );
    assert_eq!(approve.code, 0, "{}", approve.stderr);
    assert!(approve.stdout.contains("is now approved"), "{}", approve.stdout);
    let status = client(&server, &partner, &["status", "acme-stock-sync@1.4.1"]);
    assert!(
        status.stdout.contains("acme-stock-sync@1.4.1: approved") && status.stdout.contains("decision: approve"),
        "{}",
        status.stdout
    );
    let listings = client(&server, &partner, &["status", "--format", "json"]);
    let listings: Value = serde_json::from_str(&listings.stdout).unwrap();
    assert_eq!(listings[0]["versions"].as_array().unwrap().len(), 2);
    // Where the partner stands, and the listing's timeline.
    let standing = client(&server, &partner, &["status"]);
    assert!(standing.stdout.contains("standing:"), "{}", standing.stdout);
    assert!(standing.stdout.contains("acme-stock-sync          live 1.4.1"), "{}", standing.stdout);
    let timeline = client(&server, &partner, &["status", "acme-stock-sync", "--timeline"]);
    assert_eq!(timeline.code, 0, "{}", timeline.stderr);
    assert!(timeline.stdout.contains("version.approve") && timeline.stdout.contains("1.4.1"), "{}", timeline.stdout);
    // The partner releases the approved version; the reviewer cannot.
    let not_theirs = client(&server, &reviewer, &["release", "acme-stock-sync@1.4.1"]);
    assert!(not_theirs.code != 0 && not_theirs.stderr.contains("403"), "{}", not_theirs.stderr);
    let released = client(&server, &partner, &["release", "acme-stock-sync@1.4.1"]);
    assert_eq!(released.code, 0, "{}", released.stderr);
    assert!(released.stdout.contains("acme-stock-sync@1.4.1 is now published"), "{}", released.stdout);

    // A conversation, a hold and an appeal: the reviewer waits on the partner with a reason the
    // partner reads, then rejects; the partner appeals, the first reviewer may not hear it, and
    // a second reviewer overturns the rejection.
    let next = fixed.join("listing.toml");
    std::fs::write(&next, text.replace("version = \"1.4.0\"", "version = \"1.4.2\"")).unwrap();
    let submitted = client(&server, &partner, &["submit", fixed.to_str().unwrap()]);
    assert_eq!(submitted.code, 0, "{}{}", submitted.stdout, submitted.stderr);
    let held = client(
        &server,
        &reviewer,
        &["conversation", "hold", "acme-stock-sync@1.4.2", "--reason", "waiting for a test account"],
    );
    assert!(held.stdout.contains("ON HOLD") && held.stdout.contains("waiting for a test account"), "{}", held.stdout);
    let claimed = client(&server, &reviewer, &["review", "claim", "acme-stock-sync@1.4.2"]);
    assert!(claimed.stdout.contains("acme-stock-sync@1.4.2 is assigned to"), "{}{}", claimed.stdout, claimed.stderr);
    let taken = client(&server, &second, &["review", "claim", "acme-stock-sync@1.4.2"]);
    assert!(taken.code != 0 && taken.stderr.contains("409 conflict"), "{}", taken.stderr);
    let mine = client(&server, &reviewer, &["review", "queue", "--assignee", "me"]);
    assert!(
        mine.stdout.contains("acme-stock-sync@1.4.2") && mine.stdout.contains("[on hold: waiting for a test account]"),
        "{}",
        mine.stdout
    );
    let place = client(&server, &partner, &["status", "acme-stock-sync@1.4.2"]);
    assert!(place.stdout.contains("review queue: 1 of 1, expected by"), "{}", place.stdout);
    let status = client(&server, &partner, &["status", "acme-stock-sync@1.4.2", "--format", "json"]);
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["hold"]["reason"], "waiting for a test account", "{status}");
    let answer = ["conversation", "post", "acme-stock-sync@1.4.2", "reviewer@acme.test, password in the vault"];
    assert_eq!(client(&server, &partner, &answer).code, 0);
    let note = ["conversation", "post", "acme-stock-sync@1.4.2", "--internal", "INTERNAL vault link looks odd"];
    assert_eq!(client(&server, &reviewer, &note).code, 0);
    let theirs = client(&server, &partner, &["conversation", "show", "acme-stock-sync@1.4.2"]);
    assert!(
        theirs.stdout.contains("password in the vault") && !theirs.stdout.contains("INTERNAL"),
        "{}",
        theirs.stdout
    );
    let reject = ["review", "decide", "acme-stock-sync@1.4.2", "--action", "reject", "--note", "no test account"];
    assert_eq!(client(&server, &reviewer, &reject).code, 0);
    let statement = ["appeal", "file", "acme-stock-sync@1.4.2", "--statement", "the account is in the conversation"];
    let filed = client(&server, &partner, &statement);
    assert!(filed.stdout.contains("appeal #1 filed against the reject decision"), "{}{}", filed.stdout, filed.stderr);
    let own = client(&server, &reviewer, &["appeal", "overturn", "1", "--rationale", "fine"]);
    assert!(own.code != 0 && own.stderr.contains("403 forbidden"), "{}", own.stderr);
    let heard = client(&server, &second, &["appeal", "overturn", "1", "--rationale", "the account works"]);
    assert!(
        heard.stdout.contains("overturned") && heard.stdout.contains("heard:     by Sam Second"),
        "{}",
        heard.stdout
    );
    let after = client(&server, &partner, &["status", "acme-stock-sync@1.4.2"]);
    assert!(after.stdout.contains("acme-stock-sync@1.4.2: approved"), "{}", after.stdout);

    // The lifecycle from the command line: a too-early breaking notice is refused with its
    // rule, a deprecation is scheduled, an endpoint is registered.
    let in_days = |days: i64| {
        let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
        today.saturating_add(jiff::Span::new().days(days)).to_string()
    };
    let notice = |effective: &str| {
        let args = [
            "notice",
            "publish",
            "acme-stock-sync",
            "--kind",
            "breaking",
            "--summary",
            "Stock webhooks drop legacy_id",
        ];
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--effective", effective, "--action", "Read id instead"]);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let early = in_days(5);
    let refused = client(&server, &partner, &notice(&early).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("policy_violation") && refused.stderr.contains("notice.breaking-lead-time"),
        "{}",
        refused.stderr
    );
    let later = in_days(40);
    let published = client(&server, &partner, &notice(&later).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(published.code, 0, "{}", published.stderr);
    assert!(published.stdout.contains("published: breaking effective"), "{}", published.stdout);
    let (from, sunset) = (in_days(1), in_days(400));
    let deprecate = client(
        &server,
        &partner,
        &[
            "deprecate",
            "acme-stock-sync",
            "--versions",
            "<1.4.1",
            "--deprecated-from",
            &from,
            "--sunset",
            &sunset,
            "--summary",
            "1.4.0 is replaced by 1.4.1",
            "--action",
            "Update",
        ],
    );
    assert_eq!(deprecate.code, 0, "{}", deprecate.stderr);
    assert!(deprecate.stdout.contains("scheduled for acme-stock-sync <1.4.1"), "{}", deprecate.stdout);
    let notices = client(&server, &partner, &["notice", "list", "acme-stock-sync"]);
    assert!(notices.stdout.contains("deprecation") && notices.stdout.contains("breaking"), "{}", notices.stdout);
    let hook = client(
        &server,
        &partner,
        &["webhook", "add", "https://acme.example/hook", "--event", "listing.version.decided"],
    );
    assert_eq!(hook.code, 0, "{}", hook.stderr);
    assert!(hook.stdout.contains("signing secret") && hook.stdout.contains("whsec_"), "{}", hook.stdout);
    let hooks = client(&server, &partner, &["webhook", "list"]);
    assert!(hooks.stdout.contains("https://acme.example/hook") && !hooks.stdout.contains("whsec_"), "{}", hooks.stdout);
    // Managing it: pause with a reason, resume, change its events, rotate, test, delete.
    let id = hook.stdout.split('#').nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_owned();
    let paused = client(&server, &partner, &["webhook", "pause", &id, "--reason", "moving the receiver"]);
    assert!(paused.stdout.contains("moving the receiver"), "{}{}", paused.stdout, paused.stderr);
    let shown = client(&server, &partner, &["webhook", "show", &id]);
    assert!(
        shown.stdout.contains("status:   paused") && shown.stdout.contains("moving the receiver"),
        "{}",
        shown.stdout
    );
    let resumed = client(&server, &partner, &["webhook", "resume", &id]);
    assert!(resumed.stdout.contains("resumed"), "{}{}", resumed.stdout, resumed.stderr);
    let updated = client(&server, &partner, &["webhook", "update", &id, "--event", "notice.published"]);
    assert!(updated.stdout.contains("now receives notice.published"), "{}{}", updated.stdout, updated.stderr);
    let unknown = client(&server, &partner, &["webhook", "update", &id, "--event", "order.paid"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("`order.paid` is not an event type"), "{}", unknown.stderr);
    let rotated = client(&server, &partner, &["webhook", "rotate-secret", &id]);
    assert!(rotated.stdout.contains("whsec_") && rotated.stdout.contains("keeps signing"), "{}", rotated.stdout);
    let tested = client(&server, &partner, &["webhook", "test", &id]);
    assert!(tested.stdout.contains("msg_test_"), "{}{}", tested.stdout, tested.stderr);
    let deleted = client(&server, &partner, &["webhook", "delete", &id]);
    assert!(deleted.stdout.contains("deleted"), "{}{}", deleted.stdout, deleted.stderr);
    let gone = client(&server, &partner, &["webhook", "show", &id]);
    assert_eq!(gone.code, 2);
    assert!(gone.stderr.contains("not_found"), "{}", gone.stderr);

    // Wrong token and unreachable server: clear errors, documented exit codes.
    let wrong = client(&server, "assay_0123", &["status"]);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("401 unauthenticated"), "{}", wrong.stderr);
    let gone = run(assay().args(["status"]).env("ASSAY_SERVER", "http://127.0.0.1:9").env("ASSAY_TOKEN", &partner));
    assert_eq!(gone.code, 3);
    assert!(gone.stderr.contains("could not reach the review service"), "{}", gone.stderr);
    server.kill();
}

/// A crash inside the submission's transaction leaves nothing; a crash inside the review's
/// transaction leaves the submission and its job, and the review finishes after restart.
#[test]
fn a_crash_mid_transaction_loses_nothing_and_records_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    for data in backends(dir.path()) {
        let _drop = DropDatabase(data.clone());
        let partner = token(&data, "partner", Some("acme"));
        let listing = ["submit", "examples/listings/clean", "--no-wait"];

        // 1. Abort after the version row is written, before commit: the version is absent.
        let server = Server::start(&data, Some("submit.before-commit"));
        let out = client(&server, &partner, &listing);
        assert_eq!(out.code, 3, "{}", out.stderr);
        let log = server.wait_for_crash();
        assert!(log.iter().any(|l| l.contains("aborting at submit.before-commit")), "{log:?}");
        runtime().block_on(async {
            let store = data.open().await;
            let listing = store.listing("acme-stock-sync").await.unwrap().unwrap();
            assert!(listing.versions.is_empty(), "a half-written submission survived: {listing:?}");
            assert_eq!(store.pending_reviews().await.unwrap(), 0);
            assert!(store.verify_audit().await.unwrap().is_ok());
            store.close().await;
        });

        // 2. Abort while recording the review: the submission and its job survive. The lease
        // is long (120 s), so step 3 shows the restarted process does not wait it out.
        let long_lease = ["--review-lease-secs", "120"];
        let server = Server::start_with(&data, Some("review.before-commit"), &long_lease);
        let out = client(&server, &partner, &listing);
        assert_eq!(out.code, 0, "{}", out.stderr);
        server.wait_for_crash();
        runtime().block_on(async {
            let store = data.open().await;
            let v = store.version("acme-stock-sync", "1.4.0").await.unwrap().unwrap();
            assert_eq!(v.state.as_str(), "checking");
            assert_eq!(store.latest_review("acme-stock-sync", "1.4.0").await.unwrap(), None);
            assert_eq!(store.pending_reviews().await.unwrap(), 1);
            store.close().await;
        });

        // 3. Restart within the lease: the interrupted review finishes at once, and once.
        // SQLite releases every lease on start (one process owns it); on PostgreSQL the
        // restarted process takes the dead one's node slot and releases that slot's leases.
        let restarted = Instant::now();
        let server = Server::start_with(&data, None, &long_lease);
        let status = wait_for_state(&server, &partner, "acme-stock-sync@1.4.0");
        assert_eq!(status["verdict"], "pass");
        let resumed_after = restarted.elapsed();
        assert!(resumed_after < Duration::from_secs(60), "the review waited out its lease: {resumed_after:?}");
        server.kill();
        runtime().block_on(async {
            let store = data.open().await;
            assert_eq!(store.pending_reviews().await.unwrap(), 0);
            assert_eq!(store.execute_unchecked("UPDATE review_runs SET verdict = verdict").await.unwrap(), 1);
            assert!(store.verify_audit().await.unwrap().is_ok());
            store.close().await;
        });
        println!(
            "crash mid-transaction on {}: nothing half-written, the interrupted review finished once, {resumed_after:?} after the restart (lease 120 s)",
            data.name()
        );
    }
}

fn wait_for_state(server: &Server, token: &str, target: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = client(server, token, &["status", target, "--format", "json"]);
        if out.code == 0 {
            let v: Value = serde_json::from_str(&out.stdout).unwrap();
            if !matches!(v["state"].as_str(), Some("submitted" | "checking")) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "{target} was not reviewed in time: {}", out.stdout);
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// kill -9 while partners are submitting: every submission the server acknowledged is there
/// after restart and gets exactly one review; nothing is half-written; the audit chain holds.
#[test]
fn kill_9_during_submissions_loses_no_acknowledged_submission() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let partner = token(&data, "partner", Some("acme"));
    let template = std::fs::read_to_string(root().join("examples/listings/clean/listing.toml")).unwrap();
    let versions: Vec<String> = (0..24).map(|i| format!("1.5.{i}")).collect();
    for v in &versions {
        let path = dir.path().join(v);
        std::fs::create_dir(&path).unwrap();
        std::fs::write(
            path.join("listing.toml"),
            template.replace("version = \"1.4.0\"", &format!("version = \"{v}\"")),
        )
        .unwrap();
    }
    let server = Server::start(&data, None);
    let url = server.url.clone();
    let submitters: Vec<_> = versions
        .iter()
        .map(|v| {
            let (path, url, partner) = (dir.path().join(v), url.clone(), partner.clone());
            let v = v.clone();
            std::thread::spawn(move || {
                let out = run(assay()
                    .args(["submit", path.to_str().unwrap(), "--no-wait"])
                    .env("ASSAY_SERVER", url)
                    .env("ASSAY_TOKEN", partner));
                (v, out.code)
            })
        })
        .collect();
    // Let some submissions land, then pull the plug.
    std::thread::sleep(Duration::from_millis(700));
    server.kill();
    let results: Vec<(String, i32)> = submitters.into_iter().map(|t| t.join().unwrap()).collect();
    let acknowledged: Vec<&String> = results.iter().filter(|(_, code)| *code == 0).map(|(v, _)| v).collect();
    println!(
        "kill -9 during {} submissions: {} acknowledged, {} cut off",
        results.len(),
        acknowledged.len(),
        results.len() - acknowledged.len()
    );
    let server = Server::start(&data, None);
    let store_state = runtime().block_on(async {
        let store = data.open().await;
        let listing = store.listing("acme-stock-sync").await.unwrap();
        store.close().await;
        listing.map(|l| l.versions).unwrap_or_default()
    });
    for v in &acknowledged {
        assert!(store_state.iter().any(|(version, _)| version == *v), "acknowledged {v} was lost");
    }
    // Every stored version (acknowledged or not) is complete: it gets its review.
    for (v, _) in &store_state {
        let status = wait_for_state(&server, &partner, &format!("acme-stock-sync@{v}"));
        assert!(status["verdict"].is_string(), "{status}");
    }
    server.kill();
    runtime().block_on(async {
        let store = data.open().await;
        assert_eq!(store.pending_reviews().await.unwrap(), 0);
        let reviews = store.execute_unchecked("UPDATE review_runs SET verdict = verdict").await.unwrap();
        assert_eq!(reviews as usize, store_state.len(), "exactly one review per stored version");
        assert!(store.verify_audit().await.unwrap().is_ok());
        assert!(store.authenticate(&partner).await.unwrap().is_some_and(|p| p.role == Role::Owner));
        store.close().await;
    });
}

#[test]
fn the_example_integration_check_gives_the_same_transcript_in_the_service_and_locally() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let partner = token(&data, "partner", Some("acme"));
    let server = Server::start(&data, None);
    let listing = super::integration_listing(|t| t);
    let path = listing.path().to_str().unwrap();

    let local = run(assay().args(["check", path, "--format", "json"]));
    assert_eq!(local.code, 0, "{}", local.stderr);
    let submitted = client(&server, &partner, &["submit", path, "--format", "json"]);
    assert_eq!(submitted.code, 0, "{}{}", submitted.stdout, submitted.stderr);
    let local: Value = serde_json::from_str(&local.stdout).unwrap();
    let service: Value = serde_json::from_str(&submitted.stdout).unwrap();
    let transcript = |checks: &Value| {
        let check = checks
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "acme.shop-sync" || c["check_id"] == "acme.shop-sync");
        check.unwrap()["transcript"].clone()
    };
    assert_eq!(transcript(&service["checks"]).as_array().unwrap().len(), 12);
    assert_eq!(transcript(&service["checks"]), transcript(&local["checks"]), "the service and `assay check` disagree");

    // The service's run bundle replays locally, bit for bit.
    let bundle = listing.path().join("service.bundle.json");
    let out = client(&server, &partner, &["status", "acme-shop-sync@1.0.0", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let replay = run(assay().args(["replay", bundle.to_str().unwrap()]));
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    assert!(replay.stdout.starts_with("matched: 37 runs, 12 platform calls, verdict pass"), "{}", replay.stdout);
}

/// The built-in pack as `version`, with `copy.shouting` raised from a warning to an error,
/// written out as a pack directory.
fn stricter_pack(dir: &Path, version: &str) -> PathBuf {
    let pack = dir.join(format!("pack-{version}"));
    std::fs::create_dir_all(&pack).unwrap();
    let manifest =
        assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", &format!("version = \"{version}\"")).replace(
            "component = \"rule_copy_shouting.wasm\"\n",
            "component = \"rule_copy_shouting.wasm\"\nseverity = \"error\"\n",
        );
    std::fs::write(pack.join("pack.toml"), &manifest).unwrap();
    // Its components and the rules' documentation, as a pack directory holds them.
    for (name, bytes) in assay_builtin::files() {
        std::fs::write(pack.join(name), bytes).unwrap();
    }
    pack
}

/// Submit example `name` as listing `slug` and have the reviewer approve it.
fn approved(server: &Server, dir: &Path, partner: &str, reviewer: &str, name: &str, slug: &str) {
    let listing = dir.join(slug);
    std::fs::create_dir_all(&listing).unwrap();
    let text = std::fs::read_to_string(root().join(format!("examples/listings/{name}/listing.toml"))).unwrap();
    std::fs::write(
        listing.join("listing.toml"),
        text.replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\"")),
    )
    .unwrap();
    let out = client(server, partner, &["submit", listing.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let out = client(
        server,
        reviewer,
        &["review", "decide", &format!("{slug}@1.4.0"), "--action", "approve", "--note", "ok"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// The rollout from the command line: shadow with a progress wait and the blast radius, then
/// enforcement with notices, then the verdicts applied at the deadline by the scheduler.
#[test]
fn a_rule_pack_rolls_out_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let partner = token(&data, "partner", Some("acme"));
    let reviewer = token(&data, "reviewer", None);
    let admin = token(&data, "admin", None);
    let server = Server::start_with(&data, None, &["--scheduler-interval-secs", "1"]);
    approved(&server, dir.path(), &partner, &reviewer, "clean", "acme-clean");
    approved(&server, dir.path(), &partner, &reviewer, "shouting", "acme-loud");
    let pack = stricter_pack(dir.path(), "0.2.0");
    let pack = pack.to_str().unwrap();

    // Partners cannot publish packs.
    let refused = client(&server, &partner, &["rules", "publish", pack, "--shadow"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("forbidden"), "{}", refused.stderr);

    let shadow = client(&server, &admin, &["rules", "publish", pack, "--shadow", "--wait"]);
    assert_eq!(shadow.code, 0, "{}{}", shadow.stdout, shadow.stderr);
    assert!(
        shadow.stderr.contains("published assay-builtin@0.2.0 in shadow mode: re-checking 2 live listings"),
        "{}",
        shadow.stderr
    );
    assert!(shadow.stderr.contains("re-checked 2 live listings: 1 pass, 1 would fail"), "{}", shadow.stderr);
    assert!(
        shadow.stdout.contains("copy.shouting") && shadow.stdout.contains("acme-loud@1.4.0 (acme): copy.shouting"),
        "{}",
        shadow.stdout
    );
    let again = client(&server, &admin, &["rules", "publish", pack, "--shadow"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already published"), "{}", again.stderr);
    let status = client(&server, &partner, &["status", "acme-loud@1.4.0", "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&status.stdout).unwrap()["state"], "approved", "shadow blocks nothing");

    // The same version with other contents is refused, not enforced in place of the published one.
    let edited = dir.path().join("edited");
    std::fs::create_dir(&edited).unwrap();
    for entry in std::fs::read_dir(pack).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), edited.join(entry.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(edited.join("pack.toml")).unwrap() + "\n# edited\n";
    std::fs::write(edited.join("pack.toml"), toml).unwrap();
    let changed = client(&server, &admin, &["rules", "publish", edited.to_str().unwrap(), "--enforce"]);
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains("published with other contents"), "{}", changed.stderr);
    // Workers of their own are for a shared PostgreSQL database.
    let worker = run(assay().arg("worker").args(data.args()));
    assert_eq!(worker.code, 2, "{}", worker.stderr);
    assert!(worker.stderr.contains("needs a shared PostgreSQL database"), "{}", worker.stderr);

    // Enforce with no grace: the partner is notified, and the scheduler applies it at once.
    let enforce = client(&server, &admin, &["rules", "publish", pack, "--enforce", "--grace", "0", "--format", "json"]);
    assert_eq!(enforce.code, 0, "{}{}", enforce.stdout, enforce.stderr);
    assert!(enforce.stderr.contains("1 partner listing(s) notified"), "{}", enforce.stderr);
    let notices = client(&server, &partner, &["notice", "list", "acme-loud"]);
    assert!(notices.stdout.contains("copy.shouting"), "{}", notices.stdout);
    let loud = wait_until(&server, &partner, "acme-loud@1.4.0", "changes_requested");
    assert_eq!(loud["state"], "changes_requested");
    assert_eq!(wait_until(&server, &partner, "acme-clean@1.4.0", "approved")["state"], "approved");
    let list = client(&server, &reviewer, &["rules", "status"]);
    assert!(list.stdout.contains("assay-builtin@0.2.0") && list.stdout.contains("enforced"), "{}", list.stdout);

    // Published without --wait, the answer says the re-check is under way, not that nothing fails.
    let later = stricter_pack(&dir.path().join("later"), "0.3.0");
    let queued = client(&server, &admin, &["rules", "publish", later.to_str().unwrap(), "--shadow"]);
    assert_eq!(queued.code, 0, "{}{}", queued.stdout, queued.stderr);
    let checked = queued.stdout.lines().find(|l| l.starts_with("re-checked ")).unwrap().to_owned();
    if checked.contains("(still running)") {
        assert!(
            queued.stdout.contains("follow it with `assay rules status assay-builtin@0.3.0 --wait`")
                && !queued.stdout.contains("blast radius: no live listing fails"),
            "{}",
            queued.stdout
        );
    }

    // A new version of the partner's own check re-checks the live version with it.
    let check = dir.path().join("panic.wasm");
    std::fs::write(&check, assay_builtin::artifact("hostile_panic.wasm")).unwrap();
    let updated = client(&server, &partner, &["checks", "update", "acme-clean", check.to_str().unwrap(), "--wait"]);
    assert_eq!(updated.code, 1, "{}{}", updated.stdout, updated.stderr);
    assert!(updated.stdout.contains("acme-clean@1.4.0 re-checked with the new checks: fail"), "{}", updated.stdout);
    server.kill();
}

fn wait_until(server: &Server, token: &str, target: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = client(server, token, &["status", target, "--format", "json"]);
        let v: Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        if v["state"] == state || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A small random number from the clock (no generator needed for picking a kill delay).
fn jitter(range: std::ops::Range<u64>) -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    range.start + nanos % (range.end - range.start)
}

/// An `assay worker` process.
fn worker(data: &Data) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("assay"))
        .current_dir(root())
        .args(["worker", "--lease-secs", "2", "--workers", "2"])
        .args(data.args())
        .env("ASSAY_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("assay-cache"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGKILL, again and again, during a re-check storm of 10,000 jobs: on SQLite the process
/// running the workers is `assay serve`; on PostgreSQL three `assay worker` processes share the
/// database with an API node. Afterwards no job is lost, no verdict is recorded twice and no
/// job is stuck past its lease.
#[test]
fn repeated_sigkill_during_a_recheck_storm_loses_and_duplicates_nothing() {
    const JOBS: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    for data in backends(dir.path()) {
        let _drop = DropDatabase(data.clone());
        let admin = token(&data, "admin", None);
        let template = std::fs::read_to_string(root().join("examples/listings/clean/listing.toml")).unwrap();
        runtime().block_on(async {
            let store = data.open().await;
            let partner = store.ensure_partner("test", "acme", &[assay_store::Capability::List]).await.unwrap();
            let rows: Vec<(String, String)> = (0..JOBS)
                .map(|i| {
                    let slug = format!("storm-{i:05}");
                    let text = template.replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\""));
                    (slug, text)
                })
                .collect();
            for chunk in rows.chunks(2_000) {
                let chunk: Vec<_> = chunk.iter().map(|(s, m)| (s.as_str(), "1.4.0", m.as_str())).collect();
                store.import_live("test", partner, &chunk).await.unwrap();
            }
            store.close().await;
        });
        let sqlite = matches!(data, Data::Dir(_));
        // On PostgreSQL the API node runs one worker of its own and is never killed.
        let api_workers = if sqlite { "2" } else { "1" };
        let mut server = Server::start_with(&data, None, &["--workers", api_workers]);
        let published = client(&server, &admin, &["rules", "publish", "builtin", "--shadow"]);
        assert_eq!(published.code, 0, "{}", published.stderr);
        let mut workers: Vec<Child> = if sqlite { Vec::new() } else { (0..3).map(|_| worker(&data)).collect() };
        // The job counts, and how many unfinished jobs one more lost worker would quarantine.
        let counts = || {
            runtime().block_on(async {
                let store = data.open().await;
                let counts = store.job_counts(None).await.unwrap();
                let at_risk = store.jobs_lost_at_least(assay_store::MAX_LOST - 1).await.unwrap();
                store.close().await;
                (counts, at_risk)
            })
        };
        let started = Instant::now();
        let mut kills = 0;
        let mut finished_at_last_kill = 0;
        loop {
            std::thread::sleep(Duration::from_millis(jitter(300..1_200)));
            let (now, at_risk) = counts();
            if now.waiting + now.running == 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1_200), "the storm did not finish: {now:?}");
            if kills >= 12 {
                continue; // enough kills: let the storm finish
            }
            // Kill again only once the restarted node has got going: kills landing back to back
            // before it finishes anything would hit the same batch each time, and a job whose
            // workers keep dying is quarantined by design (a poison job; tested on its own).
            if now.done + now.dead < finished_at_last_kill + 32 {
                continue;
            }
            // Nor while a job has lost its worker MAX_LOST - 1 times already (killed with it
            // twice, or its lease lapsed once on this busy machine and it was killed once): one
            // more loss quarantines it by the same design, and this test is about innocent jobs.
            if at_risk > 0 {
                continue;
            }
            finished_at_last_kill = now.done + now.dead;
            if sqlite {
                server.kill();
                server = Server::start_with(&data, None, &["--workers", api_workers]);
            } else {
                let victim = jitter(0..workers.len() as u64) as usize;
                workers[victim].kill().unwrap(); // SIGKILL
                workers[victim].wait().unwrap();
                workers[victim] = worker(&data);
            }
            kills += 1;
            println!("{}: SIGKILL {kills} with {} of {JOBS} re-checks finished", data.name(), now.done + now.dead);
        }
        server.kill();
        for mut w in workers {
            let _ = w.kill();
            let _ = w.wait();
        }
        let (counts, recorded, versions, stuck) = runtime().block_on(async {
            let store = data.open().await;
            let counts = store.job_counts(None).await.unwrap();
            let pack = store.pack("assay-builtin", "0.1.0").await.unwrap().unwrap();
            let (recorded, versions) = store.recheck_totals(pack.id).await.unwrap();
            let stuck = store.stuck_jobs(0).await.unwrap();
            assert!(store.verify_audit().await.unwrap().is_ok());
            store.close().await;
            (counts, recorded, versions, stuck)
        });
        let lost = JOBS as i64 - counts.done;
        let duplicates = recorded - versions;
        println!(
            "{}: {kills} SIGKILLs over {:.1} s; {} jobs, {} done, {lost} lost, {} dead, {recorded} verdicts for {versions} versions ({duplicates} duplicates), {stuck} stuck past their lease",
            data.name(),
            started.elapsed().as_secs_f64(),
            counts.total(),
            counts.done,
            counts.dead
        );
        assert!(kills >= 3, "the storm finished before it could be killed 3 times ({kills})");
        assert_eq!((counts.total(), lost, counts.dead), (JOBS as i64, 0, 0), "no job lost or dead");
        assert_eq!((recorded, duplicates), (JOBS as i64, 0), "one verdict per job and per version");
        assert_eq!(stuck, 0, "no job stuck past its lease");
    }
}

/// `GET path` on the server, by hand (the tests link no HTTP client): the status and the body.
fn http_get(server: &Server, path: &str) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn the_audit_chain_is_checkpointed_verified_and_its_tampering_found() {
    let dir = tempfile::tempdir().unwrap();
    for data in backends(dir.path()) {
        let _cleanup = DropDatabase(data.clone());
        let key = dir.path().join(format!("{}-audit.p8", data.name()));
        let key_args = ["--audit-signing-key", key.to_str().unwrap()];
        let verify =
            |extra: &[&str]| run(assay().args(["audit", "verify"]).args(key_args).args(data.args()).args(extra));
        token(&data, "reviewer", None);
        token(&data, "partner", Some("acme"));

        // The server signs the head; the checkpoints and the public key are public.
        let server = Server::start_with(&data, None, &[&key_args[..], &["--checkpoint-interval-secs", "1"]].concat());
        let deadline = Instant::now() + Duration::from_secs(30);
        let published = loop {
            let (status, body) = http_get(&server, "/v1/audit/checkpoints");
            assert_eq!(status, 200, "{body}");
            let document: Value = serde_json::from_str(&body).unwrap();
            if !document["checkpoints"].as_array().unwrap().is_empty() {
                break body;
            }
            assert!(Instant::now() < deadline, "no checkpoint after 30 s: {body}");
            std::thread::sleep(Duration::from_millis(200));
        };
        let (status, body) = http_get(&server, "/readyz");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""audit":"intact""#), "{body}");
        server.kill();
        let kept = dir.path().join(format!("{}-checkpoints.json", data.name()));
        std::fs::write(&kept, &published).unwrap();
        let document: Value = serde_json::from_str(&published).unwrap();
        let head = document["checkpoints"][0]["seq"].as_i64().unwrap();

        let intact = verify(&[]);
        assert_eq!(intact.code, 0, "{}{}", intact.stdout, intact.stderr);
        assert!(
            intact.stdout.contains("audit chain intact") && intact.stdout.contains("signatures verified"),
            "{}",
            intact.stdout
        );

        // An intruder cuts off the newest event and the checkpoints that covered it: the
        // database agrees with itself now; the copy kept elsewhere does not.
        runtime().block_on(async {
            let store = data.open().await;
            let sql = format!("DELETE FROM audit_events WHERE seq = {head}");
            store.execute_unchecked(Box::leak(sql.into_boxed_str())).await.unwrap();
            store.execute_unchecked("DELETE FROM audit_checkpoints").await.unwrap();
        });
        let fooled = verify(&[]);
        assert_eq!(fooled.code, 0, "the database alone cannot tell: {}{}", fooled.stdout, fooled.stderr);
        let caught = verify(&["--checkpoints", kept.to_str().unwrap()]);
        assert_eq!(caught.code, 1, "{}{}", caught.stdout, caught.stderr);
        assert!(caught.stdout.contains(&format!("BROKEN at event {head}")), "{}", caught.stdout);
        assert!(caught.stdout.contains("removed from the end"), "{}", caught.stdout);

        // An edited event is found by the chain alone, at start too: /readyz says so.
        runtime().block_on(async {
            data.open()
                .await
                .execute_unchecked("UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 1")
                .await
                .unwrap();
        });
        let edited = verify(&[]);
        assert_eq!(edited.code, 1, "{}{}", edited.stdout, edited.stderr);
        assert!(edited.stdout.contains("BROKEN at event 1: its contents were changed"), "{}", edited.stdout);
        let server = Server::start_with(&data, None, &key_args);
        let (status, body) = http_get(&server, "/readyz");
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("broken at event 1"), "{body}");
        server.kill();
    }
}

/// Findings as `(rule, severity, pointer, waived)`, sorted: what a verdict is made of.
fn finding_keys(findings: &Value, waived: &str) -> Vec<(String, String, String, bool)> {
    let mut keys: Vec<_> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_owned();
            (text("rule_id"), text("severity"), text("pointer"), !f[waived].is_null())
        })
        .collect();
    keys.sort();
    keys
}

/// `assay check --server` decides as the service does after a shadow → enforce rollout of a
/// stricter pack: the same pack (pulled by digest), the same previous version, the same live
/// waivers, so the same findings and verdict — on both backends.
#[test]
fn a_local_check_against_the_server_decides_as_the_service_does() {
    let dir = tempfile::tempdir().unwrap();
    for data in backends(dir.path()) {
        let _drop = DropDatabase(data.clone());
        let work = dir.path().join(data.name());
        std::fs::create_dir_all(&work).unwrap();
        let partner = token(&data, "partner", Some("acme"));
        let reviewer = token(&data, "reviewer", None);
        let admin = token(&data, "admin", None);
        let server = Server::start_with(&data, None, &["--scheduler-interval-secs", "1"]);
        approved(&server, &work, &partner, &reviewer, "clean", "acme-local");

        // The stricter pack (copy.shouting an error), enforced at once.
        let pack = stricter_pack(&work, "0.2.0");
        let enforce =
            client(&server, &admin, &["rules", "publish", pack.to_str().unwrap(), "--enforce", "--grace", "0"]);
        assert_eq!(enforce.code, 0, "{}: {}{}", data.name(), enforce.stdout, enforce.stderr);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let pulled = client(&server, &partner, &["rules", "pull"]);
            assert_eq!(pulled.code, 0, "{}", pulled.stderr);
            if pulled.stderr.contains("assay-builtin 0.2.0") {
                break;
            }
            assert!(Instant::now() < deadline, "the pack was never applied: {}", pulled.stderr);
            std::thread::sleep(Duration::from_millis(300));
        }

        // A patch release that shouts, adds a scope (a minor change) and serves its terms over
        // http; a reviewer waives urls.https for it.
        let next = work.join("next");
        std::fs::create_dir_all(&next).unwrap();
        let text = std::fs::read_to_string(root().join("examples/listings/clean/listing.toml")).unwrap();
        let text = text
            .replace("slug = \"acme-stock-sync\"", "slug = \"acme-local\"")
            .replace("version = \"1.4.0\"", "version = \"1.4.1\"")
            .replace("name = \"Acme Stock Sync\"", "name = \"ACME STOCK SYNC\"")
            .replace("https://acme-apps.com/legal/terms", "http://acme-apps.com/legal/terms")
            + "\n[[scopes]]\nname = \"read_inventory\"\njustification = \"Reads stock levels at each location to compare them.\"\n";
        std::fs::write(next.join("listing.toml"), text).unwrap();
        let waive = client(
            &server,
            &reviewer,
            &[
                "review",
                "waive",
                "acme-local",
                "--rule",
                "urls.https",
                "--versions",
                ">=1.4.1",
                "--expires",
                "2099-01-01T00:00:00Z",
                "--justification",
                "the terms page moves to https with the new host",
            ],
        );
        assert_eq!(waive.code, 0, "{}{}", waive.stdout, waive.stderr);

        let local =
            client(&server, &partner, &["check", next.to_str().unwrap(), "--server", &server.url, "--format", "json"]);
        assert!(
            local.stderr.contains(
                "rule pack assay-builtin@0.2.0, compared with 1.4.0, its last approved version, 1 live waiver"
            ),
            "{}",
            local.stderr
        );
        let local_report: Value = serde_json::from_str(&local.stdout).unwrap();
        let service = client(&server, &partner, &["submit", next.to_str().unwrap(), "--format", "json"]);
        let version: Value = serde_json::from_str(&service.stdout).unwrap_or_else(|_| panic!("{}", service.stderr));

        let local_findings = finding_keys(&local_report["findings"], "waived_by");
        let service_findings = finding_keys(&version["findings"], "waived_by");
        assert_eq!(local_findings, service_findings, "{}: the same findings", data.name());
        assert_eq!(local_report["verdict"], version["verdict"], "{}: the same verdict", data.name());
        assert_eq!(local.code, service.code, "{}: the same exit code", data.name());
        // …and it is the service's pack, previous version and waiver that made them.
        let has = |rule: &str, severity: &str, waived: bool| {
            local_findings.iter().any(|(r, s, _, w)| r == rule && s == severity && *w == waived)
        };
        assert!(has("copy.shouting", "error", false), "the enforced pack's severity: {local_findings:?}");
        assert!(has("version.bump-understated", "blocker", false), "compared with 1.4.0: {local_findings:?}");
        assert!(has("urls.https", "error", true), "the waiver covers it: {local_findings:?}");
        assert_eq!(local_report["verdict"], "fail");
        let help = local_report["findings"][0]["help_url"].as_str().unwrap();
        assert!(
            help.starts_with(&format!("{}/rules/", server.url)),
            "findings link to the service's rule pages: {help}"
        );
        // A listing the service does not have yet is checked as its first version would be.
        let fresh = run(assay()
            .args(["check", "examples/listings/shouting", "--server", &server.url, "--format", "json"])
            .env("ASSAY_TOKEN", &partner));
        assert!(fresh.stderr.contains("would review a first version"), "{}", fresh.stderr);
        let fresh = finding_keys(&serde_json::from_str::<Value>(&fresh.stdout).unwrap()["findings"], "waived_by");
        assert!(fresh.iter().any(|(r, s, ..)| r == "copy.shouting" && s == "error"), "the service's pack: {fresh:?}");
        // Without --server the same listing is checked with this binary's pack and nothing else.
        let offline = run(assay().args(["check", next.to_str().unwrap(), "--format", "json"]));
        let offline = finding_keys(&serde_json::from_str::<Value>(&offline.stdout).unwrap()["findings"], "waived_by");
        assert!(offline.iter().any(|(r, s, ..)| r == "copy.shouting" && s == "warning"), "{offline:?}");
        assert!(!offline.iter().any(|(r, ..)| r == "version.bump-understated"), "{offline:?}");
        server.kill();
    }
}
