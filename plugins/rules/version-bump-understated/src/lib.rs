//! `version.bump-understated`: the version bump is as large as the changes it ships.
//!
//! The semver policy, as a table (`docs/lifecycle.md` has it for partners):
//!
//! | change against the last approved version                      | needs  |
//! |---------------------------------------------------------------|--------|
//! | a read scope escalated to write (`read_x` → `write_x`)        | major  |
//! | a webhook subscription removed                                | major  |
//! | the platform API version moved back (the newer one dropped)   | major  |
//! | a scope added                                                 | minor  |
//! | the platform API version moved forward                        | minor  |
//! | data shared with a new recipient, or new data shared          | minor  |
//! | a pricing plan added                                          | minor  |
//! | anything else: copy, URLs, support contact, pricing details, a webhook's URL, a scope or data share removed, a webhook added | patch |
//!
//! Versions compare by semver 2.0 precedence: build metadata does not count, and a
//! pre-release declares the bump of the release it leads to (1.3.0 → 1.4.0-beta.1 is minor).

use assay_sdk::{CheckInput, Config, Finding, Listing, Rule, RuleInfo, Severity, export_rule, finding, log, pointer};
use semver::Version;

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

/// Semver 2.0 precedence: major, minor, patch, then pre-release; build metadata is ignored.
fn precedence(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// The bump from `before` to `after` in compatibility terms, judged on `MAJOR.MINOR.PATCH`
/// (a pre-release declares the bump of its release). Below 1.0.0 the levels shift down
/// (semver's "anything may change" made practical, as Cargo does): 0.3.0 → 0.4.0 counts as a
/// major bump, 0.3.0 → 0.3.1 as a minor one.
fn declared(before: &Version, after: &Version) -> Bump {
    let ([m0, n0, p0], [m1, n1, p1]) =
        ([before.major, before.minor, before.patch], [after.major, after.minor, after.patch]);
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
fn smallest(before: &Version, bump: Bump) -> String {
    match (before.major, bump) {
        (0, Bump::Major) => format!("0.{}.0", before.minor + 1),
        (0, _) => format!("0.{}.{}", before.minor, before.patch + 1),
        (_, Bump::Major) => format!("{}.0.0", before.major + 1),
        (_, Bump::Minor) => format!("{}.{}.0", before.major, before.minor + 1),
        _ => format!("{}.{}.{}", before.major, before.minor, before.patch + 1),
    }
}

/// A change between two listing versions and the bump it needs.
#[derive(Debug)]
struct Change {
    pointer: String,
    what: String,
    needs: Bump,
    undo: String,
}

impl Change {
    fn new(pointer: impl Into<String>, what: String, needs: Bump, undo: String) -> Change {
        Change { pointer: pointer.into(), what, needs, undo }
    }
}

/// Every change from `before` to `after`, each with the bump it needs.
fn changes(before: &Listing, after: &Listing) -> Vec<Change> {
    let mut out = Vec::new();
    scope_changes(before, after, &mut out);
    webhook_changes(before, after, &mut out);
    if after.api_version != before.api_version {
        let (from, to) = (&before.api_version, &after.api_version);
        // API versions are dated (`2026-07`): they order as text.
        out.push(if to > from {
            Change::new(
                "/api-version",
                format!("the platform API version moved forward from `{from}` to `{to}`"),
                Bump::Minor,
                format!("keep `{from}`"),
            )
        } else {
            Change::new(
                "/api-version",
                format!("the platform API version moved back from `{from}` to `{to}`, dropping support for `{from}`"),
                Bump::Major,
                format!("keep `{from}`"),
            )
        });
    }
    for (i, share) in after.data_shared.iter().enumerate() {
        let known = before.data_shared.iter().any(|s| s.data == share.data && s.recipient == share.recipient);
        if !known {
            out.push(Change::new(
                pointer(["data-shared", &i.to_string()]),
                format!("`{}` is newly shared with {}", share.data, share.recipient),
                Bump::Minor,
                "do not share it".to_owned(),
            ));
        }
    }
    for (i, plan) in after.pricing.plans.iter().enumerate() {
        if !before.pricing.plans.iter().any(|p| p.name == plan.name) {
            out.push(Change::new(
                pointer(["pricing", "plans", &i.to_string()]),
                format!("the pricing plan `{}` was added", plan.name),
                Bump::Minor,
                format!("drop the `{}` plan", plan.name),
            ));
        }
    }
    // Everything else that differs is a patch: copy, URLs, contact, pricing details.
    let copy: [(&str, String, String); 8] = [
        ("/name", before.name.clone(), after.name.clone()),
        ("/summary", before.summary.clone(), after.summary.clone()),
        ("/description", before.description.clone(), after.description.clone()),
        ("/category", before.category.clone(), after.category.clone()),
        ("/keywords", format!("{:?}", before.keywords), format!("{:?}", after.keywords)),
        ("/urls", format!("{:?}", before.urls), format!("{:?}", after.urls)),
        ("/support", format!("{:?}", before.support), format!("{:?}", after.support)),
        (
            "/pricing",
            format!("{:?} {:?} {:?}", before.pricing.model, before.pricing.trial_days, before.pricing.plans),
            format!("{:?} {:?} {:?}", after.pricing.model, after.pricing.trial_days, after.pricing.plans),
        ),
    ];
    for (pointer, was, is) in copy {
        if was != is {
            let field = &pointer[1..];
            out.push(Change::new(
                pointer,
                format!("`{field}` changed"),
                Bump::Patch,
                format!("keep `{field}` as it was"),
            ));
        }
    }
    if before
        .data_shared
        .iter()
        .any(|s| !after.data_shared.iter().any(|a| a.data == s.data && a.recipient == s.recipient))
    {
        out.push(Change::new("/data-shared", "a data share was removed".to_owned(), Bump::Patch, "keep it".to_owned()));
    }
    out
}

fn scope_changes(before: &Listing, after: &Listing, out: &mut Vec<Change>) {
    let had_scope = |name: &str| before.scopes.iter().any(|s| s.name == name);
    for (i, scope) in after.scopes.iter().enumerate() {
        let name = &scope.name;
        let at = pointer(["scopes", &i.to_string(), "name"]);
        if had_scope(name) {
            let old = before.scopes.iter().find(|s| s.name == *name).map(|s| s.justification.as_str());
            if old != Some(scope.justification.as_str()) {
                out.push(Change::new(
                    pointer(["scopes", &i.to_string(), "justification"]),
                    format!("the justification of `{name}` changed"),
                    Bump::Patch,
                    "keep it as it was".to_owned(),
                ));
            }
            continue;
        }
        let read = name.strip_prefix("write_").map(|r| format!("read_{r}"));
        out.push(match read {
            Some(read) if had_scope(&read) => Change::new(
                at,
                format!("scope `{read}` was escalated to `{name}`"),
                Bump::Major,
                format!("keep `{read}` instead of `{name}`"),
            ),
            _ => Change::new(at, format!("scope `{name}` was added"), Bump::Minor, format!("drop `{name}`")),
        });
    }
    for scope in &before.scopes {
        let escalated = scope
            .name
            .strip_prefix("read_")
            .is_some_and(|r| after.scopes.iter().any(|s| s.name == format!("write_{r}")));
        if !after.scopes.iter().any(|s| s.name == scope.name) && !escalated {
            out.push(Change::new(
                "/scopes",
                format!("scope `{}` was removed", scope.name),
                Bump::Patch,
                format!("keep `{}`", scope.name),
            ));
        }
    }
}

fn webhook_changes(before: &Listing, after: &Listing, out: &mut Vec<Change>) {
    for webhook in &before.webhooks {
        let topic = &webhook.topic;
        match after.webhooks.iter().position(|w| w.topic == *topic) {
            None => out.push(Change::new(
                "/webhooks",
                format!("the `{topic}` webhook subscription was removed"),
                Bump::Major,
                format!("keep the `{topic}` subscription"),
            )),
            Some(i) if after.webhooks[i].url != webhook.url => out.push(Change::new(
                pointer(["webhooks", &i.to_string(), "url"]),
                format!("the `{topic}` webhook moved to another URL"),
                Bump::Patch,
                "keep its URL".to_owned(),
            )),
            Some(_) => {}
        }
    }
    for (i, webhook) in after.webhooks.iter().enumerate() {
        if !before.webhooks.iter().any(|w| w.topic == webhook.topic) {
            out.push(Change::new(
                pointer(["webhooks", &i.to_string(), "topic"]),
                format!("the `{}` webhook subscription was added", webhook.topic),
                Bump::Patch,
                format!("drop the `{}` subscription", webhook.topic),
            ));
        }
    }
}

impl Rule for BumpUnderstated {
    fn info() -> RuleInfo {
        RuleInfo::new("version.bump-understated", "Version bump matches the changes", "1.1.0", Severity::Blocker)
            .description(
                "Compared with the last approved version, the version is greater (semver 2.0 precedence; \
                 build metadata does not count) and its bump is at least what the changes require: \
                 escalating a read scope to write, removing a webhook subscription or moving the platform \
                 API version back needs a major bump; adding a scope, a pricing plan or a data share, or \
                 moving the API version forward, a minor one; any other change (copy, URLs, contact) a \
                 patch. Below 1.0.0, a minor bump counts as major. Merchants and the platform \
                 auto-approve minor and patch updates, so an understated bump would grant new access \
                 without the merchant's consent.",
            )
    }

    fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
        let Some(previous) = &input.previous else {
            return Ok(Vec::new());
        };
        let after = &input.listing;
        let (Ok(from), Ok(to)) = (Version::parse(&previous.version), Version::parse(&after.version)) else {
            return Err(format!("cannot read versions `{}` and `{}` as semver", previous.version, after.version));
        };
        if !from.pre.is_empty() {
            log::debug("the previous version is a pre-release, which promises no compatibility; skipping");
            return Ok(Vec::new());
        }
        let mut findings = Vec::new();
        if precedence(&to, &from).is_le() {
            let how = if precedence(&to, &from).is_eq() { "has the same precedence as" } else { "is lower than" };
            let build = if !to.build.is_empty() { " (build metadata does not count)" } else { "" };
            findings.push(
                finding("/version", format!("version {to} {how} the last approved version {from}{build}")).remediation(
                    format!("Declare a version greater than {from}, such as {}.", smallest(&from, Bump::Patch)),
                ),
            );
        }
        let bump = declared(&from, &to);
        let zero = if from.major == 0 && to.major == 0 && bump > Bump::Patch {
            " (below 1.0.0 a bump counts one level higher)"
        } else {
            ""
        };
        let declared_text = match bump {
            Bump::None => format!("{from} → {to} is no version bump"),
            _ => format!("{from} → {to} is {} bump{zero}", bump.name()),
        };
        findings.extend(changes(previous, after).into_iter().filter(|change| change.needs > bump).map(|change| {
            finding(
                change.pointer,
                format!("{}, which needs {} version bump; {declared_text}", change.what, change.needs.name()),
            )
            .remediation(format!(
                "Declare version {} or later, or {}.",
                smallest(&from, change.needs),
                change.undo
            ))
        }));
        Ok(findings)
    }
}

export_rule!(BumpUnderstated);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn declared_bumps() {
        let d = |a: &str, b: &str| declared(&v(a), &v(b));
        assert_eq!(d("1.3.0", "2.0.0"), Bump::Major);
        assert_eq!(d("1.3.0", "1.4.0"), Bump::Minor);
        assert_eq!(d("1.3.0", "1.3.1"), Bump::Patch);
        assert_eq!(d("1.3.0", "1.3.0"), Bump::None);
        assert_eq!(d("1.3.0", "1.2.9"), Bump::None);
        assert_eq!(d("0.3.0", "0.4.0"), Bump::Major);
        assert_eq!(d("0.3.0", "0.3.1"), Bump::Minor);
        assert_eq!(d("0.3.0", "1.0.0"), Bump::Major);
        // A pre-release declares the bump of its release; build metadata declares nothing.
        assert_eq!(d("1.3.0", "1.4.0-beta.1"), Bump::Minor);
        assert_eq!(d("1.3.0", "2.0.0-rc.1"), Bump::Major);
        assert_eq!(d("1.3.0", "1.3.0+build.7"), Bump::None);
    }

    #[test]
    fn precedence_follows_semver_2() {
        use std::cmp::Ordering::*;
        assert_eq!(precedence(&v("1.3.0+build.7"), &v("1.3.0")), Equal);
        assert_eq!(precedence(&v("1.4.0-beta.1"), &v("1.4.0")), Less);
        assert_eq!(precedence(&v("1.4.0-beta.2"), &v("1.4.0-beta.11")), Less, "numeric identifiers compare as numbers");
        assert_eq!(precedence(&v("1.4.0-alpha"), &v("1.4.0-alpha.1")), Less);
        assert_eq!(precedence(&v("1.4.0-rc.1"), &v("1.3.9")), Greater);
    }

    /// The honest example listing (1.4.0, API 2026-07, four scopes, two webhooks), parsed as the
    /// service parses it.
    fn listing() -> Listing {
        assay_sdk_testing::listing(assay_sdk_testing::EXAMPLE)
    }

    /// Each change alone, the bump it needs and where it points.
    #[test]
    fn each_change_is_classified() {
        type Edit = fn(&mut Listing);
        let cases: [(Edit, Bump, &str); 14] = [
            (|l| l.scopes[1].name = "write_orders".into(), Bump::Major, "/scopes/1/name"),
            (|l| l.webhooks.clear(), Bump::Major, "/webhooks"),
            (|l| l.api_version = "2026-01".into(), Bump::Major, "/api-version"),
            (
                |l| l.scopes.push(assay_sdk::Scope { name: "read_customers".into(), justification: "x".into() }),
                Bump::Minor,
                "/scopes/4/name",
            ),
            (|l| l.api_version = "2026-10".into(), Bump::Minor, "/api-version"),
            (|l| l.data_shared[0].recipient = "Globex".into(), Bump::Minor, "/data-shared/0"),
            (|l| l.description = "Keeps stock and orders in step.".into(), Bump::Patch, "/description"),
            (|l| l.keywords.push("sync".into()), Bump::Patch, "/keywords"),
            (|l| l.urls.terms = Some("https://acme.example/terms".into()), Bump::Patch, "/urls"),
            (|l| l.support.phone = Some("+1 555 0100".into()), Bump::Patch, "/support"),
            (|l| l.pricing.plans[0].price_cents = 1200, Bump::Patch, "/pricing"),
            (|l| l.webhooks[0].url = "https://acme.example/v2/hooks".into(), Bump::Patch, "/webhooks/0/url"),
            (|l| l.scopes[0].justification = "Mirrors the catalogue.".into(), Bump::Patch, "/scopes/0/justification"),
            (
                |l| {
                    l.scopes.pop();
                },
                Bump::Patch,
                "/scopes",
            ),
        ];
        for (i, (edit, needs, pointer)) in cases.into_iter().enumerate() {
            let before = listing();
            let mut after = listing();
            edit(&mut after);
            let found = changes(&before, &after);
            let top = found.iter().max_by_key(|c| c.needs).unwrap_or_else(|| panic!("case {i}: no change found"));
            assert_eq!((top.needs, top.pointer.as_str()), (needs, pointer), "case {i}: {found:?}");
        }
        assert!(changes(&listing(), &listing()).is_empty(), "no change, no finding");
    }

    #[test]
    fn smallest_versions() {
        assert_eq!(smallest(&v("1.3.0"), Bump::Major), "2.0.0");
        assert_eq!(smallest(&v("1.3.0"), Bump::Minor), "1.4.0");
        assert_eq!(smallest(&v("0.3.2"), Bump::Major), "0.4.0");
        assert_eq!(smallest(&v("0.3.2"), Bump::Minor), "0.3.3");
    }
}
