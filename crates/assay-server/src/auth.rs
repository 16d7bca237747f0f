//! The caller: `Authorization: Bearer <token>` → a [`Principal`], or 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use assay_service::{Principal, ServiceError};

use crate::AppState;
use crate::problem::ApiError;

/// The authenticated caller of a route.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ServiceError::Unauthenticated)?;
        let principal = state.service.authenticate(token).await?;
        tracing::Span::current().record("actor", principal.actor.as_str());
        Ok(Caller(principal))
    }
}
