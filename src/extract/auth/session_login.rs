//! A form login that opens a server-side session, then a request in that session whose JSON
//! holds the bearer token (Spring Security's `j_spring_security_check` and its kin).

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::StatusCode;
use url::Url;

use super::{Auth, AuthFailure, Http, Token, TokenFields};
use crate::extract::connector::excerpt;
use crate::model::Secret;

/// Form login → session cookie → a JSON page with the token.
#[derive(Debug, Clone)]
pub struct SessionLogin {
    pub login_url: Url,
    /// The form's field names for the user name and the password.
    pub username_field: &'static str,
    pub password_field: &'static str,
    pub username: String,
    pub password: Secret,
    /// Further fixed form fields.
    pub form: Vec<(&'static str, &'static str)>,
    /// The name of the session cookie the login sets.
    pub cookie: &'static str,
    /// Asked with the session cookie; answers the token.
    pub token_url: Url,
    pub fields: TokenFields,
}

/// How often the token step is asked again when it alone is throttled.
const TOKEN_STEP_TRIES: usize = 4;

impl SessionLogin {
    async fn login(&self, http: &Http<'_>) -> Result<String, AuthFailure> {
        let mut form = vec![
            (self.username_field, self.username.as_str()),
            (self.password_field, self.password.expose()),
        ];
        form.extend(self.form.iter().copied());
        let reply = http
            .send(http.client().post(self.login_url.clone()).form(&form))
            .await?;
        let cookies = reply
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        match cookie_value(cookies, self.cookie) {
            Some(session) => Ok(session),
            None => Err(match reply.status.as_u16() {
                429 | 500..=599 => http.unsuccessful(&reply, &excerpt(&reply.body)),
                _ => AuthFailure::Refused(format!(
                    "{} without a session cookie: {}; check username and password",
                    reply.status,
                    excerpt(&reply.body)
                )),
            }),
        }
    }
}

impl Auth for SessionLogin {
    fn obtain<'a>(&'a self, http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        Box::pin(async move {
            let session = self.login(http).await?;
            let token_step = || {
                http.client()
                    .get(self.token_url.clone())
                    .header(
                        reqwest::header::COOKIE,
                        format!("{}={session}", self.cookie),
                    )
                    .header(reqwest::header::ACCEPT, "application/json")
            };
            // The two steps go out back to back: restarting the login after a throttled second
            // step would be throttled again every time, so the second step waits and asks again.
            let mut reply = http.send(token_step()).await?;
            for _ in 1..TOKEN_STEP_TRIES {
                if reply.status != StatusCode::TOO_MANY_REQUESTS {
                    break;
                }
                http.rate_limited();
                let wait = crate::extract::session::retry_after(&reply.headers)
                    .unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(wait).await;
                reply = http.send(token_step()).await?;
            }
            self.fields.read(http, reply)
        })
    }

    fn endpoint(&self) -> Option<&Url> {
        Some(&self.login_url)
    }
}

/// The value of cookie `name` among `Set-Cookie` headers.
pub fn cookie_value<'a>(set_cookies: impl Iterator<Item = &'a str>, name: &str) -> Option<String> {
    set_cookies
        .filter_map(|c| c.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie() {
        let cookies = ["other=1; Path=/", "SESSION=abc123; Path=/; HttpOnly"];
        assert_eq!(
            cookie_value(cookies.into_iter(), "SESSION").as_deref(),
            Some("abc123")
        );
        assert_eq!(cookie_value(cookies.into_iter(), "NONE"), None);
    }
}
