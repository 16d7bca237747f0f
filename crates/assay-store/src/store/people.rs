//! People, organisations and credentials: users and their memberships, partners' capabilities
//! and suspension, and tokens with owners, scopes and a lifecycle. Every change is one write
//! transaction with its audit event; `assay_service::access` decides who may ask for it.

use assay_core::identity::{Capability, PartnerId, Principal, Role, STAFF, Scopes, UserId};
pub use assay_core::people::{MemberChange, PartnerRecord, TokenRecord, UserRecord};

use super::{Id, Store, StoreError, append, now};
use crate::model::{decode_capabilities, encode_capabilities};
use crate::token;

/// A person to add to an organisation.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Their e-mail address (stored lower-case).
    pub email: &'a str,
    /// Their name.
    pub name: &'a str,
    /// The partner organisation; `None` for staff.
    pub partner: Option<PartnerId>,
    /// Their role: a staff role for staff, a partner role for a partner.
    pub role: Role,
}

/// A change to a partner's capabilities or suspension, decided by staff with a rationale.
#[derive(Debug, Clone, Copy)]
pub struct CapabilityDecision<'a> {
    /// Capabilities to grant.
    pub grant: &'a [Capability],
    /// Capabilities to revoke.
    pub revoke: &'a [Capability],
    /// `Some(true)` suspends, `Some(false)` restores, `None` leaves suspension as it is.
    pub suspend: Option<bool>,
    /// Why: recorded in the audit event.
    pub rationale: &'a str,
}

/// What a [`CapabilityDecision`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityChange {
    /// The partner before.
    pub before: PartnerRecord,
    /// The partner after.
    pub after: PartnerRecord,
    /// The versions whose certified mark was removed (revoking `certify`), as (slug, version).
    pub uncertified: Vec<(String, String)>,
}

/// Who a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    /// A person: the token acts with their role, in their organisation, while they are a member.
    User(UserId),
    /// A service account of an organisation: staff (`partner` `None`) with a staff role, or a
    /// partner's, acting as its owner when it has the `admin` scope and as a developer otherwise.
    Service {
        /// A staff role, or any partner role for a partner's service account.
        role: Role,
        /// The partner; `None` for staff.
        partner: Option<PartnerId>,
    },
}

/// A token to issue.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// What it is for, e.g. `ci`.
    pub name: &'a str,
    /// Whose it is.
    pub owner: TokenOwner,
    /// What it may be used for (narrowed to what its owner's role allows when used).
    pub scopes: Scopes,
    /// How long it lasts, in seconds from now.
    pub ttl_secs: i64,
}

/// Which tokens to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFilter {
    /// Every token.
    All,
    /// An organisation's: its members' and its service accounts' (`None`: staff).
    Organisation(Option<PartnerId>),
    /// One person's.
    User(UserId),
}

/// How often at most a token's last-used time is written (seconds).
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// The columns of a token `t`, its user `u` and its organisation's partner `p` (all joined).
macro_rules! token_columns {
    () => {
        "t.id AS token_id, t.role AS token_role, t.partner_id, t.name AS token_name, t.scopes, \
         t.created_at, t.expires_at, t.revoked_at, t.last_used_at, t.replaced_by, t.user_id, u.email, \
         u.name AS user_name, u.role AS user_role, u.left_at, p.name AS partner_name, p.capabilities, \
         p.suspended_at"
    };
}
pub(crate) use token_columns;

/// `FROM` a token `t` with its user `u` and partner `p`.
macro_rules! token_joins {
    () => {
        " FROM tokens t LEFT JOIN users u ON u.id = t.user_id LEFT JOIN partners p ON p.id = t.partner_id "
    };
}
pub(crate) use token_joins;

/// A token and everything that decides what it may do ([`token_columns!`]).
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    token_id: i64,
    token_role: String,
    partner_id: Option<i64>,
    token_name: String,
    scopes: String,
    created_at: i64,
    pub(crate) expires_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    replaced_by: Option<i64>,
    user_id: Option<i64>,
    email: Option<String>,
    user_name: Option<String>,
    user_role: Option<String>,
    pub(crate) left_at: Option<i64>,
    partner_name: Option<String>,
    capabilities: Option<String>,
    suspended_at: Option<i64>,
}

impl TokenRow {
    /// The role the token acts with: its user's, or a service account's (a partner's service
    /// account acts as a developer).
    fn role(&self) -> Result<Role, StoreError> {
        let stored = self.user_role.as_deref().unwrap_or(&self.token_role);
        match stored {
            // A partner's service account is its owner if it may administer, else a developer.
            "partner" if self.scopes.split(',').any(|s| s.trim() == "admin") => Ok(Role::Owner),
            "partner" => Ok(Role::Developer),
            other => other.parse().map_err(StoreError::Corrupt),
        }
    }

    fn organisation(&self) -> String {
        self.partner_name.clone().unwrap_or_else(|| STAFF.to_owned())
    }

    /// What a call with this token is: the caller as the rest of assay sees them.
    pub(crate) fn principal(&self) -> Result<Principal, StoreError> {
        let role = self.role()?;
        let organisation = self.organisation();
        let actor = match (&self.user_name, &self.email) {
            (Some(name), Some(email)) => assay_core::identity::person_label(name, email, &organisation),
            _ => assay_core::identity::service_account_label(&self.token_name, &organisation),
        };
        Ok(Principal {
            role,
            partner: self.partner_id.map(PartnerId),
            capabilities: self.capabilities.as_deref().map(decode_capabilities).unwrap_or_default(),
            suspended: self.suspended_at.is_some(),
            scopes: Scopes::decode(&self.scopes).map_err(StoreError::Corrupt)?.intersect(role.scopes()),
            user: self.user_id.map(UserId),
            token: self.token_id,
            actor,
        })
    }

    pub(crate) fn record(&self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            id: self.token_id,
            name: self.token_name.clone(),
            user: self.user_id.zip(self.email.clone()).map(|(id, email)| (UserId(id), email)),
            partner: self.partner_id.map(PartnerId),
            organisation: self.organisation(),
            role: self.role()?,
            scopes: Scopes::decode(&self.scopes).map_err(StoreError::Corrupt)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
            replaced_by: self.replaced_by,
        })
    }
}

/// `SELECT` every [`UserRow`] column, then `$rest`.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT u.id, u.email, u.name, u.partner_id, p.name AS partner_name, u.role, u.created_at, u.left_at \
             FROM users u LEFT JOIN partners p ON p.id = u.partner_id ",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    partner_id: Option<i64>,
    partner_name: Option<String>,
    role: String,
    created_at: i64,
    left_at: Option<i64>,
}

impl UserRow {
    fn record(self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            id: UserId(self.id),
            email: self.email,
            name: self.name,
            partner: self.partner_id.map(PartnerId),
            organisation: self.partner_name.unwrap_or_else(|| STAFF.to_owned()),
            role: self.role.parse().map_err(StoreError::Corrupt)?,
            created_at: self.created_at,
            left_at: self.left_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: i64,
    name: String,
    capabilities: String,
    suspended_at: Option<i64>,
    created_at: i64,
}

impl PartnerRow {
    fn record(self) -> PartnerRecord {
        PartnerRecord {
            id: PartnerId(self.id),
            name: self.name,
            capabilities: decode_capabilities(&self.capabilities),
            suspended_at: self.suspended_at,
            created_at: self.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Membership {
    id: i64,
    left_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Member {
    partner_id: Option<i64>,
    role: String,
}

#[derive(sqlx::FromRow)]
struct Count {
    count: i64,
}

#[derive(sqlx::FromRow)]
struct Certified {
    slug: String,
    version: String,
}

/// `SELECT` every [`PartnerRow`] column, then `$rest`.
macro_rules! select_partners {
    ($rest:literal) => {
        concat!("SELECT id, name, capabilities, suspended_at, created_at FROM partners ", $rest)
    };
}

/// The audit subject of a person.
fn user_subject(email: &str) -> String {
    format!("user:{email}")
}

/// The audit subject of a partner.
pub(crate) fn partner_subject(name: &str) -> String {
    format!("partner:{name}")
}

/// Whether `role` is one a member of that kind of organisation can hold.
fn fits(role: Role, partner: Option<PartnerId>) -> bool {
    role.is_staff() == partner.is_none()
}

impl Store {
    /// Add a person to an organisation. A person who left may be added again (to any
    /// organisation); a current member's e-mail address is [`StoreError::Exists`].
    pub async fn create_user(&self, actor: &str, new: &NewUser<'_>) -> Result<UserRecord, StoreError> {
        let mut tx = self.write().await?;
        let user = insert_user(&mut tx, actor, new).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A person by id (members and people who left).
    pub async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query_as::<_, UserRow>(select_users!("WHERE u.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(UserRow::record).transpose()
    }

    /// A person by e-mail address (any case).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query_as::<_, UserRow>(select_users!("WHERE u.email = $1"))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.map(UserRow::record).transpose()
    }

    /// An organisation's current members by e-mail address (`None`: staff).
    pub async fn members(&self, partner: Option<PartnerId>) -> Result<Vec<UserRecord>, StoreError> {
        let rows = match partner {
            Some(p) => {
                sqlx::query_as::<_, UserRow>(select_users!(
                    "WHERE u.partner_id = $1 AND u.left_at IS NULL ORDER BY u.email"
                ))
                .bind(p.0)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as::<_, UserRow>(select_users!(
                    "WHERE u.partner_id IS NULL AND u.left_at IS NULL ORDER BY u.email"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(UserRow::record).collect()
    }

    /// Change a current member's role, or let them leave (their sessions end at once, their
    /// tokens stop working). A partner keeps at least one owner: taking away the last one is
    /// [`StoreError::LastOwner`] and changes nothing.
    pub async fn change_member(&self, actor: &str, id: UserId, change: MemberChange) -> Result<UserRecord, StoreError> {
        let mut tx = self.write().await?;
        let Some(user) = sqlx::query_as::<_, UserRow>(select_users!("WHERE u.id = $1 AND u.left_at IS NULL"))
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::NotFound(format!("member {}", id.0)));
        };
        let user = user.record()?;
        let stays_owner = change == MemberChange::Role(Role::Owner);
        if user.role == Role::Owner && !stays_owner {
            let Count { count } = sqlx::query_as::<_, Count>(
                "SELECT COUNT(*) AS count FROM users WHERE partner_id = $1 AND role = 'owner' AND left_at IS NULL",
            )
            .bind(user.partner.map(|p| p.0))
            .fetch_one(&mut *tx)
            .await?;
            if count <= 1 {
                return Err(StoreError::LastOwner(user.organisation));
            }
        }
        let (action, detail) = match change {
            MemberChange::Role(role) => {
                if !fits(role, user.partner) {
                    return Err(StoreError::Corrupt(format!("role {role} does not fit the organisation")));
                }
                sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                    .bind(role.as_str())
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                ("member.role", format!("role={} (was {})", role, user.role))
            }
            MemberChange::Leave => {
                sqlx::query("UPDATE users SET left_at = $1 WHERE id = $2")
                    .bind(now())
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE token_id IN (SELECT id FROM tokens WHERE user_id = $1)")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                ("member.remove", format!("organisation={:?} role={}", user.organisation, user.role))
            }
        };
        append(&mut tx, actor, action, &user_subject(&user.email), &detail).await?;
        let after = sqlx::query_as::<_, UserRow>(select_users!("WHERE u.id = $1"))
            .bind(id.0)
            .fetch_one(&mut *tx)
            .await?
            .record()?;
        tx.commit().await?;
        Ok(after)
    }

    /// A partner organisation by name.
    pub async fn partner_by_name(&self, name: &str) -> Result<Option<PartnerRecord>, StoreError> {
        let row = sqlx::query_as::<_, PartnerRow>(select_partners!("WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(PartnerRow::record))
    }

    /// A partner organisation by id.
    pub async fn partner(&self, id: PartnerId) -> Result<Option<PartnerRecord>, StoreError> {
        let row = sqlx::query_as::<_, PartnerRow>(select_partners!("WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(PartnerRow::record))
    }

    /// Every partner organisation, by name.
    pub async fn partners(&self) -> Result<Vec<PartnerRecord>, StoreError> {
        let rows = sqlx::query_as::<_, PartnerRow>(select_partners!("ORDER BY name")).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(PartnerRow::record).collect())
    }

    /// Apply a staff decision on a partner's capabilities and suspension, in one transaction
    /// with its audit event. Revoking `certify` removes the certified mark from every version
    /// of the partner's listings (each audited) and publishes `notice` on each listing that lost
    /// one.
    pub async fn decide_capabilities(
        &self,
        actor: &str,
        partner: PartnerId,
        decision: &CapabilityDecision<'_>,
        notice: &super::NewNotice<'_>,
    ) -> Result<CapabilityChange, StoreError> {
        let mut tx = self.write().await?;
        let sql = select_partners!("WHERE id = $1");
        let Some(before) = sqlx::query_as::<_, PartnerRow>(sql).bind(partner.0).fetch_optional(&mut *tx).await? else {
            return Err(StoreError::NotFound(format!("partner {}", partner.0)));
        };
        let before = before.record();
        let mut capabilities: Vec<Capability> =
            before.capabilities.iter().copied().filter(|c| !decision.revoke.contains(c)).collect();
        capabilities.extend(decision.grant.iter().copied());
        let suspended_at = match decision.suspend {
            Some(true) => before.suspended_at.or(Some(now())),
            Some(false) => None,
            None => before.suspended_at,
        };
        sqlx::query("UPDATE partners SET capabilities = $1, suspended_at = $2 WHERE id = $3")
            .bind(encode_capabilities(&capabilities))
            .bind(suspended_at)
            .bind(partner.0)
            .execute(&mut *tx)
            .await?;
        let after = sqlx::query_as::<_, PartnerRow>(sql).bind(partner.0).fetch_one(&mut *tx).await?.record();
        let subject = partner_subject(&before.name);
        let mut detail = format!(
            "capabilities={} (was {})",
            display_capabilities(&after.capabilities),
            display_capabilities(&before.capabilities)
        );
        match (before.suspended_at.is_some(), after.suspended_at.is_some()) {
            (false, true) => detail.push_str(" suspended"),
            (true, false) => detail.push_str(" restored"),
            _ => {}
        }
        detail.push_str(&format!(": {}", decision.rationale));
        append(&mut tx, actor, "partner.capabilities", &subject, &detail).await?;
        let mut uncertified = Vec::new();
        if before.capabilities.contains(&Capability::Certify) && !after.capabilities.contains(&Capability::Certify) {
            uncertified = sqlx::query_as::<_, Certified>(
                "SELECT l.slug, v.version FROM versions v JOIN listings l ON l.id = v.listing_id \
                 WHERE l.partner_id = $1 AND v.certified <> 0 ORDER BY l.slug, v.id",
            )
            .bind(partner.0)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|c| (c.slug, c.version))
            .collect();
            sqlx::query(
                "UPDATE versions SET certified = 0, revision = revision + 1 WHERE certified <> 0 \
                 AND listing_id IN (SELECT id FROM listings WHERE partner_id = $1)",
            )
            .bind(partner.0)
            .execute(&mut *tx)
            .await?;
            let mut noticed: Option<&str> = None;
            for (slug, version) in &uncertified {
                let detail = format!("the partner no longer holds `certify`: {}", decision.rationale);
                append(&mut tx, actor, "version.uncertify", &format!("listing:{slug}@{version}"), &detail).await?;
                if noticed != Some(slug.as_str()) {
                    let on_listing = super::NewNotice { slug: Some(slug.as_str()), ..notice.clone() };
                    super::notices::insert_notice(&mut tx, actor, &on_listing).await?;
                    noticed = Some(slug.as_str());
                }
            }
        }
        tx.commit().await?;
        Ok(CapabilityChange { before, after, uncertified })
    }

    /// Issue a token; returns its secret (shown once: only its hash is kept) and its record.
    pub async fn issue_token(&self, actor: &str, new: &NewToken<'_>) -> Result<(String, TokenRecord), StoreError> {
        let mut tx = self.write().await?;
        let (secret, record) = insert_token(&mut tx, actor, new, None).await?;
        tx.commit().await?;
        Ok((secret, record))
    }

    /// A token's record by id.
    pub async fn token_record(&self, id: i64) -> Result<Option<TokenRecord>, StoreError> {
        let row =
            sqlx::query_as::<_, TokenRow>(concat!("SELECT ", token_columns!(), token_joins!(), "WHERE t.id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.record()).transpose()
    }

    /// Tokens, newest first.
    pub async fn tokens(&self, filter: TokenFilter) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = match filter {
            TokenFilter::All => {
                sqlx::query_as::<_, TokenRow>(concat!(
                    "SELECT ",
                    token_columns!(),
                    token_joins!(),
                    "ORDER BY t.id DESC"
                ))
                .fetch_all(&self.pool)
                .await?
            }
            TokenFilter::Organisation(Some(p)) => {
                sqlx::query_as::<_, TokenRow>(concat!(
                    "SELECT ",
                    token_columns!(),
                    token_joins!(),
                    "WHERE t.partner_id = $1 ORDER BY t.id DESC"
                ))
                .bind(p.0)
                .fetch_all(&self.pool)
                .await?
            }
            TokenFilter::Organisation(None) => {
                sqlx::query_as::<_, TokenRow>(concat!(
                    "SELECT ",
                    token_columns!(),
                    token_joins!(),
                    "WHERE t.partner_id IS NULL ORDER BY t.id DESC"
                ))
                .fetch_all(&self.pool)
                .await?
            }
            TokenFilter::User(u) => {
                sqlx::query_as::<_, TokenRow>(concat!(
                    "SELECT ",
                    token_columns!(),
                    token_joins!(),
                    "WHERE t.user_id = $1 ORDER BY t.id DESC"
                ))
                .bind(u.0)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(TokenRow::record).collect()
    }

    /// Rotate a live token: a new secret with the same name, owner, scopes and lifetime, and
    /// the old one ends `grace_secs` from now (or at its own expiry, if sooner). `None` if
    /// the token is not live.
    pub async fn rotate_token(
        &self,
        actor: &str,
        id: i64,
        grace_secs: i64,
    ) -> Result<Option<(String, TokenRecord)>, StoreError> {
        let at = now();
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT ",
            token_columns!(),
            token_joins!(),
            "WHERE t.id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
             AND t.replaced_by IS NULL"
        ))
        .bind(id)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let old = row.record()?;
        let owner = match old.user {
            Some((user, _)) => TokenOwner::User(user),
            None => TokenOwner::Service { role: old.role, partner: old.partner },
        };
        let ttl = old.expires_at.map_or(token::DEFAULT_TTL_SECS, |e| e - old.created_at).max(1);
        let new = NewToken { name: &old.name, owner, scopes: old.scopes, ttl_secs: ttl };
        let (secret, record) = insert_token(&mut tx, actor, &new, Some(id)).await?;
        let ends = old.expires_at.map_or(at + grace_secs, |e| e.min(at + grace_secs));
        sqlx::query("UPDATE tokens SET expires_at = $1, replaced_by = $2 WHERE id = $3")
            .bind(ends)
            .bind(record.id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if grace_secs == 0 {
            sqlx::query("DELETE FROM sessions WHERE token_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some((secret, record)))
    }

    /// Note that token `id` was used at `at`, at most once a [`LAST_USED_RESOLUTION_SECS`].
    pub async fn touch_token(&self, id: i64, at: i64) -> Result<(), StoreError> {
        let _turn = self.single_write_turn().await;
        sqlx::query(
            "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(at)
        .bind(id)
        .bind(at - LAST_USED_RESOLUTION_SECS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// Add a person inside the caller's write transaction (see [`Store::create_user`]).
pub(super) async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    actor: &str,
    new: &NewUser<'_>,
) -> Result<UserRecord, StoreError> {
    if !fits(new.role, new.partner) {
        return Err(StoreError::Corrupt(format!("role {} does not fit the organisation", new.role)));
    }
    let email = new.email.trim().to_lowercase();
    let at = now();
    let existing = sqlx::query_as::<_, Membership>("SELECT id, left_at FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    let id = match existing {
        Some(Membership { left_at: None, .. }) => {
            return Err(StoreError::Exists(format!("a member with e-mail address {email}")));
        }
        Some(Membership { id, left_at: Some(_) }) => {
            sqlx::query(
                "UPDATE users SET name = $1, partner_id = $2, role = $3, created_at = $4, left_at = NULL WHERE id = $5",
            )
            .bind(new.name)
            .bind(new.partner.map(|p| p.0))
            .bind(new.role.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            id
        }
        None => sqlx::query_as::<_, Id>(
            "INSERT INTO users (email, name, partner_id, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&email)
        .bind(new.name)
        .bind(new.partner.map(|p| p.0))
        .bind(new.role.as_str())
        .bind(at)
        .fetch_one(&mut *tx)
        .await?
        .id,
    };
    let user =
        sqlx::query_as::<_, UserRow>(select_users!("WHERE u.id = $1")).bind(id).fetch_one(&mut *tx).await?.record()?;
    let detail = format!("name={:?} organisation={:?} role={}", user.name, user.organisation, user.role);
    append(tx, actor, "member.add", &user_subject(&email), &detail).await?;
    Ok(user)
}

fn display_capabilities(capabilities: &[Capability]) -> String {
    match encode_capabilities(capabilities) {
        none if none.is_empty() => "none".to_owned(),
        some => some,
    }
}

/// Insert a token (and its `token.create` or, with `rotated`, `token.rotate` event).
async fn insert_token(
    tx: &mut sqlx::AnyConnection,
    actor: &str,
    new: &NewToken<'_>,
    rotated: Option<i64>,
) -> Result<(String, TokenRecord), StoreError> {
    let (user, role, partner) = match new.owner {
        TokenOwner::User(user) => {
            let member =
                sqlx::query_as::<_, Member>("SELECT partner_id, role FROM users WHERE id = $1 AND left_at IS NULL")
                    .bind(user.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("member {}", user.0)))?;
            let role: Role = member.role.parse().map_err(StoreError::Corrupt)?;
            (Some(user.0), role, member.partner_id.map(PartnerId))
        }
        TokenOwner::Service { role, partner } => {
            if !fits(role, partner) {
                return Err(StoreError::Corrupt(format!("role {role} does not fit the organisation")));
            }
            (None, role, partner)
        }
    };
    let stored_role = if role.is_staff() { role.as_str() } else { "partner" };
    let secret = token::generate();
    let created = now();
    let expires = created.saturating_add(new.ttl_secs);
    let Id { id } = sqlx::query_as::<_, Id>(
        "INSERT INTO tokens (hash, role, partner_id, created_at, expires_at, name, user_id, scopes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(token::hash(&secret))
    .bind(stored_role)
    .bind(partner.map(|p| p.0))
    .bind(created)
    .bind(expires)
    .bind(new.name)
    .bind(user)
    .bind(new.scopes.encode())
    .fetch_one(&mut *tx)
    .await?;
    let row = sqlx::query_as::<_, TokenRow>(concat!("SELECT ", token_columns!(), token_joins!(), "WHERE t.id = $1"))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let record = row.record()?;
    let owner = match &record.user {
        Some((_, email)) => email.clone(),
        None => format!("service account of {}", record.organisation),
    };
    let (action, detail) = match rotated {
        Some(old) => ("token.rotate", format!("replaces token:{old}; name={:?} owner={owner}", record.name)),
        None => (
            "token.create",
            format!("name={:?} owner={owner} scopes={} expires_at={expires}", record.name, record.scopes),
        ),
    };
    append(tx, actor, action, &format!("token:{id}"), &detail).await?;
    Ok((secret, record))
}
