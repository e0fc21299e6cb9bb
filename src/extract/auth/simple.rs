//! Flows with nothing to obtain: no credential at all, HTTP Basic, and an API key sent as a
//! header or a query parameter. Their "token" is a placeholder the engine never renews.

use futures_util::future::BoxFuture;
use reqwest::RequestBuilder;
use reqwest::header::HeaderName;
use url::Url;

use super::{Auth, AuthFailure, Http, Token};
use crate::model::Secret;
use crate::model::secret::remember_form;

/// A placeholder token for a flow that needs none.
fn no_token<'a>() -> BoxFuture<'a, Result<Token, AuthFailure>> {
    Box::pin(std::future::ready(Ok(Token::new(Secret::new(""), None))))
}

/// An API that asks for no credential.
#[derive(Debug, Clone)]
pub struct NoAuth;

impl Auth for NoAuth {
    fn obtain<'a>(&'a self, _http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        no_token()
    }

    fn apply(&self, request: RequestBuilder, _token: &Token) -> RequestBuilder {
        request
    }

    fn endpoint(&self) -> Option<&Url> {
        None
    }

    fn renewable(&self) -> bool {
        false
    }
}

/// `Authorization: Basic base64(username:password)` on every request.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

impl BasicAuth {
    pub fn new(username: String, password: Secret) -> BasicAuth {
        // The header's base64 is a form of the password a server could echo: redact it too.
        use base64::Engine;
        let pair = format!("{username}:{}", password.expose());
        remember_form(&base64::engine::general_purpose::STANDARD.encode(pair));
        BasicAuth { username, password }
    }
}

impl Auth for BasicAuth {
    fn obtain<'a>(&'a self, _http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        no_token()
    }

    fn apply(&self, request: RequestBuilder, _token: &Token) -> RequestBuilder {
        request.basic_auth(&self.username, Some(self.password.expose()))
    }

    fn endpoint(&self) -> Option<&Url> {
        None
    }

    fn renewable(&self) -> bool {
        false
    }
}

/// Where an API key goes.
#[derive(Debug, Clone)]
pub enum KeyPlace {
    Header(HeaderName),
    Query(String),
}

/// An API key on every request, in a header or a query parameter.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub place: KeyPlace,
    pub key: Secret,
}

impl Auth for ApiKey {
    fn obtain<'a>(&'a self, _http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        no_token()
    }

    fn apply(&self, request: RequestBuilder, _token: &Token) -> RequestBuilder {
        match &self.place {
            KeyPlace::Header(name) => match super::sensitive(self.key.expose()) {
                Ok(value) => request.header(name.clone(), value),
                Err(_) => request,
            },
            KeyPlace::Query(name) => request.query(&[(name.as_str(), self.key.expose())]),
        }
    }

    fn endpoint(&self) -> Option<&Url> {
        None
    }

    fn renewable(&self) -> bool {
        false
    }
}
