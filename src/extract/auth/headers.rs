//! Headers a vendor demands on every request beside the token: a subscription or API key, or a
//! fresh id per request (retries included).

use futures_util::future::BoxFuture;
use reqwest::RequestBuilder;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::{Auth, AuthFailure, Http, Token};

/// A header's value on each request.
#[derive(Debug, Clone)]
pub enum HeaderSource {
    /// The same value every time; mark a key sensitive ([`HeaderValue::set_sensitive`]).
    Fixed(HeaderValue),
    /// A new UUID v4 on every request, so that no two requests (retries included) share one.
    FreshUuid,
}

/// Another flow, with headers added to every list request.
#[derive(Debug)]
pub struct WithHeaders<A> {
    pub inner: A,
    pub headers: Vec<(HeaderName, HeaderSource)>,
}

impl<A: Auth> Auth for WithHeaders<A> {
    fn obtain<'a>(&'a self, http: &'a Http<'a>) -> BoxFuture<'a, Result<Token, AuthFailure>> {
        self.inner.obtain(http)
    }

    fn apply(&self, mut request: RequestBuilder, token: &Token) -> RequestBuilder {
        for (name, source) in &self.headers {
            let value = match source {
                HeaderSource::Fixed(value) => Ok(value.clone()),
                HeaderSource::FreshUuid => HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()),
            };
            if let Ok(value) = value {
                request = request.header(name.clone(), value);
            }
        }
        self.inner.apply(request, token)
    }

    fn endpoint(&self) -> Option<&Url> {
        self.inner.endpoint()
    }

    fn renewable(&self) -> bool {
        self.inner.renewable()
    }

    fn is_refusal(&self, status: reqwest::StatusCode) -> bool {
        self.inner.is_refusal(status)
    }
}

/// A fixed header value that logs and debug output never show.
pub fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| "the value holds characters a header cannot carry".to_string())?;
    value.set_sensitive(true);
    Ok(value)
}
