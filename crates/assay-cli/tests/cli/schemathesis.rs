//! The running server keeps its OpenAPI contract: schemathesis (PyPI, pinned in
//! `.ci/schemathesis-requirements.txt`) generates requests for every operation from
//! `/openapi.json`, valid ones and deliberately invalid ones, as a partner and as a reviewer, and
//! checks every response: no server error, every status documented for its operation, every body
//! and header as its schema says. A bounded run with a fixed seed, so a failure reproduces.

use std::path::Path;
use std::process::Command;

use super::serve::{Data, Server, token};

/// The checks, named as schemathesis names them.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

#[test]
fn every_operation_keeps_its_contract_for_a_partner_and_a_reviewer() {
    let Some(st) = std::env::var_os("ASSAY_TEST_SCHEMATHESIS") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the contract test: set ASSAY_TEST_SCHEMATHESIS to schemathesis's `st` (.ci/run installs it)"
        );
        eprintln!("skipped: set ASSAY_TEST_SCHEMATHESIS to schemathesis's `st` to run the contract test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let partner = token(&data, "partner", Some("acme"));
    let reviewer = token(&data, "reviewer", None);
    // Generated webhook URLs name hosts on the internet. The dispatcher's first pass runs at
    // start, when no endpoint exists, and its next one an hour later, long after the run: no
    // message leaves this machine.
    let server = Server::start_with(&data, None, &["--webhook-interval-secs", "3600"]);
    let reports = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    for (who, token) in [("partner", &partner), ("reviewer", &reviewer)] {
        let junit = reports.join(format!("{who}.xml"));
        // One worker: Python 3.11's `ast` (Debian 12 ships 3.11.2) keeps its recursion depth
        // per interpreter, not per thread (CPython gh-106905, fixed in 3.11.5), so two workers
        // describing Hypothesis strategies at once can crash the tool with "AST constructor
        // recursion depth mismatch" — a crash of schemathesis, not a finding about the API.
        let out = Command::new(&st)
            .args(["run", &format!("{}/openapi.json", server.url)])
            .args(["--url", &server.url])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", CHECKS])
            .args(["--mode", "all", "--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "100", "--seed", "15", "--workers", "1"])
            .args(["--report", "junit", "--report-junit-path"])
            .arg(&junit)
            // Its example database and reports stay in the test's own directory.
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis as the {who} found contract violations (report: {}):\n{stdout}\n{}",
            junit.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // A run that tested nothing would pass too: every operation must have been reached.
        let field = |name: &str| {
            let line = stdout.lines().find(|l| l.trim_start().starts_with(name));
            line.unwrap_or_else(|| panic!("no `{name}` in:\n{stdout}")).trim().to_owned()
        };
        let selected = field("Selected:");
        let (_, of) = selected.rsplit_once('/').unwrap();
        assert_eq!(field("Tested:"), format!("Tested: {of}"), "{stdout}");
        let summary = stdout.lines().find(|l| l.contains(" generated, ")).unwrap_or_default().trim();
        eprintln!("schemathesis as the {who}: {summary}");
    }
}
