//! Who may do what. Every use case asks here; nothing else decides permission.
//!
//! A caller is a [`Principal`]: a person (or a service account) with a [`Role`] in an
//! organisation, through a token with [`Scopes`](assay_core::identity::Scopes). A
//! [`Permission`] names the roles that hold it and the scope a token needs to use it; on top,
//! partners are isolated from each other (another partner's listing is *not found*, never
//! *forbidden*, so existence does not leak) and a partner's capabilities gate what it ships.
//! [`Permission::ALL`] is the table the isolation matrix test holds every API operation to.

use assay_core::identity::{Capability, PartnerId, Principal, Role, Scope};
use assay_core::listing::ListingRecord;

use crate::ServiceError;

/// Every kind of thing a caller needs permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read what the caller's organisation may see (staff: everything).
    Read,
    /// Create listings, submit versions, update checks, publish a listing's notices and
    /// deprecations (needs the partner's capabilities too).
    Submit,
    /// Read the partner's standing.
    SeeStanding,
    /// Register and manage the partner's webhook endpoints.
    ManageWebhooks,
    /// See the review queue, rule-pack rollouts and the job queue.
    SeeOperations,
    /// Decide on versions, grant and end waivers.
    Review,
    /// Publish and enforce rule packs, publish platform notices, deprecate platform API
    /// versions.
    Govern,
    /// Verify the audit chain.
    VerifyAudit,
    /// Add, change and remove the members of an organisation (an owner: their own partner's;
    /// an admin: any), and manage its service accounts' tokens.
    ManageMembers,
    /// Grant and revoke partners' capabilities, suspend and restore partners, create partner
    /// organisations.
    DecideCapabilities,
    /// Create, list, revoke and rotate one's own tokens (narrower than one's own scopes).
    OwnTokens,
    /// Write on a version's conversation: staff, and the listing's owners and developers
    /// (whose tokens need the `submit` scope as well).
    Converse,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 12] = [
        Permission::Read,
        Permission::Submit,
        Permission::SeeStanding,
        Permission::ManageWebhooks,
        Permission::SeeOperations,
        Permission::Review,
        Permission::Govern,
        Permission::VerifyAudit,
        Permission::ManageMembers,
        Permission::DecideCapabilities,
        Permission::OwnTokens,
        Permission::Converse,
    ];

    /// Its name, as the OpenAPI document's `x-assay-permission` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Submit => "submit",
            Permission::SeeStanding => "see-standing",
            Permission::ManageWebhooks => "manage-webhooks",
            Permission::SeeOperations => "see-operations",
            Permission::Review => "review",
            Permission::Govern => "govern",
            Permission::VerifyAudit => "verify-audit",
            Permission::ManageMembers => "manage-members",
            Permission::DecideCapabilities => "decide-capabilities",
            Permission::OwnTokens => "own-tokens",
            Permission::Converse => "converse",
        }
    }

    /// The roles that hold it.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Permission::Read | Permission::OwnTokens => &[Admin, Reviewer, Owner, Developer, Viewer],
            Permission::Submit => &[Owner, Developer],
            Permission::Converse => &[Admin, Reviewer, Owner, Developer],
            Permission::SeeStanding => &[Owner, Developer, Viewer],
            Permission::ManageWebhooks => &[Owner],
            Permission::SeeOperations => &[Admin, Reviewer],
            Permission::Review => &[Reviewer],
            Permission::Govern | Permission::VerifyAudit | Permission::DecideCapabilities => &[Admin],
            Permission::ManageMembers => &[Admin, Owner],
        }
    }

    /// The scope a token needs to use it.
    pub fn scope(self) -> Scope {
        match self {
            Permission::Read
            | Permission::SeeStanding
            | Permission::SeeOperations
            | Permission::OwnTokens
            | Permission::Converse => Scope::Read,
            Permission::Submit => Scope::Submit,
            Permission::Review => Scope::Review,
            Permission::ManageWebhooks
            | Permission::Govern
            | Permission::VerifyAudit
            | Permission::ManageMembers
            | Permission::DecideCapabilities => Scope::Admin,
        }
    }

    /// What it lets one do, for error messages: "only an owner may {this}".
    fn describe(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Submit => "create listings, submit versions or publish a listing's notices",
            Permission::SeeStanding => "see a partner's standing",
            Permission::ManageWebhooks => "manage webhook endpoints",
            Permission::SeeOperations => "see the review queue, rollouts and jobs",
            Permission::Review => "decide on versions or waive findings",
            Permission::Govern => "publish rule packs or platform notices",
            Permission::VerifyAudit => "verify the audit chain",
            Permission::ManageMembers => "manage an organisation's members and service accounts",
            Permission::DecideCapabilities => "change partners' capabilities",
            Permission::OwnTokens => "manage their own tokens",
            Permission::Converse => "write on a version's conversation",
        }
    }

    /// Whether `role`, through a token with every scope, holds it.
    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// The caller must hold `permission`: their role must, and their token must carry its scope.
pub fn require(principal: &Principal, permission: Permission) -> Result<(), ServiceError> {
    if !permission.allows(principal.role) {
        let names: Vec<String> = permission.roles().iter().map(|r| article(*r)).collect();
        let names = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "nobody".into(),
        };
        return Err(ServiceError::Forbidden(format!(
            "only {names} may {}; you are {}",
            permission.describe(),
            article(principal.role)
        )));
    }
    let scope = permission.scope();
    if !principal.scopes.contains(scope) {
        return Err(ServiceError::InsufficientScope(scope));
    }
    Ok(())
}

fn article(role: Role) -> String {
    match role {
        Role::Admin | Role::Owner => format!("an {role}"),
        _ => format!("a {role}"),
    }
}

/// The caller's partner must hold `capability`, and must not be suspended.
pub fn require_capability(principal: &Principal, capability: Capability) -> Result<(), ServiceError> {
    if principal.suspended {
        Err(ServiceError::PartnerSuspended)
    } else if principal.capabilities.contains(&capability) {
        Ok(())
    } else {
        Err(ServiceError::CapabilityRequired(capability))
    }
}

/// Whether the caller may see this listing: staff see all, a partner's members only its own.
pub fn can_see(principal: &Principal, listing: &ListingRecord) -> bool {
    principal.is_staff() || principal.partner == Some(listing.partner)
}

/// Whose objects a list shows the caller: a partner's own (`Some`), or everyone's for staff.
pub fn owner_scope(principal: &Principal) -> Result<Option<PartnerId>, ServiceError> {
    if principal.is_staff() {
        return Ok(None);
    }
    principal.partner.map(Some).ok_or_else(|| ServiceError::Forbidden("the token has no partner".into()))
}

/// The listing if the caller may see it; otherwise *not found*, exactly as if it did not exist.
pub fn visible(
    principal: &Principal,
    listing: Option<ListingRecord>,
    slug: &str,
) -> Result<ListingRecord, ServiceError> {
    listing.filter(|l| can_see(principal, l)).ok_or_else(|| ServiceError::NotFound(format!("listing `{slug}`")))
}

/// The caller must be a member of the partner that owns the listing and hold `permission`
/// (staff may read, not act for partners). Another partner's listing is *not found*.
pub fn require_owner(
    principal: &Principal,
    listing: &ListingRecord,
    permission: Permission,
) -> Result<(), ServiceError> {
    if !principal.is_staff() && principal.partner != Some(listing.partner) {
        return Err(ServiceError::NotFound(format!("listing `{}`", listing.slug)));
    }
    require(principal, permission)
}

/// The caller may manage `partner`'s members (`None`: staff): an admin any organisation's, an
/// owner only their own (another organisation is *not found*).
pub fn require_member_admin(principal: &Principal, partner: Option<PartnerId>) -> Result<(), ServiceError> {
    require(principal, Permission::ManageMembers)?;
    if principal.role == Role::Admin || principal.partner == partner && partner.is_some() {
        Ok(())
    } else {
        Err(ServiceError::NotFound("organisation".into()))
    }
}

#[cfg(test)]
mod tests {
    use assay_core::identity::Scopes;

    use super::*;

    fn principal(role: Role, scopes: Scopes) -> Principal {
        Principal {
            role,
            partner: (!role.is_staff()).then_some(PartnerId(1)),
            capabilities: vec![Capability::List],
            suspended: false,
            scopes,
            user: None,
            token: 1,
            actor: "someone".into(),
        }
    }

    #[test]
    fn a_permission_needs_the_role_and_the_scope() {
        for permission in Permission::ALL {
            for role in Role::ALL {
                let full = principal(role, role.scopes());
                let allowed = require(&full, permission).is_ok();
                // A role's scopes always include what its permissions need.
                assert_eq!(allowed, permission.allows(role), "{permission:?} for {role}");
                if allowed {
                    let narrow = principal(role, Scopes::default());
                    assert!(
                        matches!(require(&narrow, permission), Err(ServiceError::InsufficientScope(s)) if s == permission.scope()),
                        "{permission:?} for {role} without scopes"
                    );
                } else {
                    let err = require(&full, permission).unwrap_err().to_string();
                    assert!(err.contains(&format!("you are {}", article(role))), "{err}");
                }
            }
        }
    }

    #[test]
    fn suspension_outranks_capabilities() {
        let mut developer = principal(Role::Developer, Role::Developer.scopes());
        assert!(require_capability(&developer, Capability::List).is_ok());
        assert!(matches!(
            require_capability(&developer, Capability::Certify),
            Err(ServiceError::CapabilityRequired(_))
        ));
        developer.suspended = true;
        assert!(matches!(require_capability(&developer, Capability::List), Err(ServiceError::PartnerSuspended)));
    }

    #[test]
    fn owners_manage_only_their_own_organisation() {
        let owner = principal(Role::Owner, Role::Owner.scopes());
        assert!(require_member_admin(&owner, Some(PartnerId(1))).is_ok());
        assert!(matches!(require_member_admin(&owner, Some(PartnerId(2))), Err(ServiceError::NotFound(_))));
        assert!(matches!(require_member_admin(&owner, None), Err(ServiceError::NotFound(_))));
        let admin = principal(Role::Admin, Role::Admin.scopes());
        assert!(require_member_admin(&admin, Some(PartnerId(2))).is_ok() && require_member_admin(&admin, None).is_ok());
        let developer = principal(Role::Developer, Role::Developer.scopes());
        assert!(matches!(require_member_admin(&developer, Some(PartnerId(1))), Err(ServiceError::Forbidden(_))));
    }
}
