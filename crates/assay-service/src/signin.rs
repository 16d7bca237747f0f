//! People sign in through an OpenID provider: the sign-ins in progress the server keeps, the
//! console session a verified identity opens, and invitations into organisations. The protocol
//! itself (discovery, PKCE, ID-token validation) is the server's; this is what follows from a
//! verified e-mail address.

use assay_core::identity::{Principal, Role};
use assay_store::{InvitationRefused, NewToken, PendingLogin, TokenOwner};

pub use assay_core::people::InvitationRecord as Invitation;

use crate::access::require_member_admin;
use crate::people::valid_email;
use crate::{Service, ServiceError};

/// How long a sign-in may take from the redirect to the provider to the callback: 10 minutes.
pub const SIGN_IN_SECS: i64 = 600;

/// What the store keeps of an invitation's secret (SHA-256, hex).
pub fn secret_hash(secret: &str) -> String {
    assay_store::token::hash(secret)
}

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The SHA-256 (hex) of the secret in the browser's cookie that started it.
    pub browser_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// Where to go afterwards (a console path).
    pub next: String,
    /// The invitation being accepted (its secret's SHA-256), if any.
    pub invitation_hash: Option<String>,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The e-mail address, verified by the provider.
    pub email: String,
    /// Their name, if the provider gave one.
    pub name: Option<String>,
}

impl Service {
    /// Keep a sign-in in progress under its `state` for [`SIGN_IN_SECS`].
    pub async fn begin_sign_in(&self, state: &str, sign_in: &SignIn) -> Result<(), ServiceError> {
        let login = PendingLogin {
            browser_hash: sign_in.browser_hash.clone(),
            nonce: sign_in.nonce.clone(),
            pkce_verifier: sign_in.pkce_verifier.clone(),
            next: sign_in.next.clone(),
            invitation_hash: sign_in.invitation_hash.clone(),
        };
        Ok(self.store.begin_login(state, &login, self.clock.now() + SIGN_IN_SECS).await?)
    }

    /// The sign-in `state` names, taken: a callback works once.
    pub async fn take_sign_in(&self, state: &str) -> Result<Option<SignIn>, ServiceError> {
        let login = self.store.take_login(state, self.clock.now()).await?;
        Ok(login.map(|l| SignIn {
            browser_hash: l.browser_hash,
            nonce: l.nonce,
            pkce_verifier: l.pkce_verifier,
            next: l.next,
            invitation_hash: l.invitation_hash,
        }))
    }

    /// Open a console session for a person the provider verified: a member (by e-mail
    /// address), or someone accepting an invitation for that address, who joins now. The
    /// session acts through a token of theirs named `console` that lasts as long as it.
    pub async fn open_person_session(
        &self,
        identity: &VerifiedIdentity,
        invitation_hash: Option<&str>,
        ttl_secs: i64,
    ) -> Result<(String, Principal), ServiceError> {
        let now = self.clock.now();
        let member = self.store.user_by_email(&identity.email).await?.filter(|u| u.left_at.is_none());
        let user = match (invitation_hash, member) {
            (Some(hash), _) => {
                let name = identity.name.clone().unwrap_or_else(|| identity.email.clone());
                match self.store.accept_invitation(hash, &identity.email, &name, now).await? {
                    Ok(user) => user,
                    Err(refused) => return Err(ServiceError::Forbidden(refusal(&refused))),
                }
            }
            (None, Some(member)) => member,
            (None, None) => {
                return Err(ServiceError::Forbidden(format!(
                    "{} is not a member of any organisation here; ask your organisation's owner for an invitation",
                    identity.email
                )));
            }
        };
        let new = NewToken { name: "console", owner: TokenOwner::User(user.id), scopes: user.role.scopes(), ttl_secs };
        let (token, _) = self.store.issue_token("sign-in", &new).await?;
        self.open_session(&token, ttl_secs).await
    }

    /// Invite `email` into an organisation (`staff` or a partner's name) with `role`, for
    /// `days`: an owner into their partner, an admin into any. Returns the invitation's secret
    /// (shown once: the invitee opens `/invitations/{secret}`) and the invitation; the invitee
    /// is e-mailed the link too.
    pub async fn invite(
        &self,
        who: &Principal,
        organisation: &str,
        email: &str,
        role: Role,
        days: u32,
    ) -> Result<(String, Invitation), ServiceError> {
        let partner = self.organisation_of(who, organisation).await?;
        require_member_admin(who, partner)?;
        let email = email.trim();
        if !valid_email(email) {
            return Err(ServiceError::invalid("/email", format!("`{email}` is not an e-mail address")));
        }
        if role.is_staff() != partner.is_none() {
            return Err(ServiceError::invalid("/role", format!("`{role}` is not a role in this organisation")));
        }
        if !(1..=30).contains(&days) {
            return Err(ServiceError::invalid("/expires_in_days", "an invitation lasts 1 to 30 days".into()));
        }
        if self.store.user_by_email(email).await?.is_some_and(|u| u.left_at.is_none()) {
            return Err(ServiceError::Exists(format!("a member with e-mail address {}", email.to_lowercase())));
        }
        let (secret, invitation) =
            self.store.create_invitation(&who.actor, email, partner, role, i64::from(days) * 86_400).await?;
        self.email_invitation(&invitation, &secret).await?;
        Ok((secret, invitation))
    }

    /// An organisation's invitations, newest first (those who may manage its members).
    pub async fn invitations(&self, who: &Principal, organisation: &str) -> Result<Vec<Invitation>, ServiceError> {
        let partner = self.organisation_of(who, organisation).await?;
        require_member_admin(who, partner)?;
        Ok(self.store.invitations(partner).await?)
    }

    /// The invitation a secret names, for the page its link opens (anyone holding the link).
    pub async fn invitation(&self, secret: &str) -> Result<Option<Invitation>, ServiceError> {
        Ok(self.store.invitation(secret).await?)
    }
}

/// Why an invitation could not be accepted, for the person who tried.
fn refusal(refused: &InvitationRefused) -> String {
    match refused {
        InvitationRefused::Unknown => "this invitation does not exist; ask for a new one".into(),
        InvitationRefused::Used => "this invitation was used already; it works once".into(),
        InvitationRefused::Expired => "this invitation has expired; ask for a new one".into(),
        InvitationRefused::OtherAddress(invited) => {
            format!("this invitation is for {invited}; sign in with that address")
        }
        InvitationRefused::AlreadyMember(email) => format!("{email} is a member of an organisation already"),
    }
}
