//! `/v1/rules`: the rules new reviews run and their documentation, public (a partner reading a
//! finding's help link, or CI running `assay check`, needs no token). The console shows the same
//! at `/rules` and `/rules/{id}`.

use assay_api::problem::Problem;
use assay_api::rules::{RuleCatalogue, RuleDocs, RuleSummary};
use axum::Json;
use axum::extract::State;

use crate::AppState;
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
