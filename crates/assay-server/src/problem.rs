//! [`ApiError`]: every error the API returns, as `application/problem+json` (RFC 9457) with a
//! stable `code`. Internal details are logged with the request, never sent.

use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use assay_service::ServiceError;

/// An error response body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:assay:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time, and what to do about it.
    pub detail: String,
    /// The stable machine-readable code; clients branch on this, never on `detail`.
    pub code: String,
    /// Field errors, each with a JSON Pointer into the request (or the submitted manifest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For conflicts: the version's state now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// A JSON Pointer to the field.
    pub pointer: String,
    /// What is wrong with it.
    pub detail: String,
    /// For manifest errors: the line in `listing.toml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// For manifest errors: the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// An API error: a status, a stable code, a public detail.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    current_state: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no field details.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            current_state: None,
            retry_after: None,
        }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "The request is malformed", detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// 413 `payload_too_large`.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large", detail)
    }

    /// 500 `internal`: the detail says nothing about the cause, which goes to the log.
    pub fn internal(cause: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %assay_service::error_chain(cause), "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server could not complete the request; it has been logged",
        )
    }

    /// The status it will be sent with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    fn with_field(mut self, pointer: &str, detail: &str) -> ApiError {
        self.errors.push(FieldError {
            pointer: pointer.to_owned(),
            detail: detail.to_owned(),
            line: None,
            column: None,
        });
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use StatusCode as S;
        let detail = e.to_string();
        match e {
            ServiceError::Unauthenticated => {
                ApiError::new(S::UNAUTHORIZED, "unauthenticated", "Authentication required", detail)
            }
            ServiceError::Forbidden(_) => ApiError::new(S::FORBIDDEN, "forbidden", "Not allowed for this role", detail),
            ServiceError::CapabilityRequired(_) => {
                ApiError::new(S::FORBIDDEN, "capability_required", "The partner lacks a capability", detail)
            }
            ServiceError::NotFound(_) => ApiError::not_found(detail),
            ServiceError::Exists(_) => ApiError::new(S::CONFLICT, "already_exists", "Already exists", detail),
            ServiceError::InvalidManifest(error) => {
                let mut api = ApiError::new(
                    S::UNPROCESSABLE_ENTITY,
                    "invalid_manifest",
                    "The manifest is invalid",
                    format!("listing.toml:{}:{}: {}", error.line, error.column, error.message),
                );
                api.errors.push(FieldError {
                    pointer: error.pointer.clone(),
                    detail: error.message.clone(),
                    line: Some(error.line),
                    column: Some(error.column),
                });
                api
            }
            ServiceError::Invalid { pointer, message } => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid_field", "A field is invalid", message.clone())
                    .with_field(&pointer, &message)
            }
            ServiceError::InvalidPlugin { .. } => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid_plugin", "A check component was refused", detail)
            }
            ServiceError::Conflict { current } => ApiError {
                current_state: Some(current.as_str().to_owned()),
                ..ApiError::new(S::CONFLICT, "conflict", "The version changed concurrently", detail)
            },
            ServiceError::NotAllowed { current, .. } => ApiError {
                current_state: Some(current.as_str().to_owned()),
                ..ApiError::new(S::CONFLICT, "transition_not_allowed", "Not possible in the version's state", detail)
            },
            ServiceError::NoteRequired => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "note_required", "A note is required", detail)
                    .with_field("/note", "say why")
            }
            ServiceError::Policy(violation) => ApiError::new(
                S::UNPROCESSABLE_ENTITY,
                "policy_violation",
                "The request breaks a lifecycle policy",
                detail,
            )
            .with_field(violation.pointer, &violation.message),
            ServiceError::Busy { retry_after_secs, .. } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(S::SERVICE_UNAVAILABLE, "busy", "The service is busy", detail)
            },
            ServiceError::NotReady(_) => ApiError::new(S::CONFLICT, "not_ready", "Not ready yet", detail),
            ServiceError::Internal(ref source) => ApiError::internal(source),
        }
    }
}

impl ApiError {
    /// The status, title, public detail and field errors (pointer, detail), for the console's
    /// HTML error pages.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, &str, Vec<(String, String)>) {
        let fields = self.errors.iter().map(|f| (f.pointer.clone(), f.detail.clone())).collect();
        (self.status, self.title, &self.detail, fields)
    }

    /// A multipart form that could not be read: too large (413, naming the limit) or malformed.
    pub(crate) fn multipart(e: &axum::extract::multipart::MultipartError, max_upload_bytes: usize) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("the upload exceeds {max_upload_bytes} bytes"))
        } else {
            ApiError::bad_request(format!("the multipart form could not be read: {}", e.body_text()))
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Expected JSON",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::JsonDataError(e) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "A field is invalid", e.body_text())
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(other.body_text()),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: format!("urn:assay:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_owned(),
            errors: self.errors,
            current_state: self.current_state,
        };
        let mut response = (self.status, axum::Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `axum::Json` whose rejections are problem+json too.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiJson(axum::Json::<T>::from_request(req, state).await?.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_service_says_when_to_come_back() {
        let busy = ServiceError::Busy { message: "every compile slot is taken".into(), retry_after_secs: 60 };
        let response = ApiError::from(busy).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
    }
}
