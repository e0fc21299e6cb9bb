//! A raw definition checked into what runs: the [`Definition`] the connector follows and the
//! [`VendorSpec`] that `validate`, `vendors` and the transform read, as for a built-in vendor.
//! Every problem is collected with its location, as for a pipeline file.

use std::path::PathBuf;

use reqwest::Method;
use reqwest::header::HeaderName;
use serde_saphyr::{Location, Spanned};

use super::raw::{
    OneOrMany, Pairs, RawAuth, RawDefinition, RawFrom, RawKey, RawPaging, RawRequest, Text,
};
use super::template::Template;
use super::{AuthPlan, Definition, EndPaths, ErrorPlan, Paging, Problem, TokenFrom};
use crate::extract::RecordsAt;
use crate::extract::auth::{ClientAuth, TokenBody, TokenFields};
use crate::model::ColumnType;
use crate::model::record::{ArraySpec, Canonical, Field, From, RecordSpec, Status};
use crate::vendors::spec::{AuthMode, FilterKind, FilterSpec, Key, KeyKind, PageSize, VendorSpec};

/// The paging kinds, for messages.
const PAGING: &str = "none, offset, page_number, cursor, next_link, continuation";
/// The auth kinds, for messages.
const AUTH: &str =
    "none, bearer, api_key, basic, oauth2_client_credentials, oauth2_password, session_login";
/// The field types, for messages.
const TYPES: &str = "string, int, float, bool, timestamp, date";

/// Makes a `&'static str` of a definition's text: a definition is read once and lives as long
/// as the process, like a built-in vendor's tables.
pub(super) fn leak(text: &str) -> &'static str {
    Box::leak(text.to_string().into_boxed_str())
}

fn leak_slice<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

/// Collects problems.
pub(super) struct Check {
    pub(super) problems: Vec<Problem>,
}

impl Check {
    fn at(&mut self, location: &Location, message: impl Into<String>) {
        self.problems.push(Problem {
            line: location.line(),
            column: location.column(),
            message: message.into(),
        });
    }

    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.at(&at.referenced, message);
    }

    /// A required value of a kind that has it.
    fn required<'a>(
        &mut self,
        value: &'a Option<Text>,
        at: &Location,
        key: &str,
        kind: &str,
    ) -> Option<&'a Text> {
        if value.is_none() {
            self.at(at, format!("{key}: required for {kind}"));
        }
        value.as_ref()
    }

    /// A template whose placeholders name declared keys (and `{uuid}` only where allowed).
    fn template(&mut self, text: &Text, key: &str, keys: &[&str], uuid: bool) -> Option<Template> {
        let template = match Template::parse(&text.value) {
            Ok(t) => t,
            Err(message) => {
                self.error(text, format!("{key}: {message}"));
                return None;
            }
        };
        if template.has_uuid() && !uuid {
            self.error(
                text,
                format!("{key}: {{uuid}} is only for headers (a fresh id on every request)"),
            );
        }
        for name in template.keys() {
            if !keys.contains(&name) {
                self.error(
                    text,
                    format!(
                        "{key}: the placeholder {{{name}}} names no setting; declare it under `settings:` (or `auth.keys:` for {{auth.{name}}}); declared here: {}",
                        if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
                    ),
                );
            }
        }
        Some(template)
    }

    fn word<'a>(
        &mut self,
        value: &'a Option<Text>,
        key: &str,
        allowed: &[&'a str],
    ) -> Option<&'a str> {
        let text = value.as_ref()?;
        match allowed.iter().find(|a| **a == text.value) {
            Some(a) => Some(a),
            None => {
                self.error(
                    text,
                    format!(
                        "{key}: {:?} is not allowed; allowed: {}",
                        text.value,
                        allowed.join(", ")
                    ),
                );
                None
            }
        }
    }
}

/// Checks `raw`; every problem found, or the definition and its spec.
pub(super) fn check(raw: &RawDefinition) -> Result<(Definition, VendorSpec), Vec<Problem>> {
    let mut c = Check {
        problems: Vec::new(),
    };
    let id = raw.vendor.value.trim();
    if id.is_empty()
        || !id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
    {
        c.error(
            &raw.vendor,
            "vendor: an id of letters, digits, `_` and `-` (it names files and the `vendor` column)",
        );
    }
    let settings = keys(&mut c, &raw.settings, "settings");
    let auth_extra = keys(&mut c, &raw.auth.value.keys, "auth.keys");
    let auth = auth(&mut c, &raw.auth, &settings, &auth_extra);
    let definition = definition(&mut c, raw, &settings, auth.as_ref());
    let record = record(&mut c, raw);
    let paging = definition.as_ref().map(|d| &d.paging);
    let max = (raw.paging.value.max_size.as_ref()).map_or(1000, |m| m.value.max(1));
    let page_size = match paging {
        Some(Paging::None) | None => PageSize { default: 0, max: 0 },
        Some(_) => PageSize {
            default: raw
                .page_size
                .as_ref()
                .map_or(max, |p| p.value.clamp(1, max)),
            max,
        },
    };
    let filters = filters(&mut c, raw);
    if let Some(rate) = &raw.rate_limit
        && rate.value.parse::<crate::extract::RateLimit>().is_err()
    {
        let help = crate::extract::rate::RATE_LIMIT_HELP;
        c.error(
            rate,
            format!(
                "rate_limit: {:?} does not parse; expected {help}",
                rate.value
            ),
        );
    }
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    let (Some(definition), Some(auth), Some(record)) = (definition, auth, record) else {
        return Err(c.problems);
    };
    let method = definition.method.as_str().to_string();
    let spec = VendorSpec {
        id: leak(id),
        title: leak(raw.title.as_ref().map_or(id, |t| t.value.as_str())),
        endpoint: leak(&format!(
            "{method} {{base_url}}{}",
            raw.request.value.path.value
        )),
        default_base_url: raw.base_url.as_ref().map(|b| leak(&b.value)),
        settings: leak_slice(settings),
        auth_keys: leak_slice(auth.keys),
        auth_modes: leak_slice(vec![auth.mode]),
        filters: leak_slice(filters),
        page_size,
        record,
    };
    Ok((definition, spec))
}

/// A key table (`settings:`, `auth.keys:`).
fn keys(c: &mut Check, pairs: &Pairs<RawKey>, what: &str) -> Vec<Key> {
    let mut out = Vec::new();
    for (name, key) in &pairs.0 {
        let kind = match key.value.kind.as_ref().map(|k| k.value.as_str()) {
            None | Some("text") => KeyKind::Text,
            Some("secret") => KeyKind::Secret,
            Some("url") => KeyKind::Url,
            Some(other) => {
                let at = key
                    .value
                    .kind
                    .as_ref()
                    .map_or(&name.referenced, |k| &k.referenced);
                c.at(
                    at,
                    format!(
                        "{what}.{}.kind: {other:?} is not allowed; allowed: text, secret, url",
                        name.value
                    ),
                );
                KeyKind::Text
            }
        };
        out.push(Key {
            name: leak(&name.value),
            kind,
            required: key.value.required,
            help: leak(&key.value.help),
        });
    }
    out
}

/// The `auth:` keys a kind takes and the mode they form.
pub(super) struct AuthKeys {
    keys: Vec<Key>,
    mode: AuthMode,
    plan: AuthPlan,
}

fn auth(
    c: &mut Check,
    raw: &Spanned<RawAuth>,
    settings: &[Key],
    extra: &[Key],
) -> Option<AuthKeys> {
    let a = &raw.value;
    let kind = a.kind.value.as_str();
    let (required, optional): (&[&str], &[&str]) = match kind {
        "none" => (&[], &[]),
        "bearer" => (&["token"], &[]),
        "api_key" => (&["key"], &[]),
        "basic" | "session_login" => (&["username", "password"], &[]),
        "oauth2_client_credentials" => (&["client_id", "client_secret"], &["scope", "token_url"]),
        "oauth2_password" => (
            &["client_id", "client_secret", "username", "password"],
            &["scope", "token_url"],
        ),
        other => {
            c.error(
                &a.kind,
                format!("auth.type: {other:?} is not allowed; allowed: {AUTH}"),
            );
            return None;
        }
    };
    let secret = |name: &str| matches!(name, "token" | "key" | "password" | "client_secret");
    let mut keys: Vec<Key> = (required.iter().chain(optional))
        .map(|name| Key {
            name,
            kind: match *name {
                "token_url" => KeyKind::Url,
                n if secret(n) => KeyKind::Secret,
                _ => KeyKind::Text,
            },
            required: false,
            help: "",
        })
        .collect();
    let mut required: Vec<&'static str> = required.to_vec();
    let mut optional: Vec<&'static str> = optional.to_vec();
    for k in extra {
        if keys.iter().any(|have| have.name == k.name) {
            c.error(
                raw,
                format!("auth.keys.{}: already an `auth:` key of {kind}", k.name),
            );
            continue;
        }
        if k.required {
            required.push(k.name);
        } else {
            optional.push(k.name);
        }
        keys.push(Key {
            required: false,
            ..*k
        });
    }
    // What placeholders may name: the settings and the `auth:` keys.
    let mut names: Vec<&str> = settings.iter().map(|k| k.name).collect();
    let auth_names: Vec<String> = keys.iter().map(|k| format!("auth.{}", k.name)).collect();
    names.extend(auth_names.iter().map(String::as_str));
    let plan = auth_plan(c, raw, kind, &names)?;
    let mode = AuthMode {
        name: leak(&kind.replace('_', " ")),
        required: leak_slice(required),
        optional: leak_slice(optional),
    };
    Some(AuthKeys { keys, mode, plan })
}

/// The flow an `auth:` block describes, with its templates checked against `names`.
fn auth_plan(
    c: &mut Check,
    raw: &Spanned<RawAuth>,
    kind: &str,
    names: &[&str],
) -> Option<AuthPlan> {
    let a = &raw.value;
    let headers = header_templates(c, &a.headers, "auth.headers", names);
    let flow = match kind {
        "none" => super::Flow::None,
        "bearer" => super::Flow::Bearer,
        "basic" => super::Flow::Basic,
        "api_key" => api_key_flow(c, raw)?,
        "session_login" => session_flow(c, raw, names)?,
        _ => oauth2_flow(c, raw, kind, names)?,
    };
    Some(AuthPlan {
        flow,
        headers,
        fields: token_fields(a),
    })
}

/// Header templates (`{uuid}` allowed) with their names checked; `what` prefixes the messages.
fn header_templates(
    c: &mut Check,
    pairs: &Pairs<String>,
    what: &str,
    names: &[&str],
) -> Vec<(HeaderName, Template)> {
    let mut headers = Vec::new();
    for (name, value) in &pairs.0 {
        let text = Spanned::new(value.value.clone(), value.referenced, value.defined);
        let template = c.template(&text, &format!("{what}.{}", name.value), names, true);
        match (HeaderName::from_bytes(name.value.as_bytes()), template) {
            (Ok(h), Some(t)) => headers.push((h, t)),
            (Err(_), _) => c.error(
                name,
                format!("{what}: {:?} is not a header name", name.value),
            ),
            _ => {}
        }
    }
    headers
}

/// Where a token response keeps the token, its lifetime and its error.
fn token_fields(a: &RawAuth) -> TokenFields {
    let or =
        |field: &Option<Text>, default: &str| leak(field.as_ref().map_or(default, |t| &t.value));
    TokenFields {
        token: or(&a.token_field, "access_token"),
        expires_in: Some(or(&a.expires_in_field, "expires_in")),
        error: or(&a.error_field, "error"),
        error_description: or(&a.error_description_field, "error_description"),
    }
}

fn api_key_flow(c: &mut Check, raw: &Spanned<RawAuth>) -> Option<super::Flow> {
    let a = &raw.value;
    let name = c.required(&a.name, &raw.referenced, "auth.name", "api_key")?;
    let place = c.word(&a.place, "auth.in", &["header", "query"]);
    if place == Some("query") {
        return Some(super::Flow::ApiKeyQuery(name.value.clone()));
    }
    match HeaderName::from_bytes(name.value.as_bytes()) {
        Ok(h) => Some(super::Flow::ApiKeyHeader(h)),
        Err(_) => {
            c.error(name, "auth.name: not a header name");
            None
        }
    }
}

fn session_flow(c: &mut Check, raw: &Spanned<RawAuth>, names: &[&str]) -> Option<super::Flow> {
    let (a, at) = (&raw.value, &raw.referenced);
    let login = c.required(&a.login_url, at, "auth.login_url", "session_login")?;
    let login = c.template(login, "auth.login_url", names, false)?;
    let token_url = c.required(&a.token_url, at, "auth.token_url", "session_login")?;
    let token_url = c.template(token_url, "auth.token_url", names, false)?;
    let cookie = c.required(&a.cookie, at, "auth.cookie", "session_login")?;
    Some(super::Flow::Session {
        login_url: login,
        token_url,
        username_field: leak(a.username_field.as_ref().map_or("username", |t| &t.value)),
        password_field: leak(a.password_field.as_ref().map_or("password", |t| &t.value)),
        form: (a.form.0.iter())
            .map(|(k, v)| (leak(&k.value), leak(&v.value)))
            .collect(),
        cookie: leak(&cookie.value),
    })
}

/// Both OAuth2 grants: client credentials and password.
fn oauth2_flow(
    c: &mut Check,
    raw: &Spanned<RawAuth>,
    kind: &str,
    names: &[&str],
) -> Option<super::Flow> {
    let a = &raw.value;
    let token_url = c.required(&a.token_url, &raw.referenced, "auth.token_url", kind)?;
    let token_url = c.template(token_url, "auth.token_url", names, false)?;
    let body = match c.word(&a.body, "auth.body", &["form", "json"]) {
        Some("json") => TokenBody::Json,
        _ => TokenBody::Form,
    };
    let client_auth = match c.word(&a.client_auth, "auth.client_auth", &["body", "basic"]) {
        Some("basic") => ClientAuth::Basic,
        _ => ClientAuth::Form,
    };
    let mut params = Vec::new();
    for (name, value) in &a.params.0 {
        let text = Spanned::new(value.value.clone(), value.referenced, value.defined);
        let key = format!("auth.params.{}", name.value);
        if let Some(t) = c.template(&text, &key, names, false) {
            params.push((leak(&name.value), t));
        }
    }
    Some(super::Flow::OAuth2 {
        password: kind == "oauth2_password",
        token_url,
        body,
        client_auth,
        params,
    })
}

/// The request, paging, records and errors.
fn definition(
    c: &mut Check,
    raw: &RawDefinition,
    settings: &[Key],
    auth: Option<&AuthKeys>,
) -> Option<Definition> {
    let mut names: Vec<String> = settings.iter().map(|k| k.name.to_string()).collect();
    if let Some(auth) = auth {
        names.extend(auth.keys.iter().map(|k| format!("auth.{}", k.name)));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let r = &raw.request.value;
    let method = method(c, &raw.request);
    let path = c.template(&r.path, "request.path", &names, false);
    let mut query = Vec::new();
    for (name, value) in &r.query.0 {
        let text = Spanned::new(value.value.0.clone(), value.referenced, value.defined);
        let key = format!("request.query.{}", name.value);
        if let Some(t) = c.template(&text, &key, &names, false) {
            query.push((name.value.clone(), t));
        }
    }
    let headers = header_templates(c, &r.headers, "request.headers", &names);
    let paging = paging(c, &raw.paging);
    let records = records_at(c, &raw.records);
    let errors = errors(c, raw);
    if raw.key.value.trim().is_empty() {
        c.error(
            &raw.key,
            "key: the field that identifies a record, e.g. `id`",
        );
    }
    Some(Definition {
        method,
        path: path?,
        query,
        headers,
        body: r.body.as_ref().map(|b| b.value.clone()),
        auth: auth.map(|a| a.plan.clone())?,
        paging: paging?,
        records: records?,
        total: raw.total.as_ref().map(|t| path_of(&t.value)),
        page_total: raw.page_total.as_ref().map(|t| path_of(&t.value)),
        errors,
        retry: raw.retry.as_ref().map(|r| r.value.clone()),
        rate_limit: raw.rate_limit.as_ref().map(|r| r.value.clone()),
        file: PathBuf::new(),
        pointer_at: pointer_at(&raw.paging.value),
    })
}

/// Where the paging's pointer path in the body is declared, when it has one.
fn pointer_at(p: &RawPaging) -> Option<(u64, u64)> {
    let declared = [&p.cursor_path, &p.next_path, &p.token_path];
    let path = declared.into_iter().find_map(Option::as_ref)?;
    Some((path.referenced.line(), path.referenced.column()))
}

/// `request.method`: GET (the default) or POST.
fn method(c: &mut Check, request: &Spanned<RawRequest>) -> Method {
    let Some(given) = &request.value.method else {
        return Method::GET;
    };
    match given.value.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        other => {
            let message = format!("request.method: {other:?} is not allowed; allowed: GET, POST");
            c.error(given, message);
            Method::GET
        }
    }
}

/// A dotted path, split.
pub(super) fn path_of(text: &str) -> Vec<String> {
    text.split('.').map(str::to_string).collect()
}

fn paging(c: &mut Check, raw: &Spanned<RawPaging>) -> Option<Paging> {
    let p = &raw.value;
    let at = &raw.referenced;
    let size = p.size_param.as_ref().map(|s| s.value.clone());
    let ends = EndPaths {
        total_pages: p.total_pages.as_ref().map(|t| path_of(&t.value)),
        has_more: p.has_more.as_ref().map(|t| path_of(&t.value)),
    };
    let mut param = |given: &Option<Text>, key: &str, kind: &str| {
        c.required(given, at, key, kind).map(|t| t.value.clone())
    };
    Some(match p.kind.value.as_str() {
        "none" => Paging::None,
        "offset" => Paging::Offset {
            offset_param: param(&p.offset_param, "paging.offset_param", "offset paging")?,
            limit_param: param(&p.limit_param, "paging.limit_param", "offset paging")?,
            ends,
        },
        "page_number" => page_number_paging(c, raw, ends)?,
        "cursor" => Paging::Cursor {
            cursor_path: path_of(&param(
                &p.cursor_path,
                "paging.cursor_path",
                "cursor paging",
            )?),
            cursor_param: param(&p.cursor_param, "paging.cursor_param", "cursor paging")?,
            size_param: size,
            ends,
        },
        "next_link" => Paging::NextLink {
            from: next_link_source(c, raw)?,
            size_param: size,
            ends,
        },
        "continuation" => continuation_paging(c, raw, ends)?,
        other => {
            let message = format!("paging.type: {other:?} is not allowed; allowed: {PAGING}");
            c.error(&p.kind, message);
            return None;
        }
    })
}

fn page_number_paging(c: &mut Check, raw: &Spanned<RawPaging>, ends: EndPaths) -> Option<Paging> {
    let (p, at) = (&raw.value, &raw.referenced);
    let first = p.first_page.as_ref().map_or(1, |f| f.value);
    if first > 1 {
        let f = p.first_page.as_ref().map_or(at, |f| &f.referenced);
        c.at(f, "paging.first_page: 0 or 1");
    }
    let kind = "page_number paging";
    Some(Paging::PageNumber {
        page_param: c
            .required(&p.page_param, at, "paging.page_param", kind)?
            .value
            .clone(),
        size_param: c
            .required(&p.size_param, at, "paging.size_param", kind)?
            .value
            .clone(),
        first,
        ends,
    })
}

/// Where a next link is: a body path or the `Link` header, exactly one.
fn next_link_source(c: &mut Check, raw: &Spanned<RawPaging>) -> Option<TokenFrom> {
    match (&raw.value.next_path, raw.value.link_header) {
        (Some(path), false) => Some(TokenFrom::Body(path_of(&path.value))),
        (None, true) => Some(TokenFrom::LinkHeader),
        (Some(path), true) => {
            c.error(path, "paging: next_link reads `next_path` or the Link header (`link_header: true`), not both");
            None
        }
        (None, false) => {
            c.at(
                &raw.referenced,
                "paging.next_path: required for next_link paging (or `link_header: true`)",
            );
            None
        }
    }
}

fn continuation_paging(c: &mut Check, raw: &Spanned<RawPaging>, ends: EndPaths) -> Option<Paging> {
    let (p, at) = (&raw.value, &raw.referenced);
    let from = match (&p.token_path, &p.token_header) {
        (Some(path), None) => TokenFrom::Body(path_of(&path.value)),
        (None, Some(header)) => TokenFrom::Header(header.value.clone()),
        (Some(path), Some(_)) => {
            c.error(path, "paging: a continuation token is read from `token_path` or `token_header`, not both");
            return None;
        }
        (None, None) => {
            c.at(
                at,
                "paging.token_path: required for continuation paging (or `token_header`)",
            );
            return None;
        }
    };
    let send = c.required(
        &p.send_header,
        at,
        "paging.send_header",
        "continuation paging",
    )?;
    let Ok(send_header) = HeaderName::from_bytes(send.value.as_bytes()) else {
        c.error(send, "paging.send_header: not a header name");
        return None;
    };
    Some(Paging::Continuation {
        from,
        send_header,
        link_path: p.link_path.as_ref().map(|l| path_of(&l.value)),
        size_param: p.size_param.as_ref().map(|s| s.value.clone()),
        ends,
    })
}

fn records_at(c: &mut Check, raw: &Spanned<OneOrMany>) -> Option<RecordsAt> {
    let items = raw.value.items();
    if items.is_empty() || items.iter().any(|i| i.trim().is_empty()) {
        c.error(raw, "records: where a page's records are: a key (`data`), keys to try (`[accounts, customers]`), a path (`data.customers`) or `$` for a body that is the list");
        return None;
    }
    Some(match items.as_slice() {
        ["$"] => RecordsAt::Body,
        [one] if one.contains('.') => {
            let parts: Vec<&'static str> = one.split('.').map(leak).collect();
            RecordsAt::Path(leak_slice(parts))
        }
        many => {
            if many.iter().any(|m| m.contains('.') || *m == "$") {
                c.error(
                    raw,
                    "records: alternatives are top-level keys; a nested path is one text",
                );
                return None;
            }
            RecordsAt::Key(leak_slice(many.iter().map(|m| leak(m)).collect()))
        }
    })
}

fn errors(c: &mut Check, raw: &RawDefinition) -> ErrorPlan {
    let e = &raw.errors;
    let list = |v: &Option<Spanned<OneOrMany>>, default: &[&str]| -> Vec<&'static str> {
        match v {
            Some(v) => v.value.items().into_iter().map(leak).collect(),
            None => default.iter().map(|d| leak(d)).collect(),
        }
    };
    let in_200 = e.in_200.as_ref().map(|i| {
        if i.value.path.value.trim().is_empty() {
            c.error(
                &i.value.path,
                "errors.in_200.path: the path whose value says failure",
            );
        }
        super::In200 {
            path: path_of(&i.value.path.value),
            failure: i.value.failure.value.0.clone(),
            message: i.value.message.as_ref().map(|m| path_of(&m.value)),
            correlation: i.value.correlation.as_ref().map(|m| path_of(&m.value)),
        }
    });
    ErrorPlan {
        message: list(
            &e.message,
            &["message", "error_description", "error", "Message"],
        ),
        correlation: list(&e.correlation, &[]),
        in_200,
    }
}

fn column_type(c: &mut Check, ty: &Option<Text>, at: &Location, key: &str) -> ColumnType {
    match ty.as_ref().map(|t| t.value.as_str()) {
        None | Some("string") => ColumnType::Utf8,
        Some("int") => ColumnType::Int64,
        Some("float") => ColumnType::Float64,
        Some("bool") => ColumnType::Boolean,
        Some("timestamp") => ColumnType::Timestamp,
        Some("date") => ColumnType::Date,
        Some(other) => {
            let at = ty.as_ref().map_or(at, |t| &t.referenced);
            c.at(
                at,
                format!("{key}: {other:?} is not a type; allowed: {TYPES}"),
            );
            ColumnType::Utf8
        }
    }
}

fn fields(c: &mut Check, raw: &[Spanned<super::raw::RawField>], what: &str) -> &'static [Field] {
    let mut out = Vec::new();
    for f in raw {
        let ty = column_type(c, &f.value.ty, &f.referenced, &format!("{what}.type"));
        if f.value.path.value.trim().is_empty() || f.value.path.value.split('.').any(str::is_empty)
        {
            c.error(
                &f.value.path,
                format!("{what}.path: keys joined by dots, e.g. address.country"),
            );
        }
        out.push(Field {
            path: leak(&f.value.path.value),
            ty,
        });
    }
    leak_slice(out)
}

fn record(c: &mut Check, raw: &RawDefinition) -> Option<RecordSpec> {
    let fields = fields(c, &raw.fields, "fields");
    let mut arrays = Vec::new();
    for a in &raw.arrays {
        let a = &a.value;
        let element = fields_of_array(c, a);
        let scalar = element
            .is_empty()
            .then(|| column_type(c, &a.ty, &a.name.referenced, "arrays.type"));
        arrays.push(ArraySpec {
            name: leak(&a.name.value),
            path: leak(&a.path.value),
            fields: element,
            scalar,
        });
    }
    let arrays = leak_slice(arrays);
    let default_explode = match &raw.explode {
        Some(e) if arrays.iter().any(|a| a.name == e.value) => Some(leak(&e.value)),
        Some(e) => {
            let names: Vec<&str> = arrays.iter().map(|a| a.name).collect();
            c.error(
                e,
                format!(
                    "explode: no array {:?}; arrays: {}",
                    e.value,
                    names.join(", ")
                ),
            );
            None
        }
        None => None,
    };
    let canonical = canonical(c, raw, arrays);
    Some(RecordSpec {
        key: leak(&raw.key.value),
        fields,
        arrays,
        default_explode,
        canonical,
    })
}

fn fields_of_array(c: &mut Check, a: &super::raw::RawArray) -> &'static [Field] {
    fields(c, &a.fields, &format!("arrays.{}.fields", a.name.value))
}

/// The canonical keys a definition may give.
const CANONICAL_KEYS: [&str; 11] = [
    "customer_id",
    "customer_reference",
    "customer_name",
    "status",
    "status_codes",
    "country",
    "created_at",
    "reseller_id",
    "tenant_id",
    "tenant_domain",
    "contact_email",
];

fn canonical(c: &mut Check, raw: &RawDefinition, arrays: &[ArraySpec]) -> Canonical {
    let mut from = |name: &str| -> From {
        let Some((key, value)) = raw.canonical.0.iter().find(|(k, _)| k.value == name) else {
            return From::Lacking("the definition does not say");
        };
        match &value.value {
            RawFrom::Path(path) => From::Field(leak(path)),
            RawFrom::Map(pairs) => {
                let get = |k: &str| {
                    pairs
                        .0
                        .iter()
                        .find(|(n, _)| n.value == k)
                        .map(|(_, v)| v.value.0.as_str())
                };
                match (
                    get("element"),
                    get("first"),
                    get("field"),
                    get("const"),
                    get("lacking"),
                ) {
                    (Some(array), None, Some(field), None, None)
                    | (None, Some(array), Some(field), None, None) => {
                        if !arrays.iter().any(|a| a.name == array) {
                            c.error(key, format!("canonical.{name}: no array {array:?}"));
                        }
                        if get("element").is_some() {
                            From::Element(leak(array), leak(field))
                        } else {
                            From::First(leak(array), leak(field))
                        }
                    }
                    (None, None, None, Some(value), None) => From::Const(leak(value)),
                    (None, None, None, None, Some(why)) => From::Lacking(leak(why)),
                    _ => {
                        c.error(key, format!("canonical.{name}: a path, or one of {{element: ARRAY, field: PATH}}, {{first: ARRAY, field: PATH}}, {{const: VALUE}}, {{lacking: WHY}}"));
                        From::Lacking("")
                    }
                }
            }
        }
    };
    let canonical = Canonical {
        customer_id: from("customer_id"),
        customer_reference: from("customer_reference"),
        customer_name: from("customer_name"),
        status: from("status"),
        status_codes: &[],
        country: from("country"),
        created_at: from("created_at"),
        reseller_id: from("reseller_id"),
        tenant_id: from("tenant_id"),
        tenant_domain: from("tenant_domain"),
        contact_email: from("contact_email"),
    };
    for (key, _) in &raw.canonical.0 {
        if !CANONICAL_KEYS.contains(&key.value.as_str()) {
            c.error(
                key,
                format!(
                    "canonical: unknown column `{}`; allowed: {}",
                    key.value,
                    CANONICAL_KEYS.join(", ")
                ),
            );
        }
    }
    Canonical {
        status_codes: status_codes(c, raw),
        ..canonical
    }
}

fn status_codes(c: &mut Check, raw: &RawDefinition) -> &'static [(&'static str, Status)] {
    let Some((key, value)) = raw
        .canonical
        .0
        .iter()
        .find(|(k, _)| k.value == "status_codes")
    else {
        return &[];
    };
    let RawFrom::Map(pairs) = &value.value else {
        c.error(key, "canonical.status_codes: a mapping of the vendor's codes to active, inactive, suspended, pending, deleted, unknown");
        return &[];
    };
    let mut out = Vec::new();
    for (code, word) in &pairs.0 {
        let status = match word.value.0.as_str() {
            "active" => Status::Active,
            "inactive" => Status::Inactive,
            "suspended" => Status::Suspended,
            "pending" => Status::Pending,
            "deleted" => Status::Deleted,
            "unknown" => Status::Unknown,
            other => {
                c.error(word, format!("canonical.status_codes.{}: {other:?} is not a status; allowed: active, inactive, suspended, pending, deleted, unknown", code.value));
                continue;
            }
        };
        out.push((leak(&code.value), status));
    }
    leak_slice(out)
}

/// The filters a pipeline may set.
fn filters(c: &mut Check, raw: &RawDefinition) -> Vec<FilterSpec> {
    let mut out = Vec::new();
    for (name, f) in &raw.filters.0 {
        let kind = match (
            &f.value.values,
            f.value.kind.as_ref().map(|k| k.value.as_str()),
        ) {
            (Some(values), None | Some("text")) => {
                FilterKind::OneOf(leak_slice(values.iter().map(|v| leak(&v.0)).collect()))
            }
            (None, None | Some("text")) => FilterKind::Text,
            (None, Some("integer")) => FilterKind::Integer,
            (None, Some("boolean")) => FilterKind::Boolean,
            (None, Some("date")) => FilterKind::Date,
            (None, Some("datetime")) => FilterKind::DateTime,
            (_, Some(other)) => {
                let at = f
                    .value
                    .kind
                    .as_ref()
                    .map_or(&name.referenced, |k| &k.referenced);
                c.at(at, format!("filters.{}.kind: {other:?} is not allowed; allowed: text, integer, boolean, date, datetime (or `values:` for a list)", name.value));
                FilterKind::Text
            }
        };
        out.push(FilterSpec {
            name: leak(&name.value),
            kind,
            required: f.value.required,
            help: leak(&f.value.help),
        });
    }
    out
}
