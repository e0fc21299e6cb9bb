//! The real storage servers the object-storage tests write to — moto (S3) and Azurite (Azure
//! Blob), started by `.ci/run` through `.ci/emulators.sh` — and what the tests read back with.
//! Included with `#[path = "common/stores.rs"] mod stores;`.
//!
//! Without a server a test skips, saying how to start it; with `CE_REQUIRE_STORES` set (as
//! `.ci/run` sets it) it fails instead, so CI can never pass by skipping.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, RetryConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_customer-export");
pub const BUCKET: &str = "demo-bucket";
pub const CONTAINER: &str = "demo-container";
/// Azurite's well-known development account key (public, in Microsoft's documentation).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A storage server the tests write to.
#[derive(Debug, Clone)]
pub enum Server {
    S3 { endpoint: String },
    Azurite { endpoint: String },
}

/// The endpoint in `var`, or a skip (`None`) with a message; a failure under `CE_REQUIRE_STORES`.
fn endpoint(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("CE_REQUIRE_STORES").is_some() => panic!(
            "{var} is unset but CE_REQUIRE_STORES asks for {what}: `.ci/run` starts it (.ci/emulators.sh start)"
        ),
        _ => {
            eprintln!(
                "skipped: no {what} ({var} is unset); `.ci/run` starts one, or: eval \"$(.ci/emulators.sh start)\""
            );
            None
        }
    }
}

impl Server {
    pub fn s3() -> Option<Server> {
        endpoint("CE_TEST_S3_ENDPOINT", "S3 server (moto)").map(|endpoint| Server::S3 { endpoint })
    }

    pub fn azurite() -> Option<Server> {
        endpoint("CE_TEST_AZURITE_ENDPOINT", "Azure Blob server (Azurite)")
            .map(|endpoint| Server::Azurite { endpoint })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Server::S3 { .. } => "S3 (moto)",
            Server::Azurite { .. } => "Azure Blob (Azurite)",
        }
    }

    /// The output root URL of `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        match self {
            Server::S3 { .. } => format!("s3://{BUCKET}/{prefix}"),
            Server::Azurite { .. } => format!("az://{CONTAINER}/{prefix}"),
        }
    }

    /// The same server behind another endpoint (a proxy).
    pub fn via(&self, endpoint: String) -> Server {
        match self {
            Server::S3 { .. } => Server::S3 { endpoint },
            Server::Azurite { .. } => Server::Azurite { endpoint },
        }
    }

    /// The environment a user would set for this server: the cloud's own variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Server::S3 { endpoint } => vec![
                ("AWS_ACCESS_KEY_ID", "testing".into()),
                ("AWS_SECRET_ACCESS_KEY", "testing".into()),
                ("AWS_ENDPOINT_URL", endpoint.clone()),
                ("AWS_ALLOW_HTTP", "true".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ],
            Server::Azurite { endpoint } => vec![
                ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
                ("AZURITE_BLOB_STORAGE_URL", endpoint.clone()),
            ],
        }
    }

    /// A client of the server, for the test to read what a run wrote (no retries: a test
    /// should see a failure at once).
    pub fn client(&self) -> Arc<dyn ObjectStore> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let retry = RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        };
        match self {
            Server::S3 { endpoint } => Arc::new(
                AmazonS3Builder::new()
                    .with_endpoint(endpoint)
                    .with_allow_http(true)
                    .with_region("us-east-1")
                    .with_bucket_name(BUCKET)
                    .with_access_key_id("testing")
                    .with_secret_access_key("testing")
                    .with_retry(retry)
                    .build()
                    .expect("an S3 client"),
            ),
            Server::Azurite { endpoint } => Arc::new(
                MicrosoftAzureBuilder::new()
                    .with_account("devstoreaccount1")
                    .with_access_key(AZURITE_KEY)
                    .with_endpoint(format!("{endpoint}/devstoreaccount1"))
                    .with_allow_http(true)
                    .with_container_name(CONTAINER)
                    .with_retry(retry)
                    .build()
                    .expect("an Azure client"),
            ),
        }
    }
}

/// A prefix no other test uses.
pub fn unique_prefix(test: &str) -> String {
    format!("tests/{test}-{}", uuid::Uuid::now_v7())
}

/// Every object under `prefix` with its bytes, by key.
pub async fn objects(store: &dyn ObjectStore, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let prefix = Key::from(prefix);
    let listed: Vec<_> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .expect("the store lists");
    let mut all = BTreeMap::new();
    for object in listed {
        let bytes = store
            .get(&object.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        all.insert(object.location.to_string(), bytes.to_vec());
    }
    all
}

/// The objects that are outputs: not a run's staging, journal or lease.
pub fn outputs(all: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    all.iter()
        .filter(|(key, _)| !key.contains("/.customer-export/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Runs the binary in `dir` with `server`'s environment, off the async runtime.
pub async fn run(server: &Server, dir: &std::path::Path, args: &[&str]) -> Output {
    run_with(server, dir, args, &[]).await
}

/// [`run`] with more variables, or other values for the server's.
pub async fn run_with(
    server: &Server,
    dir: &std::path::Path,
    args: &[&str],
    more: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for (name, value) in server.env() {
        cmd.env(name, value);
    }
    for (name, value) in more {
        cmd.env(name, value);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}
