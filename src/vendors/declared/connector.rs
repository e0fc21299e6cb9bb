//! The connector a definition describes: its requests, its auth flow (one of the engine's), and
//! its reading of each page's envelope — the total, the pointer to the next page, where paging
//! ends, an application error in a 200.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;
use tracing::warn;
use url::Url;

use super::template::Template;
use super::{Definition, Flow, Paging, TokenFrom};
use crate::extract::auth::{
    ApiKey, Auth, BasicAuth, Grant, KeyPlace, NoAuth, OAuth2, SessionLogin, StaticToken, sensitive,
};
use crate::extract::connector::{
    Connector, Envelope, Next, PageInfo, PageRequest, RecordsAt, VendorError, count_of, endpoint,
    error_from_json, untrusted,
};
use crate::vendors::{Settings, SourceConfig, VendorSpec};

/// Builds the connector of one source.
pub(super) fn connect(
    definition: &Definition,
    spec: &'static VendorSpec,
    source: &SourceConfig<'_>,
) -> Result<Arc<dyn Connector>, String> {
    let settings = source.settings;
    let base = source.base_url;
    let url = endpoint(base, &render(&definition.path, settings, "request.path")?)?;
    let mut query: Vec<(String, String)> = Vec::new();
    for (name, template) in &definition.query {
        // A filter the pipeline sets replaces the definition's fixed value.
        if source.filters.iter().any(|(k, _)| k == name) {
            continue;
        }
        if let Some(value) = template.render(settings) {
            query.push((name.clone(), value));
        }
    }
    query.extend(source.filters.iter().cloned());
    let mut headers = definition.headers.clone();
    headers.extend(definition.auth.headers.iter().cloned());
    Ok(Arc::new(Declared {
        id: spec.id,
        auth: auth(definition, base, settings)?,
        method: definition.method.clone(),
        url,
        base: base.clone(),
        query,
        headers,
        settings: settings.clone(),
        body: definition.body.clone(),
        paging: definition.paging.clone(),
        records: definition.records,
        total: definition.total.clone(),
        page_total: definition.page_total.clone(),
        errors: definition.errors.clone(),
        retry: definition.retry.clone(),
        page_size: u64::from(source.page_size.max(1)),
        pointer_declared: (definition.pointer_at)
            .map(|(line, column)| format!("{}:{line}:{column}", definition.file.display())),
    }))
}

/// A template with the source's values, or the message naming what is not set.
fn render(template: &Template, settings: &Settings, what: &str) -> Result<String, String> {
    template.render(settings).ok_or_else(|| {
        let missing: Vec<&str> = template.keys().filter(|k| !settings.contains(k)).collect();
        format!("{what}: `{}` is not set", missing.join("`, `"))
    })
}

/// A URL a definition or a vendor gives: absolute, or relative to `base`, the API's root — which
/// may have a path of its own (a proxy's, the sandbox's): vendors write their links from their
/// root (`/v1/customers?…`), and a link that already starts with that path keeps it once.
fn url_from(base: &Url, text: &str) -> Result<Url, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        return Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"));
    }
    let prefix = base.path().trim_end_matches('/');
    if !prefix.is_empty() && text.starts_with(&format!("{prefix}/")) {
        return base
            .join(text)
            .map_err(|e| format!("{text:?} is not a URL: {e}"));
    }
    endpoint(base, text)
}

fn auth(definition: &Definition, base: &Url, settings: &Settings) -> Result<Box<dyn Auth>, String> {
    let secret = |key: &str| settings.required_secret(key).cloned();
    let text = |key: &str| settings.required_text(key).map(str::to_string);
    let fields = definition.auth.fields;
    Ok(match &definition.auth.flow {
        Flow::None => Box::new(NoAuth),
        Flow::Bearer => Box::new(StaticToken(secret("auth.token")?)),
        Flow::Basic => Box::new(BasicAuth::new(
            text("auth.username")?,
            secret("auth.password")?,
        )),
        Flow::ApiKeyHeader(name) => Box::new(ApiKey {
            place: KeyPlace::Header(name.clone()),
            key: secret("auth.key")?,
        }),
        Flow::ApiKeyQuery(name) => Box::new(ApiKey {
            place: KeyPlace::Query(name.clone()),
            key: secret("auth.key")?,
        }),
        Flow::OAuth2 {
            password,
            token_url,
            body,
            client_auth,
            params,
        } => {
            let token_url = match settings.url("auth.token_url") {
                Some(url) => url.clone(),
                None => url_from(base, &render(token_url, settings, "auth.token_url")?)?,
            };
            let grant = match password {
                true => Grant::Password {
                    username: text("auth.username")?,
                    password: secret("auth.password")?,
                },
                false => Grant::ClientCredentials,
            };
            Box::new(OAuth2 {
                token_url,
                client_id: text("auth.client_id")?,
                client_secret: secret("auth.client_secret")?,
                client_auth: *client_auth,
                body: *body,
                grant,
                // A parameter whose placeholder is not set is left out (an optional `scope`).
                params: (params.iter())
                    .filter_map(|(name, t)| Some((*name, t.render(settings)?)))
                    .collect(),
                fields,
            })
        }
        Flow::Session {
            login_url,
            token_url,
            username_field,
            password_field,
            form,
            cookie,
        } => Box::new(SessionLogin {
            login_url: url_from(base, &render(login_url, settings, "auth.login_url")?)?,
            username_field,
            password_field,
            username: text("auth.username")?,
            password: secret("auth.password")?,
            form: form.clone(),
            cookie,
            token_url: url_from(base, &render(token_url, settings, "auth.token_url")?)?,
            fields,
        }),
    })
}

struct Declared {
    id: &'static str,
    auth: Box<dyn Auth>,
    method: reqwest::Method,
    url: Url,
    base: Url,
    query: Vec<(String, String)>,
    /// The definition's request and auth headers, rendered on every attempt (`{uuid}` fresh).
    headers: Vec<(HeaderName, Template)>,
    settings: Settings,
    body: Option<Value>,
    paging: Paging,
    records: RecordsAt,
    total: Option<Vec<String>>,
    page_total: Option<Vec<String>>,
    errors: super::ErrorPlan,
    retry: Option<Vec<u16>>,
    page_size: u64,
    /// `file:line:column` of the paging's pointer path in the definition.
    pointer_declared: Option<String>,
}

impl Connector for Declared {
    fn auth(&self) -> &dyn Auth {
        &*self.auth
    }

    fn headers(&self, headers: &mut HeaderMap) {
        for (name, template) in &self.headers {
            if let Some(value) = template.render(&self.settings)
                && let Ok(value) = sensitive(&value)
            {
                headers.insert(name.clone(), value);
            }
        }
    }

    fn sequential(&self) -> bool {
        matches!(
            self.paging,
            Paging::Cursor { .. } | Paging::NextLink { .. } | Paging::Continuation { .. }
        )
    }

    fn page_request(&self, index: u64, after: Option<&Next>) -> PageRequest {
        let size = self.page_size.to_string();
        let mut url = self.url.clone();
        let mut query = self.query.clone();
        let mut headers = Vec::new();
        let mut push = |name: &Option<String>| {
            if let Some(name) = name {
                query.push((name.clone(), size.clone()));
            }
        };
        match &self.paging {
            Paging::None => {}
            Paging::Offset {
                offset_param,
                limit_param,
                ..
            } => {
                query.push((offset_param.clone(), (index * self.page_size).to_string()));
                query.push((limit_param.clone(), size.clone()));
            }
            Paging::PageNumber {
                page_param,
                size_param,
                first,
                ..
            } => {
                query.push((page_param.clone(), (first + index).to_string()));
                query.push((size_param.clone(), size.clone()));
            }
            Paging::Cursor {
                cursor_param,
                size_param,
                ..
            } => {
                push(size_param);
                if let Some(token) = after.and_then(|a| a.token.clone()) {
                    query.push((cursor_param.clone(), token));
                }
            }
            Paging::NextLink { size_param, .. } | Paging::Continuation { size_param, .. } => {
                match after.and_then(|a| a.link.as_deref()).map(|l| self.link(l)) {
                    // The link carries the query the next page needs.
                    Some(Ok(link)) => {
                        url = link;
                        query.clear();
                    }
                    // A link elsewhere is refused where the page is read; ask the first again.
                    Some(Err(_)) | None => push(size_param),
                }
                if let (Paging::Continuation { send_header, .. }, Some(token)) =
                    (&self.paging, after.and_then(|a| a.token.as_deref()))
                    && let Ok(value) = sensitive(token)
                {
                    headers.push((send_header.clone(), value));
                }
            }
        }
        PageRequest {
            method: self.method.clone(),
            url,
            query,
            json: self.body.clone(),
            headers,
        }
    }

    fn records_at(&self) -> RecordsAt {
        self.records
    }

    fn read_page(&self, index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        self.application_error(&page.fields)?;
        let records = page.records()?;
        let total = (self.total.as_ref())
            .and_then(|path| lookup(&page.fields, path))
            .and_then(count_of);
        let in_page = (self.page_total.as_ref())
            .and_then(|path| lookup(&page.fields, path))
            .and_then(count_of);
        let next = self.next(page)?;
        if index == 0 && next.is_none() {
            self.pointer_is_present(page, records, total)?;
        }
        let ends = match &self.paging {
            Paging::None => {
                return Ok(PageInfo {
                    total,
                    in_page,
                    last: true,
                    next: None,
                });
            }
            Paging::Offset { ends, .. }
            | Paging::PageNumber { ends, .. }
            | Paging::Cursor { ends, .. }
            | Paging::NextLink { ends, .. }
            | Paging::Continuation { ends, .. } => ends,
        };
        let has_more = (ends.has_more.as_ref())
            .and_then(|path| lookup(&page.fields, path))
            .and_then(|v| match v {
                Value::Bool(b) => Some(*b),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
        let total_pages = (ends.total_pages.as_ref())
            .and_then(|path| lookup(&page.fields, path))
            .and_then(count_of);
        let counted = match &self.paging {
            // An offset or a page number: the total, else a short page, says the end.
            Paging::Offset { .. } | Paging::PageNumber { .. } => match total {
                Some(total) => (index + 1) * self.page_size >= total,
                None => has_more.is_none() && total_pages.is_none() && records < self.page_size,
            },
            // A cursor, a link, a token: its absence says the end.
            _ => next.is_none(),
        };
        let last = records == 0
            || has_more == Some(false)
            || total_pages.is_some_and(|pages| index + 1 >= pages)
            || (counted && has_more != Some(true));
        Ok(PageInfo {
            total,
            in_page,
            last,
            next,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        error_from_json(body, &self.errors.message, &self.errors.correlation)
    }

    fn retries(&self, status: u16) -> bool {
        match &self.retry {
            Some(list) => list.contains(&status),
            None => matches!(status, 408 | 500..=599),
        }
    }
}

impl Declared {
    /// A link the vendor gave, on the source's own host: a link elsewhere would take the
    /// source's credentials with it.
    fn link(&self, text: &str) -> Result<Url, String> {
        let url = url_from(&self.base, text)?;
        if url.origin() != self.base.origin() {
            return Err(format!(
                "{}: the next-page link {} leads away from {}; the credentials stay with the source's host",
                self.id,
                untrusted(text),
                self.base.origin().ascii_serialization()
            ));
        }
        Ok(url)
    }

    /// The pointer to the next page the envelope (or the headers) give.
    fn next(&self, page: &Envelope) -> Result<Option<Next>, VendorError> {
        let from_body = |path: &[String]| lookup(&page.fields, path).and_then(text);
        let next = match &self.paging {
            Paging::Cursor { cursor_path, .. } => from_body(cursor_path).map(|token| Next {
                link: None,
                token: Some(token),
            }),
            Paging::NextLink { from, .. } => token(page, from, &from_body).map(Next::link),
            Paging::Continuation {
                from, link_path, ..
            } => token(page, from, &from_body).map(|token| Next {
                link: link_path.as_deref().and_then(from_body),
                token: Some(token),
            }),
            _ => None,
        };
        if let Some(link) = next.as_ref().and_then(|n| n.link.as_deref()) {
            self.link(link).map_err(|e| VendorError::new(e).fatal())?;
        }
        Ok(next)
    }

    /// A first page that says more follow — the API's total is larger — must hold the pointer to
    /// the next one: a pointer path the responses lack would end every run after one page, a
    /// silent loss, so it fails naming where the definition declares it. A full first page
    /// without it is only a warning: it may be the whole list.
    fn pointer_is_present(
        &self,
        page: &Envelope,
        records: u64,
        total: Option<u64>,
    ) -> Result<(), VendorError> {
        let (path, size_param) = match &self.paging {
            Paging::Cursor {
                cursor_path,
                size_param,
                ..
            } => (cursor_path, size_param),
            Paging::NextLink {
                from: TokenFrom::Body(path),
                size_param,
                ..
            }
            | Paging::Continuation {
                from: TokenFrom::Body(path),
                size_param,
                ..
            } => (path, size_param),
            _ => return Ok(()),
        };
        if records == 0 || lookup(&page.fields, path).is_some() {
            return Ok(());
        }
        let at = self.pointer_declared.as_deref().unwrap_or("the definition");
        let path = path.join(".");
        let found = paths_of(&page.fields).join(", ");
        match total {
            Some(total) if total > records => Err(VendorError::new(format!(
                "{at}: paging: `{path}` is not in the first page, yet more follow (the API reports {total} records and the page holds {records}): the paging would stop here. The page has: {found}"
            ))
            .fatal()),
            // A full page may be the last one as well (a list of exactly one page): a warning.
            None if size_param.is_some() && records >= self.page_size => {
                warn!(
                    "{at}: paging: `{path}` is not in the first page, which is full ({records} records): if the API has more, the path is wrong and the paging stops here. The page has: {found}"
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The vendor's failure inside an HTTP 200, when the envelope says one.
    fn application_error(&self, fields: &Value) -> Result<(), VendorError> {
        let Some(plan) = &self.errors.in_200 else {
            return Ok(());
        };
        let failed = lookup(fields, &plan.path).and_then(text) == Some(plan.failure.clone());
        if !failed {
            return Ok(());
        }
        let at = |path: &Option<Vec<String>>| {
            path.as_deref()
                .and_then(|p| lookup(fields, p))
                .and_then(text)
        };
        let message = at(&plan.message).unwrap_or_else(|| "the vendor reports a failure".into());
        Err(VendorError::new(message)
            .with_correlation(at(&plan.correlation))
            .fatal())
    }
}

/// The token or link at `from`: a body path, a response header, or the `Link` header's next.
fn token(
    page: &Envelope,
    from: &TokenFrom,
    from_body: &dyn Fn(&[String]) -> Option<String>,
) -> Option<String> {
    match from {
        TokenFrom::Body(path) => from_body(path),
        TokenFrom::Header(name) => (page.headers.get(name.as_str()))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|v| !v.is_empty()),
        TokenFrom::LinkHeader => page
            .headers
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_in_link_header),
    }
}

/// The `rel="next"` target of a `Link` header (RFC 8288): `<url>; rel="next", <url>; rel="last"`.
fn next_in_link_header(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        next.then(|| target.to_string())
    })
}

/// The value at a dotted path; a number steps into a list (`links.next.headers.0.value`).
fn lookup<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for key in path {
        value = match value {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// The paths of an envelope's scalars and lists, to a depth of four, at most 20.
fn paths_of(value: &Value) -> Vec<String> {
    fn walk(value: &Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
        let Value::Object(map) = value else {
            out.push(prefix.to_string());
            return;
        };
        for (key, inner) in map {
            let path = match prefix {
                "" => key.clone(),
                _ => format!("{prefix}.{key}"),
            };
            match depth {
                0 => out.push(path),
                _ => walk(inner, &path, depth - 1, out),
            }
        }
    }
    let mut out = Vec::new();
    walk(value, "", 3, &mut out);
    out.truncate(20);
    out.into_iter().map(|p| untrusted(&p)).collect()
}

/// A value as a token or link: text or a number; `null` and `""` are none.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(untrusted(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_headers_next_is_found() {
        let header =
            r#"<https://api.x.com/c?page=2>; rel="next", <https://api.x.com/c?page=9>; rel="last""#;
        assert_eq!(
            next_in_link_header(header).as_deref(),
            Some("https://api.x.com/c?page=2")
        );
        assert_eq!(next_in_link_header(r#"<https://a/1>; rel="prev""#), None);
    }

    #[test]
    fn links_are_read_from_the_apis_root() {
        let base = Url::parse("http://127.0.0.1:9/partner-center").unwrap();
        let from_root = url_from(&base, "/v1/customers?size=5&seekOperation=Next").unwrap();
        assert_eq!(
            from_root.as_str(),
            "http://127.0.0.1:9/partner-center/v1/customers?size=5&seekOperation=Next"
        );
        let with_prefix = url_from(&base, "/partner-center/v1/customers?x=1").unwrap();
        assert_eq!(with_prefix.path(), "/partner-center/v1/customers");
        let plain = Url::parse("https://api.example.com").unwrap();
        assert_eq!(
            url_from(&plain, "/v1/c?p=2").unwrap().as_str(),
            "https://api.example.com/v1/c?p=2"
        );
    }

    #[test]
    fn paths_step_into_objects_and_lists() {
        let v = serde_json::json!({"links": {"next": {"headers": [{"key": "k", "value": "t"}]}}});
        let path: Vec<String> = "links.next.headers.0.value"
            .split('.')
            .map(String::from)
            .collect();
        assert_eq!(lookup(&v, &path).and_then(text).as_deref(), Some("t"));
    }
}
