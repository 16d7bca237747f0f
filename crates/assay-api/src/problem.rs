//! Errors: the problem document (RFC 9457) and its stable codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    pub code: ProblemCode,
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

/// Every error code the API returns. Clients match on these, never on `detail` or `title`; a
/// code is never renamed or reused for another meaning.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// 400: the request is malformed (not JSON, a malformed multipart form, a path parameter
    /// that does not parse).
    InvalidRequest,
    /// 401: no valid bearer token (or console session).
    Unauthenticated,
    /// 401: the token was valid and has expired; create a new one.
    TokenExpired,
    /// 401: the token was revoked (or replaced by a rotation).
    TokenRevoked,
    /// 401: the token's person left their organisation; its tokens no longer work.
    OwnerLeft,
    /// 403: the caller's role may not do this.
    Forbidden,
    /// 403: the caller's role may do this, but the token lacks the scope it needs.
    InsufficientScope,
    /// 403: the partner lacks a capability the operation needs.
    CapabilityRequired,
    /// 403: the partner is suspended; it can create and submit nothing until restored.
    PartnerSuspended,
    /// 404: nothing the caller may see has this identity (another partner's objects included).
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 409: it exists already.
    AlreadyExists,
    /// 409: another decision won; `current_state` says where the version is now.
    Conflict,
    /// 409: the action is not possible from the version's state (`current_state`).
    TransitionNotAllowed,
    /// 409: something must finish first (a shadow re-check); try again later.
    NotReady,
    /// 409: the change would leave a partner organisation without an owner.
    LastOwner,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body's content type is not the one the operation takes.
    UnsupportedMediaType,
    /// 422: the manifest does not parse or validate; `errors` has the field, line and column.
    InvalidManifest,
    /// 422: a request field is invalid; `errors` has its pointer.
    InvalidField,
    /// 422: a check component or rule-pack component was refused.
    InvalidPlugin,
    /// 422: a decision, waiver end or exception needs a note saying why.
    NoteRequired,
    /// 422: a notice or schedule breaks a lifecycle policy; the detail names the rule.
    PolicyViolation,
    /// 500: the server failed; the cause is logged with the request id.
    Internal,
    /// 503: the service is saturated; repeat the request after `Retry-After` seconds.
    Busy,
    /// 503: the request took longer than the server allows.
    Timeout,
}

impl ProblemCode {
    /// Every code, in the order above.
    pub const ALL: [ProblemCode; 26] = [
        ProblemCode::InvalidRequest,
        ProblemCode::Unauthenticated,
        ProblemCode::TokenExpired,
        ProblemCode::TokenRevoked,
        ProblemCode::OwnerLeft,
        ProblemCode::Forbidden,
        ProblemCode::InsufficientScope,
        ProblemCode::CapabilityRequired,
        ProblemCode::PartnerSuspended,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::AlreadyExists,
        ProblemCode::Conflict,
        ProblemCode::TransitionNotAllowed,
        ProblemCode::NotReady,
        ProblemCode::LastOwner,
        ProblemCode::PayloadTooLarge,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::InvalidManifest,
        ProblemCode::InvalidField,
        ProblemCode::InvalidPlugin,
        ProblemCode::NoteRequired,
        ProblemCode::PolicyViolation,
        ProblemCode::Internal,
        ProblemCode::Busy,
        ProblemCode::Timeout,
    ];

    /// The code as it appears in `code` and in `type` (`urn:assay:problem:<code>`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::InvalidRequest => "invalid_request",
            ProblemCode::Unauthenticated => "unauthenticated",
            ProblemCode::TokenExpired => "token_expired",
            ProblemCode::TokenRevoked => "token_revoked",
            ProblemCode::OwnerLeft => "owner_left",
            ProblemCode::Forbidden => "forbidden",
            ProblemCode::InsufficientScope => "insufficient_scope",
            ProblemCode::CapabilityRequired => "capability_required",
            ProblemCode::PartnerSuspended => "partner_suspended",
            ProblemCode::NotFound => "not_found",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::AlreadyExists => "already_exists",
            ProblemCode::Conflict => "conflict",
            ProblemCode::TransitionNotAllowed => "transition_not_allowed",
            ProblemCode::NotReady => "not_ready",
            ProblemCode::LastOwner => "last_owner",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::UnsupportedMediaType => "unsupported_media_type",
            ProblemCode::InvalidManifest => "invalid_manifest",
            ProblemCode::InvalidField => "invalid_field",
            ProblemCode::InvalidPlugin => "invalid_plugin",
            ProblemCode::NoteRequired => "note_required",
            ProblemCode::PolicyViolation => "policy_violation",
            ProblemCode::Internal => "internal",
            ProblemCode::Busy => "busy",
            ProblemCode::Timeout => "timeout",
        }
    }

    /// The HTTP status it is sent with.
    pub fn status(self) -> u16 {
        match self {
            ProblemCode::InvalidRequest => 400,
            ProblemCode::Unauthenticated
            | ProblemCode::TokenExpired
            | ProblemCode::TokenRevoked
            | ProblemCode::OwnerLeft => 401,
            ProblemCode::Forbidden
            | ProblemCode::InsufficientScope
            | ProblemCode::CapabilityRequired
            | ProblemCode::PartnerSuspended => 403,
            ProblemCode::NotFound => 404,
            ProblemCode::MethodNotAllowed => 405,
            ProblemCode::AlreadyExists
            | ProblemCode::Conflict
            | ProblemCode::TransitionNotAllowed
            | ProblemCode::NotReady
            | ProblemCode::LastOwner => 409,
            ProblemCode::PayloadTooLarge => 413,
            ProblemCode::UnsupportedMediaType => 415,
            ProblemCode::InvalidManifest
            | ProblemCode::InvalidField
            | ProblemCode::InvalidPlugin
            | ProblemCode::NoteRequired
            | ProblemCode::PolicyViolation => 422,
            ProblemCode::Internal => 500,
            ProblemCode::Busy | ProblemCode::Timeout => 503,
        }
    }

    /// A short summary of the kind of problem (the document's `title`).
    pub fn title(self) -> &'static str {
        match self {
            ProblemCode::InvalidRequest => "The request is malformed",
            ProblemCode::Unauthenticated => "Authentication required",
            ProblemCode::TokenExpired => "The token has expired",
            ProblemCode::TokenRevoked => "The token was revoked",
            ProblemCode::OwnerLeft => "The token's owner left their organisation",
            ProblemCode::Forbidden => "Not allowed for this role",
            ProblemCode::InsufficientScope => "The token lacks a scope",
            ProblemCode::CapabilityRequired => "The partner lacks a capability",
            ProblemCode::PartnerSuspended => "The partner is suspended",
            ProblemCode::NotFound => "Not found",
            ProblemCode::MethodNotAllowed => "Method not allowed",
            ProblemCode::AlreadyExists => "Already exists",
            ProblemCode::Conflict => "The version changed concurrently",
            ProblemCode::TransitionNotAllowed => "Not possible in the version's state",
            ProblemCode::NotReady => "Not ready yet",
            ProblemCode::LastOwner => "An organisation needs an owner",
            ProblemCode::PayloadTooLarge => "The request body is too large",
            ProblemCode::UnsupportedMediaType => "Unsupported media type",
            ProblemCode::InvalidManifest => "The manifest is invalid",
            ProblemCode::InvalidField => "A field is invalid",
            ProblemCode::InvalidPlugin => "A check component was refused",
            ProblemCode::NoteRequired => "A note is required",
            ProblemCode::PolicyViolation => "The request breaks a lifecycle policy",
            ProblemCode::Internal => "Internal error",
            ProblemCode::Busy => "The service is busy",
            ProblemCode::Timeout => "The request took too long",
        }
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_as_its_name_and_back() {
        for code in ProblemCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "{code:?}");
            assert_eq!(serde_json::from_value::<ProblemCode>(json).unwrap(), code);
            assert!((400..600).contains(&code.status()), "{code:?}");
        }
        let names: std::collections::HashSet<_> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ProblemCode::ALL.len(), "codes are distinct");
    }
}
