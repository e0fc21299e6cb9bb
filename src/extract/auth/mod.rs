//! How a source proves who it is: the [`Auth`] trait and the reusable flows vendors pick from.
//!
//! A flow says *what*: how to obtain a credential (one try, through the engine's [`Http`], so every
//! request it sends waits for the source's rate limit and is counted), how to put it on a request,
//! when it expires, and what a refusal looks like. The engine does *how*: it caches the token,
//! renews it a fifth of its lifetime early (at most a minute), retries a try that can be retried,
//! and asks for a fresh one once when a request is refused.
//!
//! The flows: [`StaticToken`]; [`OAuth2`] (client credentials or password grant, the client in the
//! body or in Basic auth, a form or a JSON body, extra parameters such as `resource` or `scope`);
//! [`SessionLogin`] (a form login whose session cookie buys a token); [`NoAuth`], [`BasicAuth`]
//! and [`ApiKey`] (nothing to obtain); and [`WithHeaders`], which adds headers to every request of
//! another flow (a subscription or API key, a fresh id per request).

mod headers;
mod oauth2;
mod session_login;
mod simple;

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use url::Url;

pub use headers::{HeaderSource, WithHeaders, sensitive};
pub use oauth2::{ClientAuth, Grant, OAuth2, TokenBody};
pub use session_login::SessionLogin;
pub use simple::{ApiKey, BasicAuth, KeyPlace, NoAuth};

use super::connector::{error_from_json, excerpt, json_text, untrusted};
use super::session::SendFailure;
use crate::model::Secret;

/// A way to obtain and present a credential; see the module header.
pub trait Auth: Send + Sync + std::fmt::Debug + 'static {
    /// One try at a fresh token; the error says whether another try may help.
    fn obtain<'a>(&'a self, http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>>;

    /// Puts the token (and any header the flow sends with every request) on a list request.
    fn apply(&self, request: RequestBuilder, token: &Token) -> RequestBuilder {
        request.bearer_auth(token.value.expose())
    }

    /// The URL a failure names: the token or login endpoint; `None` for a static token.
    fn endpoint(&self) -> Option<&Url>;

    /// Whether a new token can be had; a static token's refusal is final.
    fn renewable(&self) -> bool {
        true
    }

    /// Whether a list response with this status means the token was refused (then the engine
    /// renews it once).
    fn is_refusal(&self, status: StatusCode) -> bool {
        status == StatusCode::UNAUTHORIZED
    }
}

/// Why one try at a token failed.
#[derive(Debug)]
pub enum AuthFailure {
    /// Another try may help: a transport error, a 429 or 5xx, a garbled body.
    Retry {
        reason: String,
        after: Option<Duration>,
        rate_limited: bool,
    },
    /// The credentials were refused: trying again cannot help. The text says what to check.
    Refused(String),
    /// The endpoint redirected: the URL is wrong.
    Redirected(String),
    /// The answer is larger than the source allows: another try would only download it again.
    TooLarge(String),
}

impl AuthFailure {
    pub fn retry(reason: impl Into<String>) -> Self {
        AuthFailure::Retry {
            reason: reason.into(),
            after: None,
            rate_limited: false,
        }
    }
}

/// A response read in full (up to the source's size cap).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body's share of the source's in-flight budget, given back with the reply (and its
    /// buffer, for a later reply).
    pub(super) _budget: super::session::Reservation,
}

impl Drop for Reply {
    fn drop(&mut self) {
        self._budget.give_back(std::mem::take(&mut self.body));
    }
}

/// The HTTP the engine lends a flow: the source's client, its rate limit and its counters.
pub struct Http<'a> {
    pub(super) session: &'a super::Session,
}

impl Http<'_> {
    /// The source's HTTP client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        self.session.client()
    }

    /// Sends a request when the source's rate limit allows; a transport failure (refused, dropped,
    /// timed out, cut off) is worth another try.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply, AuthFailure> {
        self.session
            .exchange(request)
            .await
            .map_err(|failure| match failure {
                SendFailure::Transport(reason) => AuthFailure::retry(reason),
                SendFailure::TooLarge(detail) => AuthFailure::TooLarge(detail),
            })
    }

    /// Counts a 429 that the flow waits out itself.
    pub fn rate_limited(&self) {
        self.session.progress().rate_limited();
    }

    /// What an unsuccessful token-endpoint reply means: 429, 408 and 5xx may pass; a redirect, 404
    /// or 405 means a wrong URL; anything else (400, 401, 403 …) refuses the credentials. `detail`
    /// is the vendor's message.
    pub fn unsuccessful(&self, reply: &Reply, detail: &str) -> AuthFailure {
        let status = reply.status;
        match status.as_u16() {
            429 | 408 | 500..=599 => AuthFailure::Retry {
                reason: format!("{status} {detail}"),
                after: super::session::retry_after(&reply.headers),
                rate_limited: status == StatusCode::TOO_MANY_REQUESTS,
            },
            300..=399 => AuthFailure::Redirected(
                reply
                    .headers
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .map_or("?".into(), untrusted),
            ),
            404 | 405 => {
                AuthFailure::Refused(format!("{status} {detail}; check the token or login URL"))
            }
            _ => AuthFailure::Refused(format!("{status} {detail}; check the credentials")),
        }
    }
}

/// A token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    /// `None`: no lifetime was given; used until it is refused.
    pub refresh_at: Option<tokio::time::Instant>,
    /// When the flow began asking for it: the vendor cannot have issued it earlier. The engine
    /// sets it; a flow's token starts out with its arrival.
    pub asked_at: tokio::time::Instant,
    /// When it arrived: the vendor cannot have issued it later.
    pub received_at: tokio::time::Instant,
}

impl Token {
    pub fn new(value: Secret, lifetime: Option<Duration>) -> Token {
        let now = tokio::time::Instant::now();
        let refresh_at = lifetime.map(|life| {
            let early = (life / 5).min(Duration::from_secs(60));
            now + life.saturating_sub(early)
        });
        Token {
            value,
            refresh_at,
            asked_at: now,
            received_at: now,
        }
    }

    pub fn is_fresh(&self) -> bool {
        self.refresh_at
            .is_none_or(|at| tokio::time::Instant::now() < at)
    }

    /// The most its age at the vendor can be now (counted from when it was asked for).
    pub fn age_at_most(&self) -> Duration {
        self.asked_at.elapsed()
    }

    /// The least its age at the vendor was at `at` (counted from when it arrived).
    pub fn age_at_least(&self, at: tokio::time::Instant) -> Duration {
        at.saturating_duration_since(self.received_at)
    }
}

/// Where a token response keeps its parts.
#[derive(Debug, Clone, Copy)]
pub struct TokenFields {
    /// The token (`access_token`).
    pub token: &'static str,
    /// Its lifetime in seconds, a number or a numeric string (`expires_in`); `None` when the
    /// response gives none and the token lasts until refused.
    pub expires_in: Option<&'static str>,
    /// An error code in a response that is not a token (`error`).
    pub error: &'static str,
    /// The error's description (`error_description`).
    pub error_description: &'static str,
}

impl TokenFields {
    /// RFC 6749's names.
    pub const OAUTH2: TokenFields = TokenFields {
        token: "access_token",
        expires_in: Some("expires_in"),
        error: "error",
        error_description: "error_description",
    };

    /// Reads a token response.
    pub fn parse(&self, body: &[u8]) -> Result<Token, String> {
        let json: Value = serde_json::from_slice(body)
            .map_err(|_| format!("the token response is not JSON: {}", excerpt(body)))?;
        if let Some(error) = json_text(&json, &[self.error]) {
            return Err(match json_text(&json, &[self.error_description]) {
                Some(d) => format!("{error}: {d}"),
                None => error,
            });
        }
        let value = json
            .get(self.token)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("the token response holds no {}", self.token))?;
        let lifetime = self
            .expires_in
            .and_then(|key| match json.get(key)? {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            })
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.min(1e9)));
        Ok(Token::new(Secret::new(value), lifetime))
    }

    /// Reads a token endpoint's reply: a token, a refusal, or a failure worth another try.
    pub fn read(&self, http: &Http<'_>, reply: Reply) -> Result<Token, AuthFailure> {
        if reply.status.is_success() {
            return self.parse(&reply.body).map_err(|detail| {
                // A 200 that says "error" is a refusal; a garbled 200 may be a proxy hiccup.
                if reply.body.starts_with(b"{") {
                    AuthFailure::Refused(detail)
                } else {
                    AuthFailure::retry(detail)
                }
            });
        }
        let vendor = error_from_json(
            &reply.body,
            &[self.error_description, self.error, "message", "Message"],
            &["correlation_id", "trace_id"],
        );
        Err(http.unsuccessful(&reply, &vendor.to_string()))
    }
}

/// A token given in the pipeline: no endpoint, never renewed.
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

impl Auth for StaticToken {
    fn obtain<'a>(&'a self, _http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        Box::pin(std::future::ready(Ok(Token::new(self.0.clone(), None))))
    }

    fn endpoint(&self) -> Option<&Url> {
        None
    }

    fn renewable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_token_responses_by_their_declared_fields() {
        let aad = br#"{"token_type":"Bearer","expires_in":"3599","access_token":"a"}"#;
        let t = TokenFields::OAUTH2.parse(aad).unwrap();
        assert_eq!(t.value.expose(), "a");
        assert!(t.refresh_at.is_some() && t.is_fresh());
        let pascal = TokenFields {
            token: "AccessToken",
            expires_in: Some("ExpiresIn"),
            error: "Error",
            error_description: "ErrorDescription",
        };
        let body = br#"{"AccessToken":"b","TokenType":"Bearer","ExpiresIn":3600,"Error":null}"#;
        assert_eq!(pascal.parse(body).unwrap().value.expose(), "b");
        assert!(
            pascal
                .parse(br#"{"AccessToken":null,"Error":"invalid_grant"}"#)
                .is_err()
        );
        let no_expiry = TokenFields {
            token: "token",
            expires_in: None,
            ..TokenFields::OAUTH2
        };
        assert!(
            no_expiry
                .parse(br#"{"token":"c","user":{}}"#)
                .unwrap()
                .refresh_at
                .is_none()
        );
        assert!(TokenFields::OAUTH2.parse(b"<html>").is_err());
        assert!(
            TokenFields::OAUTH2
                .parse(br#"{"access_token":""}"#)
                .is_err()
        );
        let refused = TokenFields::OAUTH2
            .parse(br#"{"error":"invalid_client","error_description":"bad secret"}"#)
            .unwrap_err();
        assert_eq!(refused, "invalid_client: bad secret");
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_before_expiry() {
        let t = Token::new(Secret::new("x"), Some(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(7)).await;
        assert!(t.is_fresh());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!t.is_fresh());
    }
}
