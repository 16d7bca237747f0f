//! `assay` as users run it: every example listing, every report format, exit codes.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

#[path = "cli/config.rs"]
mod config;
#[path = "cli/people.rs"]
mod people;
#[path = "cli/rules_test.rs"]
mod rules_test;
#[path = "cli/schemathesis.rs"]
mod schemathesis;
#[path = "cli/serve.rs"]
mod serve;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `assay` with a precompiled-component cache shared by the whole test run.
fn assay() -> Command {
    let mut cmd = Command::cargo_bin("assay").unwrap();
    cmd.current_dir(root())
        .env("ASSAY_CACHE_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("assay-cache"))
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn check(example: &str, extra: &[&str]) -> Output {
    let dir = format!("examples/listings/{example}");
    let mut cmd = assay();
    cmd.args(["check", &dir]);
    if root().join(&dir).join("previous.toml").exists() {
        cmd.args(["--previous", &format!("{dir}/previous.toml")]);
    }
    run(cmd.args(extra))
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr))
}

#[test]
fn every_example_listing_gives_its_documented_findings_and_exit_code() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("examples/listings")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expect: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("expect.toml")).unwrap()).unwrap();
        assert!(dir.join("README.md").exists(), "{name} has no README.md documenting its flaw");
        let out = check(&name, &["--format", "json"]);
        let exit = expect["exit"].as_integer().unwrap() as i32;
        assert_eq!(out.code, exit, "{name}: exit code\n{}", out.stderr);
        if exit == 2 {
            let error = expect["error"].as_str().unwrap();
            assert!(out.stderr.contains(error), "{name}: stderr lacks {error:?}:\n{}", out.stderr);
            assert!(out.stderr.contains("listing.toml:"), "{name}: the error names no location:\n{}", out.stderr);
        } else {
            let report = json(&out);
            let mut found: Vec<String> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["rule_id"].as_str().unwrap().to_owned())
                .collect();
            found.sort();
            found.dedup();
            let mut expected: Vec<String> =
                expect["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            expected.sort();
            assert_eq!(found, expected, "{name}: rule ids with findings");
            assert_eq!(report["checks"].as_array().unwrap().len(), 34, "{name}: every rule of the pack ran");
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} examples");
}

#[test]
fn human_output_points_at_the_manifest_line() {
    let out = check("http-urls", &["--color", "never"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("error[urls.https]"), "{}", out.stdout);
    assert!(out.stdout.contains("examples/listings/http-urls/listing.toml:16:12"), "{}", out.stdout);
    assert!(out.stdout.contains("homepage = \"http://acme-apps.com/stock-sync\""), "{}", out.stdout);
    assert!(out.stdout.contains("help: Serve the page over HTTPS"), "{}", out.stdout);
    assert!(!out.stdout.contains('\x1b'), "no colour when asked for none");
    assert!(check("http-urls", &["--color", "always"]).stdout.contains('\x1b'));
    let mut cmd = assay();
    let no_color = run(cmd.env("NO_COLOR", "1").args(["check", "examples/listings/http-urls", "--color", "auto"]));
    assert!(!no_color.stdout.contains('\x1b'), "NO_COLOR is honoured");
}

#[test]
fn invalid_manifest_is_shown_with_a_code_frame() {
    let out = check("invalid-unknown-field", &["--color", "never"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown field"), "{}", out.stderr);
    assert!(out.stderr.contains("JSON Pointer `/"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing on stdout for bad input");
}

#[test]
fn a_refused_manifest_still_gets_a_machine_readable_report() {
    let sarif_schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/assay-cli/tests/data/sarif-2.1.0.schema.json")).unwrap(),
    )
    .unwrap();
    let report_schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap()).unwrap();
    let out = check("invalid-url", &["--format", "sarif"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not a valid absolute URL"), "the human error still goes to stderr");
    let sarif = json(&out);
    assert!(jsonschema::validator_for(&sarif_schema).unwrap().is_valid(&sarif));
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "manifest.invalid");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 17);
    assert_eq!(sarif["runs"][0]["invocations"][0]["executionSuccessful"], false);

    let report = json(&check("invalid-url", &["--format", "json"]));
    assert!(jsonschema::validator_for(&report_schema).unwrap().is_valid(&report));
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["error"]["pointer"], "/urls/privacy-policy");

    let junit = check("invalid-url", &["--format", "junit"]).stdout;
    assert!(junit.contains(r#"errors="1""#) && junit.contains(r#"type="invalid_manifest""#), "{junit}");
}

#[test]
fn fail_on_sets_the_blocking_severity() {
    assert_eq!(check("shouting", &[]).code, 0);
    assert_eq!(check("shouting", &["--fail-on", "warning"]).code, 1);
    assert_eq!(check("http-urls", &["--fail-on", "blocker"]).code, 0);
}

#[test]
fn json_report_matches_its_published_schema() {
    let schema_text = run(assay().arg("schema")).stdout;
    let checked_in = std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap();
    assert_eq!(
        schema_text, checked_in,
        "docs/report.schema.json is stale: run `cargo run -- schema > docs/report.schema.json`"
    );
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for example in ["clean", "http-urls", "scope-escalation-minor-bump"] {
        let report = json(&check(example, &["--format", "json"]));
        let errors: Vec<String> = validator.iter_errors(&report).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
        let checks = report["checks"].as_array().unwrap();
        assert!(
            checks.iter().all(|c| c["usage"]["peak_memory_bytes"].as_u64().unwrap() > 0),
            "resource usage is recorded"
        );
    }
}

#[test]
fn sarif_is_valid_2_1_0_with_rules_and_locations() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/assay-cli/tests/data/sarif-2.1.0.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let out = check("http-urls", &["--format", "sarif"]);
    assert_eq!(out.code, 1);
    let sarif = json(&out);
    let errors: Vec<String> = validator.iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 34);
    let https = rules.iter().position(|r| r["id"] == "urls.https").unwrap();
    // A local run has no help page to link to; the rule's documentation travels as its help.
    assert!(rules[https].get("helpUri").is_none(), "{}", rules[https]);
    let help = &rules[https]["help"];
    assert!(help["markdown"].as_str().unwrap().contains("## How to fix"), "{help}");
    let text = help["text"].as_str().unwrap();
    assert!(text.contains("How to fix") && !text.contains("## ") && !text.contains("```"), "plain text: {text}");
    assert!(rules.iter().all(|r| r["help"]["text"].as_str().is_some_and(|t| !t.is_empty())), "every rule has help");
    assert_eq!(rules[https]["defaultConfiguration"]["level"], "error");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "urls.https");
    assert_eq!(result["ruleIndex"], https);
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["region"]["startLine"], 16);
    // The region is the value: `homepage = "http://…"` from its opening quote to past its closing one.
    let line = std::fs::read_to_string(root().join("examples/listings/http-urls/listing.toml")).unwrap();
    let line = line.lines().nth(15).unwrap();
    let (start, end) = (line.find('"').unwrap() + 1, line.rfind('"').unwrap() + 2);
    assert_eq!(
        (location["region"]["startColumn"].as_u64(), location["region"]["endColumn"].as_u64()),
        (Some(start as u64), Some(end as u64)),
        "{line}"
    );
    // Relative to the repository's root, which code scanning maps onto the checkout.
    assert_eq!(location["artifactLocation"]["uri"], "examples/listings/http-urls/listing.toml");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let root_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root_uri.starts_with("file:///") && root_uri.ends_with('/'), "{root_uri}");
    // --base-dir moves the base: the listing's own directory.
    let out = check("http-urls", &["--format", "sarif", "--base-dir", "examples/listings"]);
    let sarif = json(&out);
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "http-urls/listing.toml");
    assert!(result["partialFingerprints"]["assayFinding/v1"].as_str().unwrap().len() == 64);
}

#[test]
fn junit_marks_failing_rules_as_failures() {
    let out = check("http-urls", &["--format", "junit"]);
    assert_eq!(out.code, 1);
    let xml = out.stdout;
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"tests="34""#) && xml.contains(r#"failures="1""#) && xml.contains(r#"errors="0""#), "{xml}");
    assert!(xml.contains(r#"<testcase name="urls.https" classname="assay.acme-stock-sync""#), "{xml}");
    assert!(xml.contains("<failure message=\"2 blocking finding(s)\" type=\"findings\">"), "{xml}");
    // Each failure says how to fix it; each case its check's own time, in µs.
    assert!(xml.contains("  fix: Serve the page over HTTPS"), "{xml}");
    assert!(xml.contains("<system-out>ran in "), "{xml}");
    // The suite says when the run started and how long it took: never 0.000, since loading the
    // pack alone takes milliseconds.
    let suite = xml.lines().find(|l| l.trim_start().starts_with("<testsuite ")).unwrap();
    let attribute = |name: &str| suite.split(&format!(" {name}=\"")).nth(1).unwrap().split('"').next().unwrap();
    let started: jiff::Timestamp = attribute("timestamp").parse().unwrap();
    assert!((jiff::Timestamp::now() - started).get_seconds().abs() < 600, "{suite}");
    assert!(attribute("time").parse::<f64>().unwrap() > 0.0, "{suite}");
}

#[test]
fn output_flag_writes_a_file_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.txt");
    let mut cmd = assay();
    let out = run(cmd.args(["check", "examples/listings/http-urls", "--color", "always", "--output"]).arg(&file));
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("error[urls.https]") && !text.contains('\x1b'), "{text}");
}

#[test]
fn a_hostile_partner_check_blocks_while_the_rules_still_report() {
    let trap = format!("{}/hostile_panic.wasm", assay_builtin::ARTIFACTS_DIR);
    let out = check("http-urls", &["--format", "json", "--check", &trap]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json(&out);
    let checks = report["checks"].as_array().unwrap();
    let partner = checks.iter().find(|c| c["platform"] == false).unwrap();
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["author"] == "platform"));
    assert_eq!(partner["outcome"], "trapped");
    assert!(partner["message"].as_str().unwrap().contains("deliberate panic"));
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["rule_id"] == "urls.https"));
}

#[test]
fn a_platform_rule_that_cannot_run_is_exit_3() {
    let pack = tempfile::tempdir().unwrap();
    std::fs::write(
        pack.path().join("pack.toml"),
        "name = \"broken\"\nversion = \"1.0.0\"\n[[rule]]\ncomponent = \"rule_urls_https.wasm\"\n[[rule]]\ncomponent = \"hostile_loop.wasm\"\n",
    )
    .unwrap();
    for name in ["rule_urls_https.wasm", "hostile_loop.wasm"] {
        std::fs::write(pack.path().join(name), assay_builtin::artifact(name)).unwrap();
    }
    let out =
        check("http-urls", &["--format", "json", "--timeout-ms", "300", "--rules", pack.path().to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = json(&out);
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["pack"]["name"], "broken");
    assert_eq!(report["checks"][1]["outcome"], "timed_out");
    assert_eq!(report["findings"].as_array().unwrap().len(), 2, "the honest rule still reports");
}

#[test]
fn rules_list_shows_the_builtin_pack() {
    let out = run(assay().args(["rules", "list", "--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pack = json(&out);
    assert_eq!(pack["name"], "assay-builtin");
    let rules = pack["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 34);
    assert!(rules.iter().all(|r| !r["description"].as_str().unwrap().is_empty()));
    let version = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap()["version"].as_str().unwrap().to_owned();
    // Each rule is versioned on its own: the bump rule grew the semver policy table.
    assert_eq!(version("version.bump-understated"), "1.1.0");
    assert_eq!(version("urls.https"), "1.0.0");
    let table = run(assay().args(["rules", "list"])).stdout;
    assert!(table.contains("scopes.wildcard") && table.contains("blocker"), "{table}");
}

#[test]
fn usage_errors_are_exit_2() {
    let out = run(assay().args(["check", "examples/listings/no-such-listing"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no-such-listing"), "{}", out.stderr);
    assert_eq!(run(assay().args(["check", "--format", "yaml", "x"])).code, 2);
    let help = run(assay().args(["check", "--help"])).stdout;
    assert!(help.contains("Exit codes:") && help.contains("3  a plugin, the host or the service failed"), "{help}");
}

#[test]
fn an_unusable_cache_directory_only_costs_compile_time() {
    let mut cmd = assay();
    let out = run(cmd.args(["check", "examples/listings/clean", "--cache-dir", "/dev/null/cache"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("not caching compiled rules"), "{}", out.stderr);
}

#[test]
fn limits_are_validated_as_usage_errors() {
    for bad in [["--max-memory-mib", "0"], ["--max-memory-mib", "8192"], ["--timeout-ms", "0"], ["--fuel", "0"]] {
        let out = run(assay().args(["check", "examples/listings/clean"]).args(bad));
        assert_eq!(out.code, 2, "{bad:?}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("flag {}", bad[0])), "{bad:?}: {}", out.stderr);
    }
    assert_eq!(check("clean", &["--max-memory-mib", "32"]).code, 0);
    let factor = run(assay().args(["serve", "--resource-regression-factor", "0.5"]));
    assert_eq!(factor.code, 2, "{}", factor.stderr);
    assert!(factor.stderr.contains("`0.5` is not a factor of 1 or more"), "{}", factor.stderr);
}

#[test]
fn previous_must_be_the_same_listing() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("previous.toml");
    let source = std::fs::read_to_string(root().join("examples/listings/clean/previous.toml")).unwrap();
    std::fs::write(&other, source.replacen("slug = \"acme-stock-sync\"", "slug = \"someone-else\"", 1)).unwrap();
    let mut cmd = assay();
    let out = run(cmd.args(["check", "examples/listings/clean", "--previous"]).arg(&other));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is listing `someone-else`, but"), "{}", out.stderr);
}

#[test]
fn token_create_prints_a_token_the_store_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let create = |args: &[&str]| {
        let mut cmd = assay();
        run(cmd.args(["token", "create"]).args(args).arg("--data-dir").arg(dir.path()))
    };
    let out = create(&["--role", "partner", "--partner", "acme", "--capability", "certify", "--capability", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token = out.stdout.split_whitespace().last().unwrap().to_owned();
    assert!(token.starts_with("assay_"), "{}", out.stdout);
    // Creating a second token for the same partner reuses it.
    let again = create(&["--role", "partner", "--partner", "acme"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let reviewer = create(&["--role", "reviewer"]);
    assert_eq!(reviewer.code, 0, "{}", reviewer.stderr);
    assert_eq!(create(&["--role", "partner"]).code, 2, "a partner token needs --partner");
    let mut cmd = assay();
    let bad_url = run(cmd.args(["token", "create", "--role", "admin", "--database-url", "mysql://db"]));
    assert_eq!(bad_url.code, 2);
    assert!(bad_url.stderr.contains("use sqlite://PATH or postgres://"), "{}", bad_url.stderr);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = assay_store::Store::open_data_dir(dir.path()).await.unwrap();
        let principal = store.authenticate(&token).await.unwrap().unwrap();
        assert_eq!(principal.role, assay_store::Role::Owner);
        assert!(principal.capabilities.contains(&assay_store::Capability::Certify));
        let second = again.stdout.split_whitespace().last().unwrap();
        assert_eq!(store.authenticate(second).await.unwrap().unwrap().partner, principal.partner);
        assert_eq!(store.verify_audit().await.unwrap(), Ok(4), "one partner and three tokens");
    });

    // A token expires (90 days by default, --expires-in-days otherwise) and can be revoked.
    let out = create(&["--role", "reviewer", "--expires-in-days", "7"]);
    assert!(out.stderr.contains("expires in 7 days"), "{}", out.stderr);
    let short = out.stdout.split_whitespace().last().unwrap().to_owned();
    assert_eq!(create(&["--role", "reviewer", "--expires-in-days", "0"]).code, 2);
    let id = runtime.block_on(async {
        let store = assay_store::Store::open_data_dir(dir.path()).await.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let expired = store.token_status(&short, now + 7 * 86_400 + 1).await.unwrap();
        assert!(matches!(expired, assay_store::TokenStatus::Expired(_)), "{expired:?}");
        store.authenticate(&short).await.unwrap().unwrap().token.to_string()
    });
    let revoke = |id: &str| run(assay().args(["token", "revoke", id, "--on-store"]).arg("--data-dir").arg(dir.path()));
    let revoked = revoke(&id);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert_eq!(revoked.stdout.trim(), format!("revoked token:{id}"));
    let twice = revoke(&id);
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(twice.stderr.contains("no live token has id"), "{}", twice.stderr);
    runtime.block_on(async {
        let store = assay_store::Store::open_data_dir(dir.path()).await.unwrap();
        assert_eq!(store.authenticate(&short).await.unwrap(), None);
    });
}

#[test]
fn shell_completions_cover_the_commands() {
    let out = run(assay().args(["completions", "bash"]));
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("--fail-on") && out.stdout.contains("check"), "{}", out.stdout);
}

#[test]
fn oversized_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("listing.toml");
    std::fs::write(&file, "# padding\n".repeat(40_000)).unwrap();
    let mut cmd = assay();
    let out = run(cmd.arg("check").arg(&file));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("may be at most 262144 bytes"), "{}", out.stderr);
}

/// A copy of `examples/integration-check` with its built component where `[check]` says, and
/// the listing text passed through `edit`.
fn integration_listing(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples/integration-check/listing.toml")).unwrap();
    std::fs::write(dir.path().join("listing.toml"), edit(text)).unwrap();
    let component = dir.path().join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&component).unwrap();
    std::fs::write(component.join("shop_sync_check.wasm"), assay_builtin::artifact("shop_sync_check.wasm")).unwrap();
    dir
}

#[test]
fn the_declared_integration_check_runs_and_its_bundle_replays_bit_for_bit() {
    let listing = integration_listing(|t| t);
    let bundle = listing.path().join("run.bundle.json");
    let out =
        run(assay().args(["check", listing.path().to_str().unwrap(), "--format", "json", "--bundle"]).arg(&bundle));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = json(&out);
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "acme.shop-sync").unwrap();
    assert_eq!((check["integration"].as_bool(), check["platform"].as_bool()), (Some(true), Some(false)));
    assert_eq!(check["transcript"].as_array().unwrap().len(), 12, "{check:#}");
    assert_eq!(check["transcript"][0]["operation"], "get-shop");

    let replay = run(assay().args(["replay"]).arg(&bundle));
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    assert!(replay.stdout.starts_with("matched: 37 runs, 12 platform calls, verdict pass"), "{}", replay.stdout);

    // A recorded result that differs from what the inputs give: exit 1, with the difference.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let runs = doc["result"]["runs"].as_array_mut().unwrap();
    let recorded = runs.iter_mut().find(|r| r["check_id"] == "acme.shop-sync").unwrap();
    recorded["transcript"].as_array_mut().unwrap().pop();
    let altered = listing.path().join("altered.json");
    std::fs::write(&altered, serde_json::to_vec(&doc).unwrap()).unwrap();
    let mismatch = run(assay().args(["replay"]).arg(&altered));
    assert_eq!(mismatch.code, 1, "{}{}", mismatch.stdout, mismatch.stderr);
    assert!(
        mismatch.stdout.contains("acme.shop-sync: transcript differs from call 11 (recorded 11 calls, replayed 12)"),
        "{}",
        mismatch.stdout
    );

    // An input that does not match its digest: not replayable at all (exit 2).
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    doc["checks"][0]["component"] = Value::String("AAAA".into());
    std::fs::write(&altered, serde_json::to_vec(&doc).unwrap()).unwrap();
    let tampered = run(assay().args(["replay"]).arg(&altered));
    assert_eq!(tampered.code, 2, "{}{}", tampered.stdout, tampered.stderr);
    assert!(tampered.stderr.contains("does not match its recorded SHA-256"), "{}", tampered.stderr);
}

#[test]
fn an_under_privileged_listing_is_told_which_scope_its_integration_needs() {
    let listing = integration_listing(|t| t.replace("name = \"write_webhooks\"", "name = \"read_webhooks\""));
    let out = run(assay().args(["check", listing.path().to_str().unwrap()]));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("error[integration.refused-call]: `register-webhook` needs scope `write_webhooks`"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("warning[integration.unused-scope]: scope `read_webhooks` is requested"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("register-webhook   write_webhooks       forbidden"), "{}", out.stdout);
}

#[test]
fn a_missing_declared_check_is_a_clear_input_error() {
    let listing = integration_listing(|t| t.replace("shop_sync_check.wasm", "missing.wasm"));
    let out = run(assay().args(["check", listing.path().to_str().unwrap()]));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("reading the check the listing declares ([check] component)"), "{}", out.stderr);
}

/// The Python example (`examples/integration-check-python`, built by its `build.sh` with
/// componentize-py): a check in another language, run and replayed like the Rust one. CI builds
/// it and sets `ASSAY_TEST_PYTHON_CHECK`; under CI the test refuses to skip.
#[test]
fn a_python_integration_check_runs_and_replays() {
    foreign_check("ASSAY_TEST_PYTHON_CHECK", "integration-check-python", "partner.shop-sync-py");
}

/// The JavaScript example (`examples/integration-check-js`, componentize-js): the same check,
/// the same transcript. CI builds it and sets `ASSAY_TEST_JS_CHECK`.
#[test]
fn a_javascript_integration_check_runs_and_replays() {
    foreign_check("ASSAY_TEST_JS_CHECK", "integration-check-js", "partner.shop-sync-js");
}

/// Run an example check built from another language (its component named by `var`) with its
/// listing: it passes with the four calls the examples make, and its bundle replays.
fn foreign_check(var: &str, example: &str, id: &str) {
    let Some(wasm) = std::env::var_os(var) else {
        assert!(std::env::var_os("CI").is_none(), "CI must build examples/{example} and set {var}");
        eprintln!("not run: set {var} to examples/{example}/shop_sync.wasm");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples").join(example).join("listing.toml")).unwrap();
    std::fs::write(dir.path().join("listing.toml"), text).unwrap();
    std::fs::copy(&wasm, dir.path().join("shop_sync.wasm")).unwrap();
    let bundle = dir.path().join("run.json");
    let out = run(assay().args(["check", dir.path().to_str().unwrap(), "--format", "json", "--bundle"]).arg(&bundle));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = json(&out);
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    let ops: Vec<&str> =
        check["transcript"].as_array().unwrap().iter().map(|c| c["operation"].as_str().unwrap()).collect();
    assert_eq!(ops, ["get-shop", "list-products", "list-orders", "register-webhook"]);
    assert!(check["transcript"].as_array().unwrap().iter().all(|c| c["outcome"] == "ok"), "{check:#}");
    let replay = run(assay().args(["replay"]).arg(&bundle));
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    assert!(replay.stdout.starts_with("matched: 37 runs, 4 platform calls, verdict pass"), "{}", replay.stdout);
}

/// Microsoft's SARIF multitool from `tests/sarif` (`npm ci` there; CI does), its Linux binary.
fn sarif_multitool() -> Option<PathBuf> {
    let tool =
        root().join("crates/assay-cli/tests/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if tool.is_file() {
        return Some(tool);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must run `npm ci` in crates/assay-cli/tests/sarif");
    eprintln!("skipping the SARIF multitool test: run `npm ci` in crates/assay-cli/tests/sarif");
    None
}

/// GitHub code scanning's own rules and the SARIF spec's (`validate --rule-kind Gh;Sarif`) find
/// no error in what `assay check --format sarif` writes: for a failing listing, a clean one and
/// one the parser refuses.
#[test]
fn sarif_passes_github_code_scannings_rules() {
    let Some(tool) = sarif_multitool() else { return };
    let dir = tempfile::tempdir().unwrap();
    for example in ["http-urls", "clean", "invalid-url"] {
        let file = dir.path().join(format!("{example}.sarif"));
        check(example, &["--format", "sarif", "--output", file.to_str().unwrap()]);
        assert!(file.is_file(), "{example}: no SARIF written");
        let out = std::process::Command::new("sh")
            .arg("-c")
            // npm leaves the binary without its execute bit when install scripts are off.
            .arg("chmod u+x \"$0\" && exec \"$0\" validate --rule-kind 'Gh;Sarif' \"$1\"")
            .arg(&tool)
            .arg(&file)
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Analysis completed successfully"),
            "{example}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let errors: Vec<&str> = stdout.lines().filter(|l| l.contains(": error ")).collect();
        assert!(errors.is_empty(), "{example}: {errors:#?}");
    }
}
