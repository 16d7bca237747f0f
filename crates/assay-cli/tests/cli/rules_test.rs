//! `assay rules test`: the built-in pack against its own cases, and what a failing, filtered or
//! malformed case run looks like.

use super::*;

/// A case directory in a temporary directory, its cases editing the clean example listing.
fn cases(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let listing = root().join("examples/listings/clean/listing.toml");
    std::fs::copy(listing, dir.path().join("clean.toml")).unwrap();
    std::fs::write(dir.path().join("cases.toml"), text).unwrap();
    dir
}

fn rules_test(dir: &Path, extra: &[&str]) -> Output {
    run(assay().args(["rules", "test"]).arg(dir).args(extra))
}

#[test]
fn the_builtin_pack_passes_every_case_of_its_own() {
    let out = run(assay().args(["rules", "test", "plugins/tests"]));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("test result: ok."), "{}", out.stdout);
    let cases = out.stdout.lines().filter(|l| l.starts_with("test ")).count();
    assert!(cases >= 60, "only {cases} cases:\n{}", out.stdout);
    // The honest listings are cases too: the pack must stay quiet on them.
    let honest = out.stdout.lines().filter(|l| l.starts_with("test plugins/tests/honest.toml")).count();
    assert!(honest >= 20, "only {honest} honest listings");
}

#[test]
fn missing_and_unexpected_findings_fail_the_case_with_what_differs() {
    let dir = cases(
        r#"
[[case]]
name = "the clean listing is clean"
listing = "clean.toml"
findings = "none"

[[case]]
name = "a plain-http homepage, expected at the wrong place"
listing = "clean.toml"
set = { "/urls/homepage" = "http://acme-apps.com/stock-sync" }
findings = [{ rule = "urls.https", severity = "error", pointer = "/urls/terms" }]
"#,
    );
    let out = rules_test(dir.path(), &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(":: the clean listing is clean ... ok"), "{}", out.stdout);
    assert!(out.stdout.contains("expected at the wrong place ... FAILED"), "{}", out.stdout);
    assert!(out.stdout.contains("missing     urls.https error at /urls/terms"), "{}", out.stdout);
    assert!(
        out.stdout.contains("unexpected  urls.https error at /urls/homepage: the homepage URL"),
        "the unexpected finding comes with its message:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("test result: FAILED. 1 passed; 1 failed"), "{}", out.stdout);

    // The same as JUnit: one suite for the file, the failure with what differs.
    let out = rules_test(dir.path(), &["--format", "junit"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("<testsuite name=") && out.stdout.contains("tests=\"2\""), "{}", out.stdout);
    assert!(out.stdout.contains("failures=\"1\""), "{}", out.stdout);
    assert!(out.stdout.contains("1 missing, 1 unexpected, 0 did not run"), "{}", out.stdout);
    assert!(out.stdout.contains("missing     urls.https error at /urls/terms"), "{}", out.stdout);
}

#[test]
fn a_rule_filter_runs_and_compares_only_that_rule() {
    // The edit trips urls.https and urls.valid-host; the case lists only the first.
    let dir = cases(
        r#"
[[case]]
name = "an http homepage on localhost"
listing = "clean.toml"
set = { "/urls/homepage" = "http://localhost/stock-sync" }
findings = [{ rule = "urls.https", severity = "error", pointer = "/urls/homepage" }]
"#,
    );
    assert_eq!(rules_test(dir.path(), &[]).code, 1, "unfiltered, urls.valid-host's finding is unexpected");
    let out = rules_test(dir.path(), &["--rule", "urls.https"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("(1 of 34 rules)"), "{}", out.stdout);
    let out = rules_test(dir.path(), &["--rule", "urls.htps"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no enabled rule `urls.htps`") && out.stderr.contains("urls.https"), "{}", out.stderr);
}

#[test]
fn a_malformed_case_is_an_input_error_naming_the_file_and_case() {
    for (text, error) in [
        ("[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\n", "missing field `findings`"),
        ("[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nfindings = \"nothing\"\n", "or \"none\""),
        ("[[case]]\nname = \"x\"\nlisting = \"gone.toml\"\nfindings = \"none\"\n", "case `x`: reading the listing"),
        (
            "[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nset = { \"/scopes/9/name\" = \"a\" }\nfindings = \"none\"\n",
            "setting `/scopes/9/name` in the listing: `9` is not an index of this array of 4",
        ),
        (
            "[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nset = { \"/version\" = \"one\" }\nfindings = \"none\"\n",
            "not valid semver",
        ),
        (
            "[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nfindings = [{ rule = \"urls.http\", severity = \"error\", pointer = \"/\" }]\n",
            "expects a finding of `urls.http`, which is not an enabled rule of assay-builtin",
        ),
        (
            "[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nfindings = \"none\"\n[[case]]\nname = \"x\"\nlisting = \"clean.toml\"\nfindings = \"none\"\n",
            "two cases are named `x`",
        ),
    ] {
        let dir = cases(text);
        let out = rules_test(dir.path(), &[]);
        assert_eq!(out.code, 2, "{text}\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("cases.toml"), "the file is named: {}", out.stderr);
        assert!(out.stderr.contains(error), "{text}: stderr lacks {error:?}:\n{}", out.stderr);
    }
}

#[test]
fn a_previous_version_is_compared_and_edits_append_to_arrays() {
    // A new write scope in a minor release: the bump rule asks for a major one.
    let dir = cases(
        r#"
[[case]]
name = "a new write scope in a minor release"
listing = "clean.toml"
set = { "/version" = "1.5.0", "/scopes/-" = { name = "write_orders", justification = "Tags each order with the location that ships it." } }
previous = "clean.toml"
findings = [{ rule = "version.bump-understated", severity = "blocker", pointer = "/scopes/4/name" }]
"#,
    );
    let out = rules_test(dir.path(), &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}

/// `assay rules new` makes a project that builds as it is and passes its own cases: Rust always;
/// Python and JavaScript with the toolchains CI installs for the integration-check examples.
#[test]
fn a_new_rule_project_builds_and_passes_its_own_cases_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    let python = std::env::var_os("ASSAY_TEST_PYTHON_CHECK").is_some();
    let js = std::env::var_os("ASSAY_TEST_JS_CHECK").is_some();
    for (lang, id, enabled) in
        [("rust", "copy.summary-length", true), ("python", "acme.tone", python), ("js", "acme.tone-js", js)]
    {
        if !enabled {
            eprintln!("skipping the {lang} scaffold: its toolchain is built with the {lang} example (CI does)");
            continue;
        }
        let project = dir.path().join(lang);
        let out = run(assay().args(["rules", "new", id, "--lang", lang, "--dir"]).arg(&project));
        assert_eq!(out.code, 0, "{lang}: {}", out.stderr);
        assert!(out.stderr.contains("./build.sh && assay rules test"), "{}", out.stderr);
        let mut build = std::process::Command::new(project.join("build.sh"));
        match lang {
            // One target directory for every run of this test: the SDK compiles once.
            "rust" => build.env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules-new")),
            "python" => {
                build.env("COMPONENTIZE_PY", root().join("examples/integration-check-python/.venv/bin/componentize-py"))
            }
            _ => {
                std::os::unix::fs::symlink(
                    root().join("examples/integration-check-js/node_modules"),
                    project.join("node_modules"),
                )
                .unwrap();
                &mut build
            }
        };
        let built = build.output().unwrap();
        assert!(
            built.status.success(),
            "{lang}: {}{}",
            String::from_utf8_lossy(&built.stdout),
            String::from_utf8_lossy(&built.stderr)
        );
        let out = run(assay().args(["rules", "test"]).arg(&project));
        assert_eq!(out.code, 0, "{lang}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("test result: ok. 3 passed"), "{lang}: {}", out.stdout);
        let shown = run(assay().args(["rules", "show", id, "--rules"]).arg(&project));
        assert!(
            shown.stdout.contains("## How to fix"),
            "{lang}: its documentation ships in its pack: {}",
            shown.stdout
        );
    }
    // The same id twice is refused rather than overwritten, and a bad id says what an id is.
    let again = run(assay().args(["rules", "new", "copy.summary-length", "--dir"]).arg(dir.path().join("rust")));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("exists and is not empty"), "{}", again.stderr);
    let bad = run(assay().args(["rules", "new", "SummaryLength"]));
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("lowercase dotted segments"), "{}", bad.stderr);
}
