//! `version.semver`: a listing version is a release, and it moves forward.

use std::cmp::Ordering;

use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, export_rule, finding};

struct VersionSemver;

/// A semver 2.0 version: `MAJOR.MINOR.PATCH[-pre][+build]`.
#[derive(Debug)]
struct Version<'a> {
    core: [u64; 3],
    pre: Vec<&'a str>,
    build: Option<&'a str>,
}

/// A dot-separated list of non-empty `[0-9A-Za-z-]` identifiers.
fn identifiers(s: &str) -> Option<Vec<&str>> {
    let ids: Vec<&str> = s.split('.').collect();
    ids.iter().all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(ids)
}

/// Whether `id` is a numeric identifier.
fn numeric(id: &str) -> bool {
    id.bytes().all(|b| b.is_ascii_digit())
}

/// Parse per semver 2.0: numbers have no leading zeros, nor do numeric pre-release identifiers.
fn parse(s: &str) -> Option<Version<'_>> {
    let (rest, build) = match s.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (s, None),
    };
    if build.is_some_and(|b| identifiers(b).is_none()) {
        return None;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, identifiers(pre)?),
        None => (rest, Vec::new()),
    };
    if pre.iter().any(|id| numeric(id) && id.len() > 1 && id.starts_with('0')) {
        return None;
    }
    let parts: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        return None;
    };
    let number = |p: &str| -> Option<u64> {
        (!p.is_empty() && numeric(p) && (p == "0" || !p.starts_with('0'))).then(|| p.parse().ok()).flatten()
    };
    Some(Version { core: [number(major)?, number(minor)?, number(patch)?], pre, build })
}

/// Semver precedence (build metadata is ignored).
fn precedence(a: &Version<'_>, b: &Version<'_>) -> Ordering {
    a.core.cmp(&b.core).then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in a.pre.iter().zip(&b.pre) {
                let order = match (numeric(x), numeric(y)) {
                    // No leading zeros, so the longer number is the larger one.
                    (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
            a.pre.len().cmp(&b.pre.len())
        }
    })
}

/// The smallest plain release above `v`: its own release for a pre-release, else the next patch.
fn next_release(v: &Version<'_>) -> String {
    let [major, minor, patch] = v.core;
    if v.pre.is_empty() { format!("{major}.{minor}.{}", patch + 1) } else { format!("{major}.{minor}.{patch}") }
}

impl Rule for VersionSemver {
    fn info() -> RuleInfo {
        RuleInfo::new("version.semver", "Release version that moves forward", "1.0.0", Severity::Error).description(
            "The version is a semver release: a pre-release is a warning and build metadata is noted, \
             because the marketplace lists what merchants install as final. When an earlier version \
             was approved, the new version must be greater by semver precedence, or merchants' \
             installs would not update.",
        )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let text = &input.listing.version;
        let Some(version) = parse(text) else {
            return Ok(vec![
                finding("/version", format!("version `{text}` is not valid semver 2.0"))
                    .remediation("Write the version as MAJOR.MINOR.PATCH, e.g. 1.4.0."),
            ]);
        };
        let [major, minor, patch] = version.core;
        let release = format!("{major}.{minor}.{patch}");
        let mut findings = Vec::new();
        if !version.pre.is_empty() {
            findings.push(
                finding(
                    "/version",
                    format!(
                        "version `{text}` is a pre-release (`{}`); marketplace listings should be releases",
                        version.pre.join(".")
                    ),
                )
                .remediation(format!("Submit the release version `{release}` once it is final."))
                .severity(Severity::Warning),
            );
        }
        if let Some(build) = version.build {
            findings.push(
                finding(
                    "/version",
                    format!("version `{text}` carries build metadata (`+{build}`), which version ordering ignores"),
                )
                .remediation("Drop the build metadata; the marketplace shows and compares only the version itself.")
                .severity(Severity::Info),
            );
        }
        if let Some(previous) = &input.previous
            && let Some(before) = parse(&previous.version)
            && precedence(&version, &before) != Ordering::Greater
        {
            let how = if precedence(&version, &before) == Ordering::Equal { "the same as" } else { "lower than" };
            findings.push(
                finding(
                    "/version",
                    format!(
                        "version `{text}` is {how} the previously approved version `{}`; a new version must be greater",
                        previous.version
                    ),
                )
                .remediation(format!(
                    "Declare a version greater than {}, e.g. {}.",
                    previous.version,
                    next_release(&before)
                )),
            );
        }
        Ok(findings)
    }
}

export_rule!(VersionSemver);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version<'_> {
        parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn parses_semver_only() {
        assert_eq!(v("1.4.0-rc.1+build.7").core, [1, 4, 0]);
        for bad in ["1.4", "1.4.0.1", "01.4.0", "1.4.0-", "1.4.0-01", "1.4.0+", "1.4.0-a..b", "v1.4.0", "1.4.0-é"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn orders_by_semver_precedence() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in ordered.windows(2) {
            assert_eq!(precedence(&v(pair[0]), &v(pair[1])), Ordering::Less, "{pair:?}");
        }
        assert_eq!(precedence(&v("1.0.0+a"), &v("1.0.0+b")), Ordering::Equal);
    }
}
