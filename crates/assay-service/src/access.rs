//! Who may do what. Every use case asks here; nothing else decides permission.

use assay_core::identity::{Capability, PartnerId, Principal, Role};
use assay_core::listing::ListingRecord;

use crate::ServiceError;

/// The caller must hold one of `roles`.
pub fn require_role(principal: &Principal, roles: &[Role], what: &str) -> Result<(), ServiceError> {
    if roles.contains(&principal.role) {
        return Ok(());
    }
    let names: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
    Err(ServiceError::Forbidden(format!("only a {} token may {what}", names.join(" or "))))
}

/// The caller's partner must hold `capability`.
pub fn require_capability(principal: &Principal, capability: Capability) -> Result<(), ServiceError> {
    if principal.capabilities.contains(&capability) {
        Ok(())
    } else {
        Err(ServiceError::CapabilityRequired(capability))
    }
}

/// Whether the caller may see this listing: staff see all, a partner only its own.
pub fn can_see(principal: &Principal, listing: &ListingRecord) -> bool {
    match principal.role {
        Role::Reviewer | Role::Admin => true,
        Role::Partner => principal.partner == Some(listing.partner),
    }
}

/// Whose objects a list shows the caller: a partner's own (`Some`), or everyone's for staff.
pub fn owner_scope(principal: &Principal) -> Result<Option<PartnerId>, ServiceError> {
    match principal.role {
        Role::Partner => {
            Some(principal.partner.ok_or_else(|| ServiceError::Forbidden("the token has no partner".into())))
                .transpose()
        }
        Role::Reviewer | Role::Admin => Ok(None),
    }
}

/// The listing if the caller may see it; otherwise *not found*, exactly as if it did not exist.
pub fn visible(
    principal: &Principal,
    listing: Option<ListingRecord>,
    slug: &str,
) -> Result<ListingRecord, ServiceError> {
    listing.filter(|l| can_see(principal, l)).ok_or_else(|| ServiceError::NotFound(format!("listing `{slug}`")))
}

/// The caller must be the partner that owns the listing (staff may read, not act for partners).
pub fn require_owner(principal: &Principal, listing: &ListingRecord) -> Result<(), ServiceError> {
    require_role(principal, &[Role::Partner], "act for a partner")?;
    if principal.partner == Some(listing.partner) {
        Ok(())
    } else {
        Err(ServiceError::NotFound(format!("listing `{}`", listing.slug)))
    }
}
