//! `version.bump-understated`: the version bump is as large as the changes it ships.

use assay_sdk::{CheckInput, Config, Finding, Listing, Rule, RuleInfo, Severity, export_rule, finding, log};

struct BumpUnderstated;

/// How large a version change is, smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bump {
    None,
    Patch,
    Minor,
    Major,
}

impl Bump {
    fn name(self) -> &'static str {
        match self {
            Bump::None => "no",
            Bump::Patch => "a patch",
            Bump::Minor => "a minor",
            Bump::Major => "a major",
        }
    }
}

/// `MAJOR.MINOR.PATCH` of a version, and whether it is a pre-release.
fn core(version: &str) -> Option<([u64; 3], bool)> {
    let release = version.split('+').next()?;
    let (core, pre) = match release.split_once('-') {
        Some((core, _)) => (core, true),
        None => (release, false),
    };
    let mut numbers = core.split('.').map(|n| n.parse::<u64>().ok());
    let parsed = [numbers.next()??, numbers.next()??, numbers.next()??];
    numbers.next().is_none().then_some((parsed, pre))
}

/// The bump from `before` to `after` in compatibility terms. Below 1.0.0 the levels shift
/// down (semver's "anything may change" made practical, as Cargo does): 0.3.0 → 0.4.0 counts
/// as a major bump, 0.3.0 → 0.3.1 as a minor one.
fn declared([m0, n0, p0]: [u64; 3], [m1, n1, p1]: [u64; 3]) -> Bump {
    // The first component that differs decides; going down is no bump at all.
    let level = if m1 != m0 {
        if m1 > m0 { Bump::Major } else { Bump::None }
    } else if n1 != n0 {
        if n1 > n0 { Bump::Minor } else { Bump::None }
    } else if p1 > p0 {
        Bump::Patch
    } else {
        Bump::None
    };
    match (m0, m1, level) {
        (0, 0, Bump::Minor) => Bump::Major,
        (0, 0, Bump::Patch) => Bump::Minor,
        _ => level,
    }
}

/// The smallest version after `before` that declares `bump`.
fn smallest([major, minor, patch]: [u64; 3], bump: Bump) -> String {
    match (major, bump) {
        (0, Bump::Major) => format!("0.{}.0", minor + 1),
        (0, _) => format!("0.{minor}.{}", patch + 1),
        (_, Bump::Major) => format!("{}.0.0", major + 1),
        (_, Bump::Minor) => format!("{major}.{}.0", minor + 1),
        _ => format!("{major}.{minor}.{}", patch + 1),
    }
}

/// A change between two listing versions that needs more than a patch bump.
struct Change {
    pointer: String,
    what: String,
    needs: Bump,
    undo: String,
}

/// Every change from `before` to `after` that needs a minor or major bump. Removing a scope
/// takes access away and breaks nothing (a patch); adding a topic is a patch too.
fn changes(before: &Listing, after: &Listing) -> Vec<Change> {
    let had_scope = |name: &str| before.scopes.iter().any(|s| s.name == name);
    let mut out = Vec::new();
    for (i, scope) in after.scopes.iter().enumerate() {
        let name = &scope.name;
        if had_scope(name) {
            continue;
        }
        let pointer = format!("/scopes/{i}/name");
        let read = name.strip_prefix("write_").map(|r| format!("read_{r}"));
        out.push(match read {
            Some(read) if had_scope(&read) => Change {
                pointer,
                what: format!("scope `{read}` was escalated to `{name}`"),
                needs: Bump::Major,
                undo: format!("keep `{read}` instead of `{name}`"),
            },
            _ => Change {
                pointer,
                what: format!("scope `{name}` was added"),
                needs: Bump::Minor,
                undo: format!("drop `{name}`"),
            },
        });
    }
    for webhook in &before.webhooks {
        let topic = &webhook.topic;
        if !after.webhooks.iter().any(|w| w.topic == *topic) {
            out.push(Change {
                pointer: "/webhooks".to_owned(),
                what: format!("the `{topic}` webhook subscription was removed"),
                needs: Bump::Major,
                undo: format!("keep the `{topic}` subscription"),
            });
        }
    }
    out
}

impl Rule for BumpUnderstated {
    fn info() -> RuleInfo {
        RuleInfo::new("version.bump-understated", "Version bump matches the changes", "1.0.0", Severity::Blocker)
            .description(
                "Compared with the last approved version, the declared version bump is at least what \
                 the changes require: an added scope needs a minor bump; escalating a read scope to \
                 write, or removing a webhook topic, needs a major bump (below 1.0.0, a minor bump \
                 counts as major). Merchants and the platform auto-approve minor and patch updates, so \
                 an understated bump would grant new access without the merchant's consent.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let Some(previous) = &input.previous else {
            return Ok(Vec::new());
        };
        let after = &input.listing;
        let (Some((from, from_pre)), Some((to, _))) = (core(&previous.version), core(&after.version)) else {
            return Err(format!("cannot read versions `{}` and `{}` as semver", previous.version, after.version));
        };
        if from_pre {
            log::debug("the previous version is a pre-release, which promises no compatibility; skipping");
            return Ok(Vec::new());
        }
        let bump = declared(from, to);
        let zero = if from[0] == 0 && to[0] == 0 && bump > Bump::Patch {
            " (below 1.0.0 a bump counts one level higher)"
        } else {
            ""
        };
        let declared_text = match bump {
            Bump::None => format!("{} → {} is no version bump", previous.version, after.version),
            _ => format!("{} → {} is {} bump{zero}", previous.version, after.version, bump.name()),
        };
        Ok(changes(previous, after)
            .into_iter()
            .filter(|change| change.needs > bump)
            .map(|change| {
                finding(
                    change.pointer,
                    format!("{}, which needs {} version bump; {declared_text}", change.what, change.needs.name()),
                )
                .remediation(format!(
                    "Declare version {} or later, or {}.",
                    smallest(from, change.needs),
                    change.undo
                ))
            })
            .collect())
    }
}

export_rule!(BumpUnderstated);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_bumps() {
        assert_eq!(declared([1, 3, 0], [2, 0, 0]), Bump::Major);
        assert_eq!(declared([1, 3, 0], [1, 4, 0]), Bump::Minor);
        assert_eq!(declared([1, 3, 0], [1, 3, 1]), Bump::Patch);
        assert_eq!(declared([1, 3, 0], [1, 3, 0]), Bump::None);
        assert_eq!(declared([1, 3, 0], [1, 2, 9]), Bump::None);
        assert_eq!(declared([0, 3, 0], [0, 4, 0]), Bump::Major);
        assert_eq!(declared([0, 3, 0], [0, 3, 1]), Bump::Minor);
        assert_eq!(declared([0, 3, 0], [1, 0, 0]), Bump::Major);
    }

    #[test]
    fn smallest_versions() {
        assert_eq!(smallest([1, 3, 0], Bump::Major), "2.0.0");
        assert_eq!(smallest([1, 3, 0], Bump::Minor), "1.4.0");
        assert_eq!(smallest([0, 3, 2], Bump::Major), "0.4.0");
        assert_eq!(smallest([0, 3, 2], Bump::Minor), "0.3.3");
    }
}
