//! Object storage as an output root: `s3://bucket/prefix`, `az://container/prefix` (and
//! `abfss://container@account.dfs.core.windows.net/prefix`), `gs://bucket/prefix`, through the
//! arrow-rs `object_store` crate.
//!
//! Promises:
//! - **Credentials come from each cloud's standard chain** (the builders' `from_env`: environment
//!   variables, web/workload identity, instance metadata): never from the pipeline file, never
//!   printed. A [`StoreUrl`] names a bucket and a prefix, nothing secret.
//! - **Plain HTTP only to a loopback endpoint** (an emulator on this machine): credentials and
//!   data never cross a network in clear.
//! - **Retries and timeouts as for the vendors**: a few retries with backoff on 5xx and dropped
//!   connections, every request bounded in time, so a dead store fails the run instead of
//!   hanging it.
//!
//! [`upload`] streams a file into the store as it is written; [`root`] publishes a run's files
//! there as one commit.

mod clouds;
pub mod root;
pub mod upload;

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as Key;

pub use self::root::StoreRoot;

/// The schemes an output root may name, for messages.
pub const SCHEMES: &str = "s3://, az://, abfss://, gs://, file://";

/// Which cloud a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    S3,
    Azure,
    Gcs,
}

/// A bucket (or container) and a key prefix in it: where a run's files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    pub cloud: Cloud,
    /// `s3://bucket`, `az://container` or `abfss://container@account.dfs.core.windows.net`:
    /// what the store's builder is given.
    pub bucket_url: String,
    /// The key prefix under the bucket, without leading or trailing `/` (may be empty).
    pub prefix: String,
}

/// A store's settings beyond its URL, from a pipeline's `storage:`; each one given overrides the
/// environment's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// The S3 region.
    pub region: Option<String>,
    /// An S3-compatible store's or an Azure emulator's URL.
    pub endpoint: Option<String>,
    /// S3 path-style addressing (`endpoint/bucket/key`), which most S3-compatible stores need.
    pub path_style: Option<bool>,
    /// Plain HTTP, to a loopback endpoint only.
    pub allow_http: Option<bool>,
}

/// Where a run writes: a local folder or a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(std::path::PathBuf),
    Store(StoreUrl),
}

impl Location {
    /// Reads `--output-dir`: a URL with one of [`SCHEMES`], or a local path. `file://` is a local
    /// path (written with the local root's rename and journal, the stronger commit).
    pub fn parse(text: &str) -> Result<Location, String> {
        let Some((scheme, _)) = text.split_once("://") else {
            return Ok(Location::Local(text.into()));
        };
        let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a valid URL: {e}"))?;
        let cloud = match scheme {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| format!("{text:?}: a file:// URL needs an absolute path"))?;
                return Ok(Location::Local(path));
            }
            "s3" | "s3a" => Cloud::S3,
            "az" | "azure" | "abfs" | "abfss" => Cloud::Azure,
            "gs" => Cloud::Gcs,
            other => {
                return Err(format!(
                    "{text:?}: the scheme {other}:// is not supported; allowed: {SCHEMES}, or a local path"
                ));
            }
        };
        let host = url.host_str().unwrap_or_default();
        if host.is_empty() {
            return Err(format!("{text:?} names no bucket or container"));
        }
        if url.password().is_some() {
            // Not echoed: the text holds a secret.
            return Err(format!(
                "the {scheme}:// URL holds a password; write only the bucket and prefix: credentials come from the environment (see the README's \"Writing to object storage\")"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{text:?}: write only the bucket and prefix; options and credentials come from the environment (see the README's \"Writing to object storage\")"
            ));
        }
        let bucket_url = match url.username() {
            "" => format!("{scheme}://{host}"),
            user => format!("{scheme}://{user}@{host}"),
        };
        let prefix = url.path().trim_matches('/').to_string();
        // Checked on the text: the URL parser resolves `..` away, silently.
        if text.split('/').any(|s| s == "." || s == "..") {
            return Err(format!("{text:?}: the prefix may not contain `.` or `..`"));
        }
        Ok(Location::Store(StoreUrl {
            cloud,
            bucket_url,
            prefix,
        }))
    }
}

impl Default for Location {
    /// The current directory, as a relative path.
    fn default() -> Location {
        Location::Local(std::path::PathBuf::new())
    }
}

impl Location {
    /// What output paths are planned under: the folder, or the store's prefix as a relative path.
    pub fn planning_dir(&self) -> std::path::PathBuf {
        match self {
            Location::Local(dir) => dir.clone(),
            Location::Store(url) => url.prefix.clone().into(),
        }
    }

    /// A planned path as a user finds it: a local path, or `s3://bucket/key`.
    pub fn display_path(&self, path: &std::path::Path) -> String {
        match self {
            Location::Local(_) => path.display().to_string(),
            Location::Store(url) => url.display_key(&key_text(path)),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(dir) => write!(f, "{}", dir.display()),
            Location::Store(url) => write!(f, "{url}"),
        }
    }
}

/// A planned path as an object key: its components joined by `/`.
pub fn key_text(path: &std::path::Path) -> String {
    let parts: Vec<_> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

impl StoreUrl {
    /// The object key of `relative` (a `/`-separated path under the prefix).
    pub fn key(&self, relative: &str) -> Key {
        Key::from(self.join(relative))
    }

    /// `prefix/relative`, or `relative` when the prefix is empty.
    pub fn join(&self, relative: &str) -> String {
        match (self.prefix.as_str(), relative.trim_matches('/')) {
            ("", rel) => rel.to_string(),
            (prefix, "") => prefix.to_string(),
            (prefix, rel) => format!("{prefix}/{rel}"),
        }
    }

    /// The URL of an object key, for messages and the summary.
    pub fn display_key(&self, key: &str) -> String {
        format!("{}/{key}", self.bucket_url)
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.prefix.as_str() {
            "" => f.write_str(&self.bucket_url),
            prefix => f.write_str(&self.display_key(prefix)),
        }
    }
}

/// The store a URL names, its credentials from the environment. Fails without a request if the
/// configuration is incomplete or asks for plain HTTP to a host other than this machine.
pub fn open(url: &StoreUrl, options: &StoreOptions) -> Result<Arc<dyn ObjectStore>, String> {
    // The builders' HTTP client needs it, as the vendors' does; a second install is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    clouds::remember_credentials();
    match url.cloud {
        Cloud::S3 => clouds::s3(url, options),
        Cloud::Azure => clouds::azure(url, options),
        Cloud::Gcs => clouds::gcs(url, options),
    }
}

/// A store's error in one line: the service's code and message when it sent an XML error, with
/// the HTTP status; otherwise the error as the crate words it. Redacted.
pub fn describe(e: &object_store::Error) -> String {
    let text = e.to_string();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))?;
        Some(text[start..start + end].to_string())
    };
    let status = text.find("status code: ").map(|at| {
        let rest = &text[at + "status code: ".len()..];
        rest.split(':').next().unwrap_or(rest).trim().to_string()
    });
    let line = match (tag("Code"), tag("Message"), status) {
        (Some(code), Some(message), Some(status)) => format!("{code}: {message} (HTTP {status})"),
        (Some(code), Some(message), None) => format!("{code}: {message}"),
        _ => text.lines().next().unwrap_or_default().to_string(),
    };
    crate::model::secret::redact(&line).into_owned()
}

/// What a pipeline's `storage:` can be checked for without the store: an endpoint is an HTTP(S)
/// URL, and plain HTTP goes to a loopback one. (What the environment adds is checked by [`open`].)
pub fn check_options(options: &StoreOptions) -> Result<(), String> {
    if let Some(endpoint) = &options.endpoint {
        let parsed = url::Url::parse(endpoint)
            .map_err(|e| format!("endpoint: {endpoint:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "endpoint: {endpoint:?} must start with https:// (or http:// to this machine)"
            ));
        }
    }
    if options.allow_http == Some(true) {
        clouds::check_http(options.endpoint.as_deref(), Some("true"))
            .map_err(|e| format!("allow_http: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::clouds::check_http;
    use super::*;

    fn store(text: &str) -> StoreUrl {
        match Location::parse(text).unwrap() {
            Location::Store(url) => url,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        let s3 = store("s3://demo-bucket/lake/nightly/");
        assert_eq!(
            (s3.cloud, s3.bucket_url.as_str(), s3.prefix.as_str()),
            (Cloud::S3, "s3://demo-bucket", "lake/nightly")
        );
        assert_eq!(s3.key("c3.parquet").as_ref(), "lake/nightly/c3.parquet");
        let az = store("abfss://lake@acct.dfs.core.windows.net/raw");
        assert_eq!(
            (az.cloud, az.bucket_url.as_str(), az.prefix.as_str()),
            (
                Cloud::Azure,
                "abfss://lake@acct.dfs.core.windows.net",
                "raw"
            )
        );
        let gs = store("gs://b");
        assert_eq!((gs.cloud, gs.prefix.as_str()), (Cloud::Gcs, ""));
        assert_eq!(gs.key("x/y.csv").as_ref(), "x/y.csv");
        assert_eq!(
            Location::parse("file:///tmp/out").unwrap(),
            Location::Local("/tmp/out".into())
        );
        assert_eq!(
            Location::parse("out/dir").unwrap(),
            Location::Local("out/dir".into())
        );
    }

    #[test]
    fn bad_urls_say_what_is_allowed() {
        let err = Location::parse("ftp://x/y").unwrap_err();
        assert!(err.contains("allowed: s3://"), "{err}");
        assert!(
            Location::parse("s3:///lake")
                .unwrap_err()
                .contains("no bucket")
        );
        assert!(Location::parse("s3://b/a/../c").is_err());
        let err = Location::parse("s3://key:hunter2@b/lake").unwrap_err();
        assert!(
            !err.contains("hunter2") && err.contains("credentials come from the environment"),
            "{err}"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_http(Some("http://127.0.0.1:5055"), Some("true")).is_ok());
        assert!(check_http(Some("http://localhost:5055"), Some("true")).is_ok());
        assert!(check_http(Some("http://[::1]:5055"), Some("true")).is_ok());
        let err = check_http(Some("http://minio.internal:9000"), Some("true")).unwrap_err();
        assert!(err.contains("only to an endpoint on this machine"), "{err}");
        assert!(check_http(None, Some("true")).is_err());
        assert!(check_http(Some("https://minio.internal"), None).is_ok());
    }

    /// GCS has no emulator here (none from the package registries speaks the XML API the crate
    /// uses): its builder and settings are checked without a server.
    #[test]
    fn a_gcs_root_builds_and_refuses_settings_it_does_not_take() {
        let gs = store("gs://lake/customers");
        let built = open(&gs, &StoreOptions::default());
        assert!(built.is_ok(), "{:?}", built.err());
        let region = StoreOptions {
            region: Some("eu-west-1".into()),
            ..StoreOptions::default()
        };
        let err = open(&gs, &region).err().unwrap();
        assert!(err.contains("storage.region does not apply"), "{err}");
        let az = store("az://raw/customers");
        let err = open(&az, &region).err().unwrap();
        assert!(err.contains("storage.region does not apply"), "{err}");
    }

    #[test]
    fn store_errors_read_in_one_line() {
        let source: Box<dyn std::error::Error + Send + Sync> = "Error performing PUT http://127.0.0.1:5055/nb/k in 21ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".into();
        let e = object_store::Error::NotFound {
            path: "k".into(),
            source,
        };
        assert_eq!(
            describe(&e),
            "NoSuchBucket: The specified bucket does not exist (HTTP 404 Not Found)"
        );
    }
}
