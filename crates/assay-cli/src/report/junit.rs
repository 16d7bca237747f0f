//! JUnit XML, for CI test reports: one test suite per listing, one test case per check.
//! Blocking findings fail their check's case, with the fix each finding names; a check that
//! did not complete is an error. The suite carries when the run started and how long it took
//! (the pack and components loaded, every check run); each case its check's own time, which
//! JUnit's millisecond `time` rounds to 0.000 for most rules, so its output says it in µs.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::Report;

pub fn render(report: &Report) -> anyhow::Result<String> {
    let fail_on: assay_core::Severity = report.fail_on.parse()?;
    let mut suite = TestSuite::new(format!("assay {}", report.subject()));
    let mut junit = quick_junit::Report::new("assay");
    if let Some(run) = report.run {
        let started =
            chrono::DateTime::from_timestamp(run.started.as_second(), run.started.subsec_nanosecond().max(0) as u32)
                .map(|t| t.fixed_offset());
        if let Some(started) = started {
            suite.set_timestamp(started);
            junit.set_timestamp(started);
        }
        suite.set_time(run.elapsed);
        junit.set_time(run.elapsed);
    }
    let classname = format!("assay.{}", report.listing.slug.as_deref().unwrap_or("listing"));
    if let Some(error) = &report.error {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_type("invalid_manifest")
            .set_message(format!("{}:{}:{}: {}", report.listing.file, error.line, error.column, error.message));
        let mut case = TestCase::new("listing.toml", status);
        case.set_classname(classname.as_str());
        suite.add_test_case(case);
    }
    for check in &report.checks {
        let findings: Vec<_> = report.findings.iter().filter(|f| f.rule_id == check.id).collect();
        let blocking: Vec<_> = findings
            .iter()
            .filter(|f| f.severity.parse::<assay_core::Severity>().is_ok_and(|s| s >= fail_on))
            .collect();
        let describe = |list: &[&&super::FindingReport]| {
            list.iter()
                .map(|f| {
                    let fix = f.remediation.as_deref().map(|fix| format!("\n  fix: {fix}")).unwrap_or_default();
                    format!(
                        "{}:{}:{} [{}] {} ({}){fix}",
                        report.listing.file, f.line, f.column, f.severity, f.message, f.pointer
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let status = if let Some(message) = &check.message {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type(check.outcome.as_str()).set_message(message.as_str());
            status
        } else if !blocking.is_empty() {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_type("findings")
                .set_message(format!("{} blocking finding(s)", blocking.len()))
                .set_description(describe(&blocking));
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(check.id.as_str(), status);
        case.set_classname(classname.as_str()).set_time(std::time::Duration::from_micros(check.usage.wall_time_us));
        let all: Vec<_> = findings.iter().collect();
        let ran = format!("ran in {} µs", check.usage.wall_time_us);
        case.set_system_out(if all.is_empty() { ran } else { format!("{ran}\n{}", describe(&all)) });
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    Ok(junit.to_string()?)
}
