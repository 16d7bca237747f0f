//! The WIT side of the host: the one table of the `assay:plugin` versions it runs, and behind it
//! the only code that knows their generated bindings.
//!
//! Each row of [`SUPPORTED`] is served by a private module (`v0_1`, Zed's extension host keeps
//! one the same way): its `bindgen!` output, the conversions between its WIT types and the
//! host's, and the host's side of its imports (`log`, `platform`). Nothing outside this module
//! names a generated type; the rest of the crate speaks [`CheckInput`], [`GuestFinding`],
//! [`GuestRuleInfo`], [`World`] and the sandbox's and platform's own types. The compiler keeps
//! the `pub(crate)` types here out of public signatures (`private_interfaces` is denied); the
//! generated types are `pub` inside macro output, where rustc reports nothing, so
//! `tests/host.rs` (module `wit_versions`) reads the sources for them.
//!
//! A released version is frozen and still served. A breaking change to the package makes a new
//! version: a module `v0_2.rs` beside `v0_1.rs`, a row in [`SUPPORTED`], its variant of [`Pre`]
//! and its field of [`CheckInput`] — all in this module, nothing elsewhere.

use assay_core::{Manifest, Severity};
use semver::Version;
use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use crate::plugin::LoadError;
use crate::sandbox::Sandbox;

mod v0_1;

/// The worlds a plugin can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// A platform listing-QA rule.
    ListingRule,
    /// A partner's integration check.
    IntegrationCheck,
}

impl World {
    /// Every world, in the order a component's exports are matched against them.
    const ALL: [World; 2] = [World::ListingRule, World::IntegrationCheck];

    /// The world's WIT name.
    pub fn as_str(self) -> &'static str {
        match self {
            World::ListingRule => "listing-rule",
            World::IntegrationCheck => "integration-check",
        }
    }

    /// The interface the world exports, without a version.
    pub fn export(self) -> &'static str {
        match self {
            World::ListingRule => "assay:plugin/rule",
            World::IntegrationCheck => "assay:plugin/integration",
        }
    }
}

/// One semver-compatible range of `assay:plugin` and the bindings module that runs it.
pub(crate) struct WitVersion {
    /// The first release of the range.
    oldest: Version,
    /// The newest release the bindings were generated from. A component built against a later
    /// release of the range still loads if it imports nothing new: wasmtime links
    /// semver-compatible names, and a missing one fails at link time with its name.
    newest: Version,
    /// Each world of the range, with the release that introduced it.
    worlds: &'static [(World, Version)],
    /// Adds the range's imports to the host's linker.
    link: fn(&mut Linker<Sandbox>) -> wasmtime::Result<()>,
    /// Prepares a component of the range for instantiation.
    pre: fn(World, InstancePre<Sandbox>) -> wasmtime::Result<Pre>,
}

/// The versions of `assay:plugin` this host runs, oldest first. The refusal of a component for
/// any other version lists them; the last row's `newest` is the package in `wit/` (tested).
pub(crate) const SUPPORTED: &[WitVersion] = &[WitVersion {
    oldest: Version::new(0, 1, 0),
    newest: Version::new(0, 1, 1),
    worlds: &[(World::ListingRule, Version::new(0, 1, 0)), (World::IntegrationCheck, Version::new(0, 1, 1))],
    link: v0_1::add_to_linker,
    pre: v0_1::pre,
}];

impl WitVersion {
    /// Whether a component for `world` built against `version` runs on these bindings:
    /// semver-compatible with them, and no older than the world.
    fn runs(&self, world: World, version: &Version) -> bool {
        let compatible =
            version.major == self.newest.major && (self.newest.major > 0 || version.minor == self.newest.minor);
        compatible && self.worlds.iter().any(|(w, since)| *w == world && version >= since)
    }
}

/// What the host supports, for a refusal: "0.1.0 to 0.1.1".
pub(crate) fn supported_versions() -> String {
    SUPPORTED.iter().map(|v| format!("{} to {}", v.oldest, v.newest)).collect::<Vec<_>>().join(", ")
}

/// Adds the imports of every supported version to the host's linker.
pub(crate) fn link(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    SUPPORTED.iter().try_for_each(|version| (version.link)(linker))
}

/// What a component targets, and the bindings that run it.
pub(crate) struct Target {
    /// The world it exports.
    pub world: World,
    /// The release of `assay:plugin` it was built against.
    pub version: Version,
    bindings: &'static WitVersion,
}

impl Target {
    /// The component's instantiation recipe in its version's bindings.
    pub fn pre(&self, instance_pre: InstancePre<Sandbox>) -> wasmtime::Result<Pre> {
        (self.bindings.pre)(self.world, instance_pre)
    }
}

/// Which world, at which release, a component with these export names targets.
pub(crate) fn target(exports: &[String]) -> Result<Target, LoadError> {
    for world in World::ALL {
        let prefix = format!("{}@", world.export());
        let Some(found) = exports.iter().find(|e| e.starts_with(&prefix)) else { continue };
        let version = Version::parse(&found[prefix.len()..]).ok();
        let bindings = version.as_ref().and_then(|v| SUPPORTED.iter().find(|s| s.runs(world, v)));
        return match (version, bindings) {
            (Some(version), Some(bindings)) => Ok(Target { world, version, bindings }),
            _ => Err(LoadError::UnsupportedVersion {
                found: format!("{found} (world `{}`)", world.as_str()),
                supported: supported_versions(),
            }),
        };
    }
    let exports = if exports.is_empty() { "nothing".to_owned() } else { exports.join(", ") };
    Err(LoadError::WrongWorld { exports })
}

/// A review's listing, and the approved version it is compared against, as WIT values: converted
/// once per review and shared by every check of it, whatever version each targets.
#[derive(Debug)]
pub struct CheckInput {
    v0_1: v0_1::CheckInput,
}

impl CheckInput {
    /// Convert `listing` (and `previous`, the last approved version) for the checks of a review.
    pub fn new(listing: &Manifest, previous: Option<&Manifest>) -> CheckInput {
        CheckInput { v0_1: v0_1::check_input(listing, previous) }
    }
}

/// A component ready to instantiate, in the bindings of the version it targets.
pub(crate) enum Pre {
    V0_1(v0_1::Pre),
}

impl Pre {
    /// Instantiate in `store` and call `describe`.
    pub fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<GuestRuleInfo> {
        match self {
            Pre::V0_1(pre) => pre.describe(store),
        }
    }

    /// Instantiate in `store` and call `check` (a rule, with its pack configuration) or `run`
    /// (an integration check). The inner error is the guest's own `rule-error` message.
    #[allow(clippy::ptr_arg)] // the generated `call_check` takes `&Vec`
    pub fn check(
        &self,
        store: &mut Store<Sandbox>,
        input: &CheckInput,
        config: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Vec<GuestFinding>, String>> {
        match self {
            Pre::V0_1(pre) => pre.check(store, &input.v0_1, config),
        }
    }
}

/// A finding as the guest returned it, before the host adds the rule's metadata.
pub(crate) struct GuestFinding {
    pub severity: Option<Severity>,
    pub message: String,
    pub pointer: String,
    pub remediation: Option<String>,
}

/// What `describe()` returned, before the host validates it.
pub(crate) struct GuestRuleInfo {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: String,
    pub default_severity: Severity,
    pub help_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_supported_version_is_the_package_in_wit() {
        let wit = include_str!("../../../wit/assay-plugin.wit");
        let package = wit.lines().find_map(|l| l.trim().strip_prefix("package assay:plugin@")).unwrap_or_default();
        let newest = SUPPORTED.iter().map(|v| &v.newest).max().map(Version::to_string);
        assert_eq!(newest.as_deref(), Some(package.trim_end_matches(';')));
        assert_eq!(supported_versions(), "0.1.0 to 0.1.1");
    }

    #[test]
    fn components_are_matched_to_the_bindings_of_their_version() {
        let rule = |v: &str| vec![format!("assay:plugin/rule@{v}")];
        let check = |v: &str| vec!["wasi:cli/run@0.2.0".to_owned(), format!("assay:plugin/integration@{v}")];
        // The world and version it loads as, or what the refusal says it found.
        type Expect = Result<(World, &'static str), &'static str>;
        let cases: &[(Vec<String>, Expect)] = &[
            (rule("0.1.0"), Ok((World::ListingRule, "0.1.0"))),
            (rule("0.1.1"), Ok((World::ListingRule, "0.1.1"))),
            // A later 0.1 release links if it imports nothing new.
            (rule("0.1.7"), Ok((World::ListingRule, "0.1.7"))),
            (check("0.1.1"), Ok((World::IntegrationCheck, "0.1.1"))),
            (check("0.1.0"), Err("assay:plugin/integration@0.1.0 (world `integration-check`)")),
            (rule("0.2.0"), Err("assay:plugin/rule@0.2.0 (world `listing-rule`)")),
            (rule("1.1.0"), Err("assay:plugin/rule@1.1.0 (world `listing-rule`)")),
            (rule("latest"), Err("assay:plugin/rule@latest (world `listing-rule`)")),
        ];
        for (exports, expect) in cases {
            match (target(exports), expect) {
                (Ok(t), Ok((world, version))) => {
                    assert_eq!((t.world, t.version.to_string()), (*world, (*version).to_owned()), "{exports:?}")
                }
                (Err(LoadError::UnsupportedVersion { found, supported }), Err(expected)) => {
                    assert_eq!((found.as_str(), supported.as_str()), (*expected, "0.1.0 to 0.1.1"), "{exports:?}")
                }
                (got, _) => panic!("{exports:?}: {:?}", got.map(|t| (t.world, t.version))),
            }
        }
        let wrong = target(&["wasi:cli/run@0.2.0".to_owned()]).map(|t| t.world);
        assert_eq!(wrong, Err(LoadError::WrongWorld { exports: "wasi:cli/run@0.2.0".into() }));
        let nothing = target(&[]).map(|t| t.world);
        assert_eq!(nothing, Err(LoadError::WrongWorld { exports: "nothing".into() }));
    }
}
