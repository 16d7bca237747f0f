//! `/v1/rules`: the rules new reviews run and their documentation, public (a partner reading a
//! finding's help link, or CI running `assay check`, needs no token). The console shows the same
//! at `/rules` and `/rules/{id}`.

use assay_api::problem::Problem;
use assay_api::rules::{
    ActivePackRef, CheckContext, PackFile, PreviousVersion, RuleCatalogue, RuleDocs, RulePackFiles, RuleSummary,
};
use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiPath};

pub(crate) fn summary(r: &assay_service::rules::RuleDoc) -> RuleSummary {
    RuleSummary {
        id: r.id.clone(),
        name: r.name.clone(),
        version: r.version.clone(),
        severity: r.severity.as_str().to_owned(),
        enabled: r.enabled,
        description: r.description.clone(),
        help_url: r.help_url.clone(),
        documented: r.docs.is_some(),
    }
}

/// The active rule pack: its digest and every rule's id, version, severity and description.
#[utoipa::path(
    get, path = "/v1/rules", tag = "rules",
    responses((status = 200, description = "The active pack's rules", body = RuleCatalogue)),
)]
pub async fn list_rules(State(state): State<AppState>) -> Result<Json<RuleCatalogue>, ApiError> {
    let catalogue = state.service.rule_catalogue().await?;
    Ok(Json(RuleCatalogue {
        pack: catalogue.pack,
        version: catalogue.version,
        digest: catalogue.digest,
        rules: catalogue.rules.iter().map(summary).collect(),
    }))
}

/// One rule of the active pack with its long-form documentation (CommonMark).
#[utoipa::path(
    get, path = "/v1/rules/{id}", tag = "rules",
    params(("id" = String, Path, description = "The rule id, e.g. `urls.https`")),
    responses(
        (status = 200, description = "The rule and its documentation", body = RuleDocs),
        (status = 404, description = "The active pack has no such rule", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_rule(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Result<Json<RuleDocs>, ApiError> {
    let catalogue = state.service.rule_catalogue().await?;
    let rule = catalogue
        .rules
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("the active rule pack has no rule `{id}`")))?;
    Ok(Json(RuleDocs {
        rule: summary(rule),
        pack: format!("{}@{}", catalogue.pack, catalogue.version),
        docs: rule.docs.as_deref().map(str::to_owned),
    }))
}

/// The active pack as files (`pack.toml`, components, documentation), each with its SHA-256,
/// for `assay rules pull`: a partner runs exactly what the service runs.
#[utoipa::path(
    get, path = "/v1/rules/pack", tag = "rules",
    responses((status = 200, description = "The active pack's files", body = RulePackFiles)),
)]
pub async fn get_active_pack(State(state): State<AppState>) -> Result<Json<RulePackFiles>, ApiError> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let pack = state.service.active_pack_files().await?;
    let files = pack
        .files
        .iter()
        .map(|(name, bytes)| PackFile {
            name: name.clone(),
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            content: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
        .collect();
    Ok(Json(RulePackFiles {
        name: pack.name,
        version: pack.version,
        digest: pack.digest,
        manifest: pack.manifest.to_string(),
        files,
    }))
}

/// What `assay check --server` needs to decide a listing as the service would: the active
/// pack, the listing's last approved version and its live waivers.
#[utoipa::path(
    get, path = "/v1/listings/{slug}/check-context", tag = "rules",
    params(("slug" = String, Path, description = "The listing")),
    responses(
        (status = 200, description = "The context", body = CheckContext),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such listing the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn check_context(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<CheckContext>, ApiError> {
    let context = state.service.check_context(&who, &slug).await?;
    let now = state.service.now();
    let (name, version, digest) = context.pack;
    Ok(Json(CheckContext {
        slug,
        pack: ActivePackRef { name, version, digest },
        previous: context.previous.map(|(version, manifest)| PreviousVersion { version, manifest }),
        waivers: context.waivers.iter().map(|w| crate::dto::waiver(w, now)).collect(),
    }))
}
