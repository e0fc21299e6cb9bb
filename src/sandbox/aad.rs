//! Azure AD's v1 client-credentials token endpoint (`/{tenant}/oauth2/token`) as the vendors that
//! sign in through it (C3, Microsoft Partner Center) meet it: a form body; `resource` (or a
//! v2-style `scope` of `{resource}/.default`); `expires_in`, `ext_expires_in`, `expires_on` and
//! `not_before` as strings; and the AADSTS error bodies, with their trace and correlation ids.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::Shared;

/// Answers a token request to emulation `id`'s tenant `tenant_id`, checked against the
/// credentials it accepts; `granted` is the resource its tokens are for.
pub(super) fn token(
    shared: &Shared,
    id: &'static str,
    tenant_id: &str,
    body: &[u8],
    granted: &str,
) -> Response {
    let form = super::query_pairs(std::str::from_utf8(body).ok());
    let field = |name: &str| super::param(&form, name).unwrap_or("");
    let accepted = |key: &str| shared.config.credential(id, key);
    if tenant_id != accepted("auth.tenant_id") {
        let msg = format!(
            "AADSTS90002: Tenant '{tenant_id}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        );
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &msg);
    }
    if field("grant_type") != "client_credentials" {
        let msg = "AADSTS70003: The app requested an unsupported grant type.";
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            msg,
        );
    }
    if field("client_id") != accepted("auth.client_id") {
        let msg = format!(
            "AADSTS700016: Application with identifier '{}' was not found in the directory '{tenant_id}'.",
            field("client_id")
        );
        return aad_error(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, &msg);
    }
    if field("client_secret").is_empty() {
        let msg = "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.";
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 7000216, msg);
    }
    if field("client_secret") != accepted("auth.client_secret") {
        let msg = format!(
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
            accepted("auth.client_id")
        );
        return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, &msg);
    }
    // v1 takes `resource`; a v2-style `scope` of `{resource}/.default` names the same thing.
    let resource = match (field("resource"), field("scope")) {
        ("", "") => {
            let msg =
                "AADSTS900144: The request body must contain the following parameter: 'resource'.";
            return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 900144, msg);
        }
        ("", scope) => scope.trim_end_matches("/.default").to_string(),
        (resource, _) => resource.to_string(),
    };
    if resource.trim_end_matches('/') != granted.trim_end_matches('/') {
        let msg = format!(
            "AADSTS500011: The resource principal named {resource} was not found in the tenant named {tenant_id}."
        );
        return aad_error(StatusCode::BAD_REQUEST, "invalid_resource", 500011, &msg);
    }
    let (access_token, ttl) = shared.issue_token(id);
    let now = jiff::Timestamp::now().as_second();
    let expires_in = ttl.saturating_sub(1).max(1);
    let body = json!({
        "token_type": "Bearer",
        "expires_in": expires_in.to_string(),
        "ext_expires_in": expires_in.to_string(),
        "expires_on": (now + ttl as i64).to_string(),
        "not_before": now.to_string(),
        "resource": resource,
        "access_token": access_token,
    });
    super::json(StatusCode::OK, &body)
}

fn aad_error(status: StatusCode, error: &str, code: u64, description: &str) -> Response {
    let trace_id = uuid::Uuid::new_v4();
    let correlation_id = uuid::Uuid::new_v4();
    let timestamp = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    let body = json!({
        "error": error,
        "error_description": format!("{description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id.to_string(),
        "correlation_id": correlation_id.to_string(),
    });
    super::json(status, &body)
}
