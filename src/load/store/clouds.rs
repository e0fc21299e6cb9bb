//! Each cloud's store builder: credentials from its standard chain (`from_env`), then the
//! pipeline's `storage:` settings over the environment's, our timeouts and retries, and the
//! plain-HTTP check.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::client::ClientConfigKey;
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::{BackoffConfig, ObjectStore, RetryConfig};

use super::{StoreOptions, StoreUrl, describe};

/// How long one request to the store may take, and how often a failed one is tried again.
const REQUEST_TIMEOUT: &str = "120s";
const CONNECT_TIMEOUT: &str = "15s";
const MAX_RETRIES: usize = 4;

/// The environment variables that hold store credentials: their values are redacted from every
/// log line, error and manifest, like the vendors' secrets.
const CREDENTIAL_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_TOKEN",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_MASTER_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_STORAGE_ENCRYPTION_KEY",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_BEARER_TOKEN",
];

/// Remembers every credential the environment holds, so that it is redacted wherever it would be
/// printed; the builders read the variables themselves.
pub(super) fn remember_credentials() {
    for name in CREDENTIAL_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            drop(crate::model::secret::Secret::new(value));
        }
    }
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: MAX_RETRIES,
        retry_timeout: Duration::from_secs(120),
        backoff: BackoffConfig::default(),
    }
}

pub(super) fn s3(url: &StoreUrl, options: &StoreOptions) -> Result<Arc<dyn ObjectStore>, String> {
    let mut builder = AmazonS3Builder::from_env().with_url(&url.bucket_url);
    if let Some(region) = &options.region {
        builder = builder.with_region(region);
    }
    if let Some(endpoint) = &options.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(path_style) = options.path_style {
        builder = builder.with_virtual_hosted_style_request(!path_style);
    }
    if let Some(allow) = options.allow_http {
        builder = builder.with_allow_http(allow);
    }
    let client = |key| AmazonS3ConfigKey::Client(key);
    let builder = builder
        .with_config(client(ClientConfigKey::Timeout), REQUEST_TIMEOUT)
        .with_config(client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
        .with_retry(retry());
    let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
    let http = builder.get_config_value(&client(ClientConfigKey::AllowHttp));
    check_http(endpoint.as_deref(), http.as_deref())?;
    Ok(Arc::new(builder.build().map_err(|e| describe(&e))?))
}

pub(super) fn azure(
    url: &StoreUrl,
    options: &StoreOptions,
) -> Result<Arc<dyn ObjectStore>, String> {
    only_s3(options, &["region", "path_style"])?;
    let mut builder = MicrosoftAzureBuilder::from_env().with_url(&url.bucket_url);
    if let Some(endpoint) = &options.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    if let Some(allow) = options.allow_http {
        builder = builder.with_allow_http(allow);
    }
    let client = |key| AzureConfigKey::Client(key);
    let builder = builder
        .with_config(client(ClientConfigKey::Timeout), REQUEST_TIMEOUT)
        .with_config(client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
        .with_retry(retry());
    // The emulator setting means Azurite: its URL, over plain HTTP.
    let (endpoint, http) = match is_true(
        builder
            .get_config_value(&AzureConfigKey::UseEmulator)
            .as_deref(),
    ) {
        true => (
            Some(
                std::env::var("AZURITE_BLOB_STORAGE_URL")
                    .unwrap_or_else(|_| "http://127.0.0.1:10000".into()),
            ),
            Some("true".to_string()),
        ),
        false => (
            builder.get_config_value(&AzureConfigKey::Endpoint),
            builder.get_config_value(&client(ClientConfigKey::AllowHttp)),
        ),
    };
    check_http(endpoint.as_deref(), http.as_deref())?;
    Ok(Arc::new(builder.build().map_err(|e| describe(&e))?))
}

pub(super) fn gcs(url: &StoreUrl, options: &StoreOptions) -> Result<Arc<dyn ObjectStore>, String> {
    only_s3(options, &["region", "path_style", "endpoint", "allow_http"])?;
    let client = |key| GoogleConfigKey::Client(key);
    let builder = GoogleCloudStorageBuilder::from_env()
        .with_url(&url.bucket_url)
        .with_config(client(ClientConfigKey::Timeout), REQUEST_TIMEOUT)
        .with_config(client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
        // The crate allows HTTP to GCS by default (for a `gcs_base_url` in a key file): never here.
        .with_config(client(ClientConfigKey::AllowHttp), "false")
        .with_retry(retry());
    Ok(Arc::new(builder.build().map_err(|e| describe(&e))?))
}

/// Fails if `options` sets one of `keys`, which this store does not take (only S3 takes them all).
fn only_s3(options: &StoreOptions, keys: &[&str]) -> Result<(), String> {
    let given = |key: &str| match key {
        "region" => options.region.is_some(),
        "path_style" => options.path_style.is_some(),
        "endpoint" => options.endpoint.is_some(),
        _ => options.allow_http.is_some(),
    };
    match keys.iter().copied().find(|key| given(key)) {
        Some(key) => Err(format!(
            "storage.{key} does not apply to this store; remove it (the store's own environment variables configure it)"
        )),
        None => Ok(()),
    }
}

fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )
    })
}

/// Plain HTTP is for an emulator on this machine only: a loopback endpoint.
pub(super) fn check_http(endpoint: Option<&str>, allow_http: Option<&str>) -> Result<(), String> {
    if !is_true(allow_http) {
        return Ok(());
    }
    let loopback = endpoint
        .and_then(|e| url::Url::parse(e).ok())
        .and_then(|e| e.host().map(|h| h.to_owned()))
        .is_some_and(|host| match host {
            url::Host::Domain(d) => d == "localhost",
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        });
    if loopback {
        Ok(())
    } else {
        Err("plain HTTP is allowed only to an endpoint on this machine (127.0.0.1, ::1 or localhost), for an emulator; turn allow-http off (`storage.allow_http`, AWS_ALLOW_HTTP, AZURE_ALLOW_HTTP, GOOGLE_ALLOW_HTTP) or point the endpoint at a loopback address"
            .to_string())
    }
}
