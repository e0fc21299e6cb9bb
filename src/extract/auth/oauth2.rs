//! OAuth2 token requests (RFC 6749 §4.3 and §4.4): a POST to the token endpoint, a form as the RFC
//! says or a JSON object as some providers want.

use futures_util::future::BoxFuture;
use url::Url;

use super::{Auth, AuthFailure, Http, Token, TokenFields};
use base64::Engine;

use crate::model::Secret;
use crate::model::secret::remember_form;

/// The grant a token request makes.
#[derive(Debug, Clone)]
pub enum Grant {
    /// `grant_type=client_credentials`: the client acts for itself.
    ClientCredentials,
    /// `grant_type=password`: the client acts for a user.
    Password { username: String, password: Secret },
}

/// Where the client's own credentials go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form.
    Form,
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
}

/// How the token request's fields are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded`, as RFC 6749 says.
    Form,
    /// A JSON object (Pax8, Auth0).
    Json,
}

/// An OAuth2 token endpoint.
#[derive(Debug, Clone)]
pub struct OAuth2 {
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub client_auth: ClientAuth,
    pub body: TokenBody,
    pub grant: Grant,
    /// Further form fields: `scope`, `resource`, `audience` …
    pub params: Vec<(&'static str, String)>,
    pub fields: TokenFields,
}

impl OAuth2 {
    /// Client credentials with the client in the form and the standard response fields.
    pub fn client_credentials(token_url: Url, client_id: String, client_secret: Secret) -> Self {
        OAuth2 {
            token_url,
            client_id,
            client_secret,
            client_auth: ClientAuth::Form,
            body: TokenBody::Form,
            grant: Grant::ClientCredentials,
            params: Vec::new(),
            fields: TokenFields::OAUTH2,
        }
    }

    /// Adds a form field when it has a value.
    pub fn param(mut self, name: &'static str, value: Option<&str>) -> Self {
        if let Some(value) = value {
            self.params.push((name, value.to_string()));
        }
        self
    }

    fn request(&self, http: &Http<'_>) -> reqwest::RequestBuilder {
        let mut form: Vec<(&str, &str)> = Vec::with_capacity(5 + self.params.len());
        match &self.grant {
            Grant::ClientCredentials => form.push(("grant_type", "client_credentials")),
            Grant::Password { username, password } => {
                form.push(("grant_type", "password"));
                form.push(("username", username));
                form.push(("password", password.expose()));
            }
        }
        if self.client_auth == ClientAuth::Form {
            form.push(("client_id", &self.client_id));
            form.push(("client_secret", self.client_secret.expose()));
        }
        form.extend(self.params.iter().map(|(k, v)| (*k, v.as_str())));
        let request = http.client().post(self.token_url.clone());
        let request = match self.client_auth {
            ClientAuth::Basic => {
                // The header's base64 is a form of the secret a server could echo: redact it too.
                let basic = format!("{}:{}", self.client_id, self.client_secret.expose());
                remember_form(&base64::engine::general_purpose::STANDARD.encode(basic));
                request.basic_auth(&self.client_id, Some(self.client_secret.expose()))
            }
            ClientAuth::Form => request,
        };
        match self.body {
            TokenBody::Form => request.form(&form),
            TokenBody::Json => {
                let object: serde_json::Map<String, serde_json::Value> = (form.iter())
                    .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                    .collect();
                request.json(&object)
            }
        }
    }
}

impl Auth for OAuth2 {
    fn obtain<'a>(&'a self, http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        Box::pin(async move {
            let reply = http.send(self.request(http)).await?;
            self.fields.read(http, reply)
        })
    }

    fn endpoint(&self) -> Option<&Url> {
        Some(&self.token_url)
    }
}
