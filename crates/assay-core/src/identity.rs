//! Who acts, and what they may do: principals, their roles and their partner's capabilities,
//! and the ids the rest of assay names things by.

use std::fmt;
use std::str::FromStr;

/// A partner's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartnerId(pub i64);

/// A listing's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingId(pub i64);

/// A listing version's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionId(pub i64);

/// A review job's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(pub i64);

/// What the platform lets a partner do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Publish listings.
    List,
    /// Hold certification.
    Certify,
    /// Ship integration checks.
    Checks,
}

impl Capability {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::List => "list",
            Capability::Certify => "certify",
            Capability::Checks => "checks",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Capability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "list" => Ok(Capability::List),
            "certify" => Ok(Capability::Certify),
            "checks" => Ok(Capability::Checks),
            other => Err(format!("unknown capability `{other}`; expected list, certify or checks")),
        }
    }
}

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// What a person (or a service account) may do in their organisation. Staff — the platform's
/// own organisation — are `admin` or `reviewer`; a partner's members are `owner`, `developer`
/// or `viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Staff: organisations, members, capabilities, rule packs, platform notices.
    Admin,
    /// Staff: decisions and waivers.
    Reviewer,
    /// A partner's owner: its members, tokens and webhooks, and everything a developer does.
    Owner,
    /// A partner's developer: listings, submissions, checks.
    Developer,
    /// A partner's viewer: reads.
    Viewer,
}

impl Role {
    /// Every role, staff first.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Reviewer, Role::Owner, Role::Developer, Role::Viewer];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Owner => "owner",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this is a role of the platform's staff (not of a partner).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Reviewer)
    }

    /// The scopes a token of this role can carry at most.
    pub fn scopes(self) -> Scopes {
        match self {
            Role::Admin => Scopes::of(&[Scope::Read, Scope::Review, Scope::Admin]),
            Role::Reviewer => Scopes::of(&[Scope::Read, Scope::Review]),
            Role::Owner => Scopes::of(&[Scope::Read, Scope::Submit, Scope::Admin]),
            Role::Developer => Scopes::of(&[Scope::Read, Scope::Submit]),
            Role::Viewer => Scopes::of(&[Scope::Read]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!("unknown role `{s}`; expected admin or reviewer (staff), owner, developer or viewer (partner)")
        })
    }
}

/// What a token may be used for, whatever its owner's role allows: a CI token that only reads
/// cannot submit even when its owner could.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read what the organisation may see.
    Read,
    /// Create listings, submit versions, update checks, publish a listing's notices.
    Submit,
    /// Decide on versions and waive findings.
    Review,
    /// Administer: members, tokens, webhooks, capabilities, packs, platform notices.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Submit, Scope::Review, Scope::Admin];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Submit => "submit",
            Scope::Review => "review",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope `{s}`; expected read, submit, review or admin"))
    }
}

/// A set of [`Scope`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// These scopes.
    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Whether `scope` is in the set.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes in either.
    pub fn union(self, other: Scopes) -> Scopes {
        Scopes(self.0 | other.0)
    }

    /// The scopes in both.
    pub fn intersect(self, other: Scopes) -> Scopes {
        Scopes(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes, in [`Scope::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The stored form: names joined by commas, e.g. `read,submit`.
    pub fn encode(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// The stored form back (empty parts are skipped).
    pub fn decode(text: &str) -> Result<Scopes, String> {
        let scopes: Vec<Scope> =
            text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Ok(Scopes::of(&scopes))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Who is calling: a person or a service account, through one of their tokens (or a console
/// session opened with one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The role in their organisation (a partner's service account acts as a developer).
    pub role: Role,
    /// The partner organisation a partner's member acts for; `None` for staff.
    pub partner: Option<PartnerId>,
    /// That partner's capabilities (none while it is suspended).
    pub capabilities: Vec<Capability>,
    /// Whether that partner is suspended.
    pub suspended: bool,
    /// What the token may be used for.
    pub scopes: Scopes,
    /// The person, or `None` for a service account.
    pub user: Option<UserId>,
    /// The token the call was made with.
    pub token: i64,
    /// How the audit log, decisions, notices and feeds name the caller: the person and their
    /// organisation, e.g. `Ada Lovelace <ada@acme.test> (acme)`, or a service account's token
    /// name and organisation, e.g. `ci (service account, acme)`.
    pub actor: String,
}

impl Principal {
    /// Whether the caller is one of the platform's staff.
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
}

/// How the audit log names a person: `Name <email> (organisation)`.
pub fn person_label(name: &str, email: &str, organisation: &str) -> String {
    format!("{name} <{email}> ({organisation})")
}

/// How the audit log names a service account: `token-name (service account, organisation)`.
pub fn service_account_label(token_name: &str, organisation: &str) -> String {
    format!("{token_name} (service account, {organisation})")
}

/// The organisation name staff belong to, as labels show it.
pub const STAFF: &str = "platform staff";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_round_trip_and_bound_each_other() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert!(role.scopes().contains(Scope::Read));
            assert_eq!(role.scopes().contains(Scope::Review), role == Role::Reviewer || role == Role::Admin);
            assert_eq!(role.scopes().contains(Scope::Submit), matches!(role, Role::Owner | Role::Developer));
        }
        assert!("partner".parse::<Role>().unwrap_err().contains("owner, developer or viewer"));
        let scopes = Scopes::decode("submit, read").unwrap();
        assert_eq!(scopes.encode(), "read,submit");
        assert!(scopes.is_subset(Role::Developer.scopes()));
        assert!(!Role::Admin.scopes().is_subset(Role::Reviewer.scopes()));
        assert_eq!(Scopes::decode("").unwrap(), Scopes::default());
        assert!(Scopes::decode("read,write").unwrap_err().contains("unknown scope `write`"));
    }
}
