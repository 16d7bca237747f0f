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

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Acts for one partner.
    Partner,
    /// Platform staff who decide.
    Reviewer,
    /// Platform operators.
    Admin,
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
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
        match s {
            "partner" => Ok(Role::Partner),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}`; expected partner, reviewer or admin")),
        }
    }
}

/// Who is calling: an authenticated token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's role.
    pub role: Role,
    /// The partner a partner token acts for.
    pub partner: Option<PartnerId>,
    /// That partner's capabilities.
    pub capabilities: Vec<Capability>,
    /// How the audit log names this principal, e.g. `token:7`.
    pub actor: String,
}
