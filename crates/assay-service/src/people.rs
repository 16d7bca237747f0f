//! People, organisations and credentials: who the caller is, organisations' members, tokens
//! through their lifecycle (create, list, revoke, rotate), and staff decisions on a partner's
//! capabilities with their consequences. [`crate::access`] decides every permission.

use assay_core::identity::{Capability, PartnerId, Principal, Role, Scope, Scopes};
use assay_core::notice::{Audience, NoticeKind};
use assay_core::people::MemberChange;
use assay_store::{CapabilityDecision, NewNotice, NewToken, NewUser, TokenFilter, TokenOwner, TokenStatus};

pub use assay_core::people::{PartnerRecord as Partner, TokenRecord as TokenInfo, UserRecord as Member};

use crate::access::{Permission, require, require_member_admin};
use crate::{Service, ServiceError};

/// The longest a rotation's grace period may be: 30 days.
pub const MAX_GRACE_SECS: i64 = 30 * 86_400;

/// A token to issue through the service.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// What it is for, e.g. `ci` (1 to 64 characters).
    pub name: String,
    /// Its scopes; `read` is always included. Empty: every scope the owner's role allows.
    pub scopes: Vec<Scope>,
    /// Days until it expires; `None`: the default (90), at most the configured maximum.
    pub expires_in_days: Option<u32>,
    /// A service account of the caller's organisation (needs `manage-members`) instead of
    /// the caller's own token.
    pub service_account: bool,
}

/// A person to add to an organisation.
#[derive(Debug, Clone)]
pub struct MemberRequest {
    /// Their e-mail address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role: `admin` or `reviewer` for staff, `owner`, `developer` or `viewer` for a partner.
    pub role: Role,
}

/// A staff decision on a partner's capabilities.
#[derive(Debug, Clone, Default)]
pub struct CapabilityRequest {
    /// Capabilities to grant.
    pub grant: Vec<Capability>,
    /// Capabilities to revoke.
    pub revoke: Vec<Capability>,
    /// Suspend (`true`) or restore (`false`).
    pub suspend: Option<bool>,
    /// Why (required).
    pub rationale: String,
}

/// What a capability decision did.
#[derive(Debug, Clone)]
pub struct CapabilityOutcome {
    /// The partner after the decision.
    pub partner: Partner,
    /// The versions whose certified mark was removed, as (slug, version).
    pub uncertified: Vec<(String, String)>,
}

/// An entry of a partner's capability history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityEvent {
    /// When (Unix seconds).
    pub at: i64,
    /// Who decided (person and organisation).
    pub actor: String,
    /// What changed and why.
    pub detail: String,
}

impl Service {
    /// The principal a bearer token stands for; notes when it was used (to the minute).
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        let now = self.clock.now();
        match self.store.token_status(token, now).await? {
            TokenStatus::Live(principal, last_used) => {
                if last_used.is_none_or(|at| at <= now - assay_store::LAST_USED_RESOLUTION_SECS) {
                    self.store.touch_token(principal.token, now).await?;
                }
                Ok(principal)
            }
            TokenStatus::Unknown => Err(ServiceError::Unauthenticated),
            TokenStatus::Expired(at) => Err(ServiceError::TokenExpired(at)),
            TokenStatus::Revoked(at) => Err(ServiceError::TokenRevoked(at)),
            TokenStatus::OwnerLeft(at) => Err(ServiceError::OwnerLeft(at)),
        }
    }

    /// The caller's own person record (`None` for a service account).
    pub async fn whoami(&self, who: &Principal) -> Result<Option<Member>, ServiceError> {
        match who.user {
            Some(id) => Ok(self.store.user(id).await?),
            None => Ok(None),
        }
    }

    /// The token the caller is using.
    pub async fn current_token(&self, who: &Principal) -> Result<TokenInfo, ServiceError> {
        self.store.token_record(who.token).await?.ok_or_else(|| ServiceError::NotFound(format!("token {}", who.token)))
    }

    /// The organisation `name` names: `None` for the platform's staff (`staff`), or a partner
    /// the caller may see (a partner's members see only their own; another is *not found*).
    pub(crate) async fn organisation_of(&self, who: &Principal, name: &str) -> Result<Option<PartnerId>, ServiceError> {
        if name == "staff" {
            return if who.is_staff() { Ok(None) } else { Err(ServiceError::NotFound("organisation `staff`".into())) };
        }
        let partner = self
            .store
            .partner_by_name(name)
            .await?
            .filter(|p| who.is_staff() || who.partner == Some(p.id))
            .ok_or_else(|| ServiceError::NotFound(format!("organisation `{name}`")))?;
        Ok(Some(partner.id))
    }

    /// An organisation's current members (`staff`, or a partner's name).
    pub async fn members(&self, who: &Principal, organisation: &str) -> Result<Vec<Member>, ServiceError> {
        require(who, Permission::Read)?;
        let partner = self.organisation_of(who, organisation).await?;
        Ok(self.store.members(partner).await?)
    }

    /// Add a person to an organisation: an owner to their own partner, an admin to any.
    pub async fn add_member(
        &self,
        who: &Principal,
        organisation: &str,
        request: &MemberRequest,
    ) -> Result<Member, ServiceError> {
        let partner = self.organisation_of(who, organisation).await?;
        require_member_admin(who, partner)?;
        let email = request.email.trim();
        if !valid_email(email) {
            return Err(ServiceError::invalid("/email", format!("`{email}` is not an e-mail address")));
        }
        let name = request.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid("/name", "a name has 1 to 100 characters".into()));
        }
        if request.role.is_staff() != partner.is_none() {
            let expected = if partner.is_none() { "admin or reviewer" } else { "owner, developer or viewer" };
            return Err(ServiceError::invalid(
                "/role",
                format!("`{}` is not a role in this organisation; expected {expected}", request.role),
            ));
        }
        let new = NewUser { email, name, partner, role: request.role };
        Ok(self.store.create_user(&who.actor, &new).await?)
    }

    /// Change a member's role or remove them from their organisation. A partner keeps at least
    /// one owner.
    pub async fn change_member(
        &self,
        who: &Principal,
        organisation: &str,
        email: &str,
        change: MemberChange,
    ) -> Result<Member, ServiceError> {
        let partner = self.organisation_of(who, organisation).await?;
        require_member_admin(who, partner)?;
        let member = self
            .store
            .user_by_email(email)
            .await?
            .filter(|m| m.partner == partner && m.left_at.is_none())
            .ok_or_else(|| ServiceError::NotFound(format!("member {email} of `{organisation}`")))?;
        if let MemberChange::Role(role) = change
            && role.is_staff() != partner.is_none()
        {
            return Err(ServiceError::invalid("/role", format!("`{role}` is not a role in this organisation")));
        }
        Ok(self.store.change_member(&who.actor, member.id, change).await?)
    }

    /// Tokens the caller may see: their own, their organisation's when they manage its members
    /// (`organisation` true), or — admins — every one (`all`).
    pub async fn tokens(&self, who: &Principal, organisation: bool, all: bool) -> Result<Vec<TokenInfo>, ServiceError> {
        let filter = if all {
            require(who, Permission::ManageMembers)?;
            if who.role != Role::Admin {
                return Err(ServiceError::Forbidden("only an admin may list every organisation's tokens".into()));
            }
            TokenFilter::All
        } else if organisation {
            require_member_admin(who, who.partner)?;
            TokenFilter::Organisation(who.partner)
        } else {
            require(who, Permission::OwnTokens)?;
            match who.user {
                Some(user) => TokenFilter::User(user),
                None => return Ok(vec![self.current_token(who).await?]),
            }
        };
        Ok(self.store.tokens(filter).await?)
    }

    /// Issue a token: the caller's own (its scopes at most the caller's), or a service
    /// account of the caller's organisation. The secret is returned once.
    pub async fn create_token(
        &self,
        who: &Principal,
        request: &TokenRequest,
    ) -> Result<(String, TokenInfo), ServiceError> {
        let name = token_name(&request.name)?;
        let owner = if request.service_account {
            require_member_admin(who, who.partner)?;
            let role = match (who.partner, request.scopes.contains(&Scope::Admin)) {
                (Some(_), true) => Role::Owner,
                (Some(_), false) => Role::Developer,
                (None, true) => Role::Admin,
                (None, false) => Role::Reviewer,
            };
            TokenOwner::Service { role, partner: who.partner }
        } else {
            require(who, Permission::OwnTokens)?;
            match who.user {
                Some(user) => TokenOwner::User(user),
                None => {
                    return Err(ServiceError::Forbidden(
                        "a service account's token cannot create tokens; its organisation's owner or an admin can"
                            .into(),
                    ));
                }
            }
        };
        let allowed = match owner {
            TokenOwner::User(_) => who.scopes,
            TokenOwner::Service { role, .. } => role.scopes().intersect(who.scopes),
        };
        let scopes = requested_scopes(&request.scopes, allowed)?;
        let ttl_secs = self.token_ttl(request.expires_in_days)?;
        let new = NewToken { name, owner, scopes, ttl_secs };
        Ok(self.store.issue_token(&who.actor, &new).await?)
    }

    /// Issue a token for a member of an organisation the caller manages (an owner: their own
    /// partner's; an admin: any): how a new member gets their first credential where there is
    /// no identity provider. Its scopes are at most the member's role allows; the secret is
    /// returned once, for the caller to hand over.
    pub async fn issue_member_token(
        &self,
        who: &Principal,
        organisation: &str,
        email: &str,
        request: &TokenRequest,
    ) -> Result<(String, TokenInfo), ServiceError> {
        let partner = self.organisation_of(who, organisation).await?;
        require_member_admin(who, partner)?;
        if request.service_account {
            return Err(ServiceError::invalid(
                "/service_account",
                "a member's token is theirs, not a service account's".into(),
            ));
        }
        let member = self
            .store
            .user_by_email(email)
            .await?
            .filter(|m| m.partner == partner && m.left_at.is_none())
            .ok_or_else(|| ServiceError::NotFound(format!("member {email} of `{organisation}`")))?;
        let name = token_name(&request.name)?;
        let allowed = member.role.scopes();
        let scopes = requested_scopes(&request.scopes, allowed)?;
        let ttl = self.token_ttl(request.expires_in_days)?;
        let new = NewToken { name, owner: TokenOwner::User(member.id), scopes, ttl_secs: ttl };
        Ok(self.store.issue_token(&who.actor, &new).await?)
    }

    /// Seconds a token lasts: `days` (default 90), at most the configured maximum.
    fn token_ttl(&self, days: Option<u32>) -> Result<i64, ServiceError> {
        let days = days.unwrap_or(90);
        if days == 0 || days > self.config.max_token_days {
            return Err(ServiceError::invalid(
                "/expires_in_days",
                format!("a token lasts 1 to {} days", self.config.max_token_days),
            ));
        }
        Ok(i64::from(days) * 86_400)
    }

    /// The token `id` if the caller may manage it: their own, their organisation's (owners),
    /// or any (admins). Otherwise *not found*.
    async fn manageable_token(&self, who: &Principal, id: i64) -> Result<TokenInfo, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("token {id}"));
        let token = self.store.token_record(id).await?.ok_or_else(not_found)?;
        let own = match (who.user, &token.user) {
            (Some(me), Some((owner, _))) => me == *owner,
            (None, None) => token.id == who.token,
            _ => false,
        };
        if own {
            require(who, Permission::OwnTokens)?;
        } else if require_member_admin(who, token.partner).is_err() {
            return Err(not_found());
        }
        Ok(token)
    }

    /// Revoke a token now (its console sessions end). Revoking one already ended is a no-op.
    pub async fn revoke_token(&self, who: &Principal, id: i64) -> Result<TokenInfo, ServiceError> {
        self.manageable_token(who, id).await?;
        self.store.revoke_token(&who.actor, id).await?;
        self.store.token_record(id).await?.ok_or_else(|| ServiceError::NotFound(format!("token {id}")))
    }

    /// Rotate a token: a new secret now, the old one ends after `grace_secs`.
    pub async fn rotate_token(
        &self,
        who: &Principal,
        id: i64,
        grace_secs: i64,
    ) -> Result<(String, TokenInfo), ServiceError> {
        if !(0..=MAX_GRACE_SECS).contains(&grace_secs) {
            return Err(ServiceError::invalid("/grace_hours", "a grace period is 0 to 720 hours".into()));
        }
        self.manageable_token(who, id).await?;
        self.store.rotate_token(&who.actor, id, grace_secs).await?.ok_or_else(|| {
            ServiceError::invalid("", format!("token {id} is not live (revoked, expired or already rotated)"))
        })
    }

    /// Every partner organisation (staff), or the caller's own.
    pub async fn partners(&self, who: &Principal) -> Result<Vec<Partner>, ServiceError> {
        require(who, Permission::Read)?;
        let all = self.store.partners().await?;
        Ok(all.into_iter().filter(|p| who.is_staff() || who.partner == Some(p.id)).collect())
    }

    /// Create a partner organisation with its first owner (admins).
    pub async fn create_partner(
        &self,
        who: &Principal,
        name: &str,
        capabilities: &[Capability],
        owner: &MemberRequest,
    ) -> Result<(Partner, Member), ServiceError> {
        require(who, Permission::DecideCapabilities)?;
        let name = name.trim();
        let slug_like = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && name != "staff";
        if !slug_like {
            return Err(ServiceError::invalid(
                "/name",
                format!("`{name}` is not a partner name: 1 to 64 lower-case letters, digits and dashes"),
            ));
        }
        if self.store.partner_by_name(name).await?.is_some() {
            return Err(ServiceError::Exists(format!("partner `{name}`")));
        }
        if owner.role != Role::Owner {
            return Err(ServiceError::invalid("/owner/role", "a partner's first member is its owner".into()));
        }
        self.store.ensure_partner(&who.actor, name, capabilities).await?;
        let member = self.add_member(who, name, owner).await?;
        let partner = self.store.partner_by_name(name).await?.ok_or_else(|| ServiceError::NotFound(name.into()))?;
        Ok((partner, member))
    }

    /// Staff decide on a partner's capabilities or suspension, with a rationale. Revoking
    /// `certify` removes the certified mark from the partner's versions and publishes a change
    /// notice on each listing that lost one; revoking `list` or suspending holds new
    /// submissions.
    pub async fn decide_capabilities(
        &self,
        who: &Principal,
        partner: &str,
        request: &CapabilityRequest,
    ) -> Result<CapabilityOutcome, ServiceError> {
        require(who, Permission::DecideCapabilities)?;
        let rationale = request.rationale.trim();
        if rationale.is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        if let Some(both) = request.grant.iter().find(|c| request.revoke.contains(c)) {
            return Err(ServiceError::invalid("/grant", format!("`{both}` is both granted and revoked")));
        }
        if request.grant.is_empty() && request.revoke.is_empty() && request.suspend.is_none() {
            return Err(ServiceError::invalid("", "grant or revoke a capability, or suspend or restore".into()));
        }
        let record = self
            .store
            .partner_by_name(partner)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("partner `{partner}`")))?;
        let effective = self.today();
        let summary =
            format!("Certification withdrawn: the platform revoked `{partner}`'s certify capability. {rationale}");
        let summary: String = summary.chars().take(assay_core::notice::MAX_SUMMARY).collect();
        let notice = NewNotice {
            slug: None,
            kind: NoticeKind::Breaking,
            summary: &summary,
            effective,
            action_required: None,
            audience: Audience::Everyone,
        };
        let decision =
            CapabilityDecision { grant: &request.grant, revoke: &request.revoke, suspend: request.suspend, rationale };
        let change = self.store.decide_capabilities(&who.actor, record.id, &decision, &notice).await?;
        Ok(CapabilityOutcome { partner: change.after, uncertified: change.uncertified })
    }

    /// A partner's capability decisions, oldest first (staff, or the partner's own members).
    pub async fn capability_history(
        &self,
        who: &Principal,
        partner: &str,
    ) -> Result<Vec<CapabilityEvent>, ServiceError> {
        self.organisation_of(who, partner).await?;
        let events = self.store.audit_about(&format!("partner:{partner}")).await?;
        Ok(events
            .into_iter()
            .filter(|e| e.action == "partner.capabilities" || e.action == "partner.create")
            .map(|e| CapabilityEvent { at: e.at, actor: e.actor, detail: e.detail })
            .collect())
    }

    /// Bootstrap: a person and a token of theirs, straight on the store (`assay token create
    /// --email`): how the first admin of an installation gets in.
    pub async fn bootstrap_person(
        &self,
        actor: &str,
        member: &MemberRequest,
        partner: Option<PartnerId>,
        ttl_secs: i64,
    ) -> Result<(String, TokenInfo), ServiceError> {
        let user = match self.store.user_by_email(&member.email).await? {
            Some(user) if user.left_at.is_none() => user,
            _ => {
                let new = NewUser { email: &member.email, name: &member.name, partner, role: member.role };
                self.store.create_user(actor, &new).await?
            }
        };
        let new =
            NewToken { name: "bootstrap", owner: TokenOwner::User(user.id), scopes: user.role.scopes(), ttl_secs };
        Ok(self.store.issue_token(actor, &new).await?)
    }
}

/// A token's name, trimmed: 1 to 64 characters, no control characters.
fn token_name(name: &str) -> Result<&str, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("/name", "a token name has 1 to 64 characters".into()));
    }
    Ok(name)
}

/// The scopes a new token gets: those asked for (all of `allowed` if none) and `read`, which
/// must all be in `allowed`.
fn requested_scopes(requested: &[Scope], allowed: Scopes) -> Result<Scopes, ServiceError> {
    let scopes = if requested.is_empty() { allowed } else { Scopes::of(requested) };
    let scopes = Scopes::of(&[Scope::Read]).union(scopes);
    if !scopes.is_subset(allowed) {
        return Err(ServiceError::invalid(
            "/scopes",
            format!("a token can have at most the scopes `{allowed}`; `{scopes}` asks for more"),
        ));
    }
    Ok(scopes)
}

/// Whether `email` looks like an address: one `@`, something on both sides, a dot in the
/// domain, no spaces, at most 254 bytes. Delivery is what proves an address.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}
