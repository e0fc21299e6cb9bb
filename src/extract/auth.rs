//! Credentials → bearer tokens, for each vendor's real flow.
//!
//! A token is cached and refreshed shortly before it expires (a fifth of its lifetime early, at
//! most a minute); the engine asks for a fresh one once when a request answers 401.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::connector::{excerpt, json_text};
use crate::secret::Secret;

/// How a source obtains its bearer token.
#[derive(Debug, Clone)]
pub enum AuthFlow {
    /// A token given in the pipeline (C3, Valomnia).
    Static(Secret),
    /// OAuth2 client credentials as a form (Azure AD v1 for C3, AppXite, Adobe IMS).
    /// `extra` holds `resource` / `scope`.
    ClientCredentials {
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        extra: Vec<(&'static str, String)>,
    },
    /// OAuth2 password grant with the client in Basic auth (Crayon).
    PasswordGrant {
        token_url: Url,
        client_id: String,
        client_secret: Secret,
        username: String,
        password: Secret,
        scope: String,
    },
    /// Spring Security form login → `JSESSIONID` cookie → a JSON page holding the token (Valomnia).
    SessionLogin {
        login_url: Url,
        token_url: Url,
        username: String,
        password: Secret,
    },
}

impl AuthFlow {
    /// The URL a failure should name.
    pub fn endpoint(&self) -> Option<&Url> {
        match self {
            AuthFlow::Static(_) => None,
            AuthFlow::ClientCredentials { token_url, .. }
            | AuthFlow::PasswordGrant { token_url, .. } => Some(token_url),
            AuthFlow::SessionLogin { login_url, .. } => Some(login_url),
        }
    }
}

/// A token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    /// `None`: no lifetime was given; used until a 401.
    pub refresh_at: Option<tokio::time::Instant>,
}

impl Token {
    pub fn new(value: Secret, lifetime: Option<Duration>) -> Token {
        let now = tokio::time::Instant::now();
        let refresh_at = lifetime.map(|life| {
            let early = (life / 5).min(Duration::from_secs(60));
            now + life.saturating_sub(early)
        });
        Token { value, refresh_at }
    }

    pub fn is_fresh(&self) -> bool {
        self.refresh_at
            .is_none_or(|at| tokio::time::Instant::now() < at)
    }
}

/// Reads a token response in any of the shapes the vendors use: `access_token` (Azure AD, IMS,
/// AppXite), `AccessToken` (Crayon, PascalCase), `token` (Valomnia); `expires_in` as a number or,
/// as Azure AD v1 sends it, a string.
pub fn parse_token(body: &[u8]) -> Result<Token, String> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|_| format!("the token response is not JSON: {}", excerpt(body)))?;
    if let Some(error) = json_text(&json, &["Error", "error"]) {
        let detail = json_text(&json, &["error_description", "ErrorDescription"]);
        return Err(match detail {
            Some(d) => format!("{error}: {d}"),
            None => error,
        });
    }
    let value = ["access_token", "AccessToken", "token"]
        .iter()
        .find_map(|k| json.get(*k)?.as_str())
        .filter(|t| !t.is_empty())
        .ok_or("the token response holds no access_token")?;
    let lifetime = ["expires_in", "ExpiresIn"]
        .iter()
        .find_map(|k| match json.get(*k)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        });
    let lifetime = lifetime
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)));
    Ok(Token::new(Secret::new(value), lifetime))
}

/// The `JSESSIONID` value among `Set-Cookie` headers.
pub fn session_cookie<'a>(set_cookies: impl Iterator<Item = &'a str>) -> Option<String> {
    set_cookies
        .filter_map(|c| c.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("JSESSIONID"))
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_vendor_token_shape() {
        let aad = br#"{"token_type":"Bearer","expires_in":"3599","access_token":"a"}"#;
        let t = parse_token(aad).unwrap();
        assert_eq!(t.value.expose(), "a");
        assert!(t.refresh_at.is_some() && t.is_fresh());
        let crayon = br#"{"AccessToken":"b","TokenType":"Bearer","ExpiresIn":3600,"Error":null}"#;
        assert_eq!(parse_token(crayon).unwrap().value.expose(), "b");
        let valomnia = br#"{"token":"c","user":{}}"#;
        assert!(parse_token(valomnia).unwrap().refresh_at.is_none());
        assert!(parse_token(br#"{"AccessToken":null,"Error":"invalid_grant"}"#).is_err());
        assert!(parse_token(b"<html>").is_err());
        assert!(parse_token(br#"{"access_token":""}"#).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_before_expiry() {
        let t = Token::new(Secret::new("x"), Some(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(7)).await;
        assert!(t.is_fresh());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!t.is_fresh());
    }

    #[test]
    fn finds_the_session_cookie() {
        let cookies = ["other=1; Path=/", "JSESSIONID=abc123; Path=/; HttpOnly"];
        assert_eq!(
            session_cookie(cookies.into_iter()).as_deref(),
            Some("abc123")
        );
    }
}
