//! For people: findings most severe first, each with the manifest line it is about.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use assay_core::{ManifestError, SourceMap};

use super::Report;

fn level(severity: &str) -> Level<'static> {
    match severity {
        "blocker" => Level::ERROR.with_name("blocker"),
        "error" => Level::ERROR,
        "warning" => Level::WARNING,
        _ => Level::INFO,
    }
}

pub fn render(report: &Report, source_map: &SourceMap) -> anyhow::Result<String> {
    let renderer = Renderer::styled();
    let mut out = String::new();
    let file = report.listing.file.as_str();
    for f in &report.findings {
        let span = source_map.span(&f.pointer).unwrap_or(0..0);
        let label = if f.pointer.is_empty() { "the listing".to_owned() } else { f.pointer.clone() };
        let mut groups = vec![
            level(&f.severity).primary_title(f.message.as_str()).id(f.rule_id.as_str()).element(
                Snippet::source(source_map.source())
                    .path(file)
                    .fold(true)
                    .annotation(AnnotationKind::Primary.span(span).label(label)),
            ),
        ];
        if let Some(hint) = &f.remediation {
            groups.push(Group::with_title(Level::HELP.secondary_title(hint.as_str())));
        }
        // A local run's rules link nowhere; `assay rules show ID` prints their documentation.
        let see = if f.help_url.is_empty() {
            format!("read more: assay rules show {}", f.rule_id)
        } else {
            format!("see {}", f.help_url)
        };
        groups.push(Group::with_title(Level::NOTE.secondary_title(see)));
        if let Some(id) = f.waived_by {
            let waived = format!("waived by the review service's waiver #{id}: it does not block");
            groups.push(Group::with_title(Level::NOTE.secondary_title(waived)));
        }
        out.push_str(&renderer.render(&groups));
        out.push_str("\n\n");
    }
    for check in report.failed_checks() {
        let what = if check.platform { "platform rule" } else { "partner check" };
        let title = format!("{what} `{}` did not complete: {}", check.id, check.outcome);
        let message = check.message.as_deref().unwrap_or("no details");
        let groups = [
            Group::with_title(Level::ERROR.with_name("check failed").primary_title(title)),
            Group::with_title(Level::NOTE.secondary_title(message)),
        ];
        out.push_str(&renderer.render(&groups));
        out.push_str("\n\n");
    }
    for check in report.checks.iter().filter(|c| c.integration) {
        out.push_str(&transcript(check));
    }
    let s = &report.summary;
    let style = match report.verdict.as_str() {
        "pass" => anstyle::AnsiColor::Green.on_default().bold(),
        _ => anstyle::AnsiColor::Red.on_default().bold(),
    };
    out.push_str(&format!(
        "{style}{}{style:#}: {} — {} blocker, {} error, {} warning, {} info from {} checks ({} did not complete); fails on {} and above\n",
        report.verdict,
        report.subject(),
        s.blocker,
        s.error,
        s.warning,
        s.info,
        report.checks.len(),
        report.failed_checks().count(),
        report.fail_on,
    ));
    Ok(out)
}

/// An integration check's platform calls, grouped by operation in first-call order.
fn transcript(check: &super::CheckReport) -> String {
    let mut groups: Vec<(&str, &str, &str, usize)> = Vec::new();
    for call in &check.transcript {
        match groups.iter_mut().find(|g| (g.0, g.1, g.2) == (&call.operation, &call.scope, &call.outcome)) {
            Some(group) => group.3 += 1,
            None => groups.push((&call.operation, &call.scope, &call.outcome, 1)),
        }
    }
    let u = &check.usage;
    let mut out = format!(
        "integration check `{}` ({}): {} platform calls, {} bytes sent, fuel {}, peak memory {} KiB\n",
        check.id,
        check.outcome,
        u.platform_calls,
        u.bytes_out,
        u.fuel.map_or_else(|| "-".to_owned(), |f| f.to_string()),
        u.peak_memory_bytes >> 10
    );
    for (operation, scope, outcome, count) in groups {
        out.push_str(&format!("  {count:>4} × {operation:<18} {scope:<20} {outcome}\n"));
    }
    out.push('\n');
    out
}

/// A refused manifest, rustc-style.
pub fn manifest_error(e: &ManifestError, source: &str) -> String {
    let label = if e.field.is_empty() { "here".to_owned() } else { e.field.clone() };
    let group = Level::ERROR.primary_title(e.message.as_str()).element(
        Snippet::source(source)
            .path(e.file.as_str())
            .fold(true)
            .annotation(AnnotationKind::Primary.span(e.span.clone()).label(label)),
    );
    let pointer =
        format!("field: {} (JSON Pointer `{}`)", if e.field.is_empty() { "<document>" } else { &e.field }, e.pointer);
    Renderer::styled().render(&[group, Group::with_title(Level::NOTE.secondary_title(pointer))])
}
