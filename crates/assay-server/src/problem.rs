//! [`ApiError`]: every error the API returns, as `application/problem+json` (RFC 9457) with a
//! stable `code`. Internal details are logged with the request, never sent.

use assay_api::problem::{FieldError, Problem, ProblemCode};
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use assay_service::ServiceError;

/// An API error: a status, a stable code, a public detail.
#[derive(Debug)]
pub struct ApiError {
    code: ProblemCode,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    current_state: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with no field details, titled as its code is.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> ApiError {
        ApiError::titled(code, code.title(), detail)
    }

    /// An error with a title more specific than its code's.
    pub fn titled(code: ProblemCode, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { code, title, detail: detail.into(), errors: Vec::new(), current_state: None, retry_after: None }
    }

    /// 400 `invalid_request`.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(ProblemCode::InvalidRequest, detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(ProblemCode::NotFound, detail)
    }

    /// 413 `payload_too_large`.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(ProblemCode::PayloadTooLarge, detail)
    }

    /// 500 `internal`: the detail says nothing about the cause, which goes to the log.
    pub fn internal(cause: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %assay_service::error_chain(cause), "internal error");
        ApiError::new(ProblemCode::Internal, "the server could not complete the request; it has been logged")
    }

    /// The status it will be sent with.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Its stable code.
    pub fn code(&self) -> ProblemCode {
        self.code
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
        let detail = e.to_string();
        match e {
            ServiceError::Unauthenticated => ApiError::new(ProblemCode::Unauthenticated, detail),
            ServiceError::TokenExpired(_) => ApiError::new(ProblemCode::TokenExpired, detail),
            ServiceError::TokenRevoked(_) => ApiError::new(ProblemCode::TokenRevoked, detail),
            ServiceError::OwnerLeft(_) => ApiError::new(ProblemCode::OwnerLeft, detail),
            ServiceError::InsufficientScope(_) => ApiError::new(ProblemCode::InsufficientScope, detail),
            ServiceError::PartnerSuspended => ApiError::new(ProblemCode::PartnerSuspended, detail),
            ServiceError::LastOwner(_) => ApiError::new(ProblemCode::LastOwner, detail),
            ServiceError::Forbidden(_) => ApiError::new(ProblemCode::Forbidden, detail),
            ServiceError::CapabilityRequired(_) => ApiError::new(ProblemCode::CapabilityRequired, detail),
            ServiceError::NotFound(_) => ApiError::not_found(detail),
            ServiceError::Exists(_) => ApiError::new(ProblemCode::AlreadyExists, detail),
            ServiceError::InvalidManifest(error) => {
                let mut api = ApiError::new(
                    ProblemCode::InvalidManifest,
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
                ApiError::new(ProblemCode::InvalidField, message.clone()).with_field(&pointer, &message)
            }
            ServiceError::InvalidPlugin { .. } => ApiError::new(ProblemCode::InvalidPlugin, detail),
            ServiceError::Conflict { current } => ApiError {
                current_state: Some(current.as_str().to_owned()),
                ..ApiError::new(ProblemCode::Conflict, detail)
            },
            ServiceError::NotAllowed { current, .. } => ApiError {
                current_state: Some(current.as_str().to_owned()),
                ..ApiError::new(ProblemCode::TransitionNotAllowed, detail)
            },
            ServiceError::NoteRequired => {
                ApiError::new(ProblemCode::NoteRequired, detail).with_field("/note", "say why")
            }
            ServiceError::Policy(violation) => {
                ApiError::new(ProblemCode::PolicyViolation, detail).with_field(violation.pointer, &violation.message)
            }
            ServiceError::Busy { retry_after_secs, .. } => {
                ApiError { retry_after: Some(retry_after_secs), ..ApiError::new(ProblemCode::Busy, detail) }
            }
            ServiceError::AlreadyDecided(_) => ApiError::new(ProblemCode::Conflict, detail),
            ServiceError::NotReady(_) => ApiError::new(ProblemCode::NotReady, detail),
            ServiceError::Internal(ref source) => ApiError::internal(source),
        }
    }
}

impl ApiError {
    /// The status, title, public detail and field errors (pointer, detail), for the console's
    /// HTML error pages.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, &str, Vec<(String, String)>) {
        let fields = self.errors.iter().map(|f| (f.pointer.clone(), f.detail.clone())).collect();
        (self.status(), self.title, &self.detail, fields)
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
                ProblemCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::JsonDataError(e) => ApiError::new(ProblemCode::InvalidField, e.body_text()),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(other.body_text()),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem {
            kind: format!("urn:assay:problem:{}", self.code),
            title: self.title.to_owned(),
            status: status.as_u16(),
            detail: self.detail,
            code: self.code,
            errors: self.errors,
            current_state: self.current_state,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
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

/// `axum::extract::Path` whose rejections are problem+json: a path parameter that does not
/// parse (`/v1/notices/9223372036854775808`) is 400 `invalid_request`, not `text/plain`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                Err(ApiError::bad_request(format!("a path parameter is invalid: {}", rejection.body_text())))
            }
        }
    }
}

/// `axum::extract::Multipart` whose rejections are problem+json: a body that is not
/// `multipart/form-data` is 415 `unsupported_media_type`, a missing or malformed boundary 400.
#[derive(Debug)]
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            return Err(ApiError::new(
                ProblemCode::UnsupportedMediaType,
                "send the body as `multipart/form-data` (with a boundary)",
            ));
        }
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(form) => Ok(ApiMultipart(form)),
            Err(rejection) => {
                Err(ApiError::bad_request(format!("the multipart form could not be read: {}", rejection.body_text())))
            }
        }
    }
}

/// A request past the server's time limit: 503 `timeout` (the timeout layer's own answer has no
/// body, so this replaces it).
pub(crate) async fn timeout_problem(response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && !response.headers().contains_key(header::CONTENT_TYPE) {
        return ApiError::new(ProblemCode::Timeout, "the request took longer than the server allows; try again")
            .into_response();
    }
    response
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
