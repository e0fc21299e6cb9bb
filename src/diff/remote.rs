//! An export in object storage — `s3://`, `az://`, `abfss://`, `gs://` — made readable as local
//! files: the object the URL names (a `.parquet` or `.csv` file, a `manifest.json`, or else the
//! `manifest.json` under that prefix) and every table file the manifest lists are downloaded to a
//! temporary folder, then read like an export on this machine.
//!
//! Promises:
//! - **Memory stays bounded; disk holds a copy.** Each object streams to its file chunk by chunk
//!   as it arrives, never held whole. The diff then reads the copies (OLD twice, NEW once) from the
//!   system's temporary folder (`TMPDIR`), which needs room for the compared files of both
//!   exports; they are deleted when the diff ends, failed or not (a process killed by a signal
//!   leaves them: `diff` sets no handler).
//! - **The store is reached as a run reaches it** ([`store::open`]): credentials from the cloud's
//!   environment variables, the same timeouts and retries. Store errors go through
//!   [`store::describe`], which redacts: no message prints a secret.
//! - **Exit status as for local files**: what the user named not being there, or a store that
//!   cannot be used or refuses the credentials, is a usage error (2) naming the URL and what to do;
//!   a download that fails — the network, a file the manifest names but the store lacks, a full
//!   disk — is a read error (1).
//! - **Nothing is written outside the temporary folder**: a manifest's output paths must be plain
//!   relative paths, as a run writes them.

use std::io::Write;
use std::path::Path;

use futures_util::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use tempfile::TempDir;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::DiffError;
use super::input::{FileKind, Located, kind_of, manifest_tables};
use crate::load::store::{self, StoreOptions, StoreUrl};

/// Where the README says how a store is reached, for messages.
const SEE: &str = "see the README's \"Writing to object storage\"";
/// What to do when the copies do not fit.
const DISK: &str = "diff copies an export in object storage to the temporary folder before reading it: make room there, or set TMPDIR to a folder with room";

/// Downloads the export `url` names into a new temporary folder: the folder (to be kept for as
/// long as the files are read) and the files in it.
pub fn download(url: &StoreUrl) -> Result<(TempDir, Vec<Located>), DiffError> {
    let store = store::open(url, &StoreOptions::default()).map_err(|detail| {
        DiffError::Usage(format!(
            "{url}: cannot use the store: {detail}; its credentials and settings come from the environment ({SEE})"
        ))
    })?;
    download_from(&*store, url)
}

/// Downloads the objects at `keys` — a run's staged files, each with its format's name — from
/// `store` (a run's own, at `url`) into a new temporary folder, as [`download`] does.
pub fn download_keys(
    store: &dyn ObjectStore,
    url: &StoreUrl,
    keys: &[(String, &str)],
) -> Result<(TempDir, Vec<Located>), DiffError> {
    let dir = temp_dir(url)?;
    let copies = async {
        let mut files = Vec::new();
        for (n, (key, format)) in keys.iter().enumerate() {
            let Some(kind) = FileKind::named(format) else {
                continue;
            };
            // Numbered: two staged files may share a name in different folders.
            let path = dir.path().join(format!("{n}.{format}"));
            copy(store, url, key, &path, Named::ByManifest).await?;
            let shown = url.display_key(key);
            files.push(Located { path, shown, kind });
        }
        Ok::<_, DiffError>(files)
    };
    let files = block_on(copies)??;
    Ok((dir, files))
}

/// A new temporary folder for the copies of `url`'s objects.
fn temp_dir(url: &StoreUrl) -> Result<TempDir, DiffError> {
    tempfile::Builder::new()
        .prefix("customer-export-diff-")
        .tempdir()
        .map_err(|e| {
            DiffError::Read(format!(
                "cannot make a temporary folder to download {url}: {e}; {DISK}"
            ))
        })
}

/// [`download`] from a store already opened.
fn download_from(
    store: &dyn ObjectStore,
    url: &StoreUrl,
) -> Result<(TempDir, Vec<Located>), DiffError> {
    let dir = temp_dir(url)?;
    let files = block_on(fetch(store, url, dir.path()))??;
    Ok((dir, files))
}

/// Downloads what `url` names into `dir`: one table file, or a manifest's.
async fn fetch(
    store: &dyn ObjectStore,
    url: &StoreUrl,
    dir: &Path,
) -> Result<Vec<Located>, DiffError> {
    let name = url.prefix.rsplit('/').next().unwrap_or_default();
    if let Some(kind) = kind_of(Path::new(name)) {
        let path = dir.join(name);
        copy(store, url, &url.prefix, &path, Named::ByUser).await?;
        let shown = url.to_string();
        return Ok(vec![Located { path, shown, kind }]);
    }
    let manifest_key = match name {
        "manifest.json" => url.prefix.clone(),
        _ => url.join("manifest.json"),
    };
    let manifest = dir.join("manifest.json");
    copy(store, url, &manifest_key, &manifest, Named::ByUser).await?;
    let shown = url.display_key(&manifest_key);
    let text = std::fs::read_to_string(&manifest).map_err(|e| DiffError::read(&shown, e))?;
    // Output paths are relative to the manifest's folder.
    let folder = manifest_key
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder);
    let mut files = Vec::new();
    for (relative, kind) in manifest_tables(&text, &shown)? {
        if !is_plain(&relative) {
            return Err(DiffError::Usage(format!(
                "{shown}: the output path {relative:?} is not a plain relative path (no `.`, `..`, `\\` or leading `/`), as a run writes them"
            )));
        }
        let key = match folder {
            "" => relative.clone(),
            folder => format!("{folder}/{relative}"),
        };
        let path = dir.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| disk_error(&shown, e))?;
        }
        copy(store, url, &key, &path, Named::ByManifest).await?;
        let shown = url.display_key(&key);
        files.push(Located { path, shown, kind });
    }
    Ok(files)
}

/// Whether a manifest's output path stays in the manifest's folder: `/`-separated plain segments.
fn is_plain(relative: &str) -> bool {
    !relative.contains('\\')
        && (relative.split('/')).all(|segment| !matches!(segment, "" | "." | ".."))
}

/// Who named an object, which decides what its absence means.
#[derive(Debug, Clone, Copy)]
enum Named {
    /// The user, on the command line: its absence is a usage error, as a missing local file's.
    ByUser,
    /// The export's manifest: its absence is a broken export, a read error.
    ByManifest,
}

/// Streams the object at `key` into a new file at `path`, each chunk written as it arrives.
async fn copy(
    store: &dyn ObjectStore,
    url: &StoreUrl,
    key: &str,
    path: &Path,
    named: Named,
) -> Result<(), DiffError> {
    let shown = url.display_key(key);
    let failed = |e: object_store::Error| store_error(&shown, &e, named);
    let got = store.get(&Key::from(key)).await.map_err(failed)?;
    let mut chunks = got.into_stream();
    let mut file = std::fs::File::create(path).map_err(|e| disk_error(&shown, e))?;
    while let Some(chunk) = chunks.try_next().await.map_err(failed)? {
        file.write_all(&chunk).map_err(|e| disk_error(&shown, e))?;
    }
    Ok(())
}

/// A store's error, naming the object and what to do.
fn store_error(shown: &str, e: &object_store::Error, named: Named) -> DiffError {
    use object_store::Error::{NotFound, PermissionDenied, Unauthenticated};
    let detail = store::describe(e);
    match (e, named) {
        (NotFound { .. }, Named::ByUser) => DiffError::Usage(format!(
            "{shown}: no such object ({detail}); name a manifest.json, a folder (prefix) holding one, or a .parquet or .csv object"
        )),
        (NotFound { .. }, Named::ByManifest) => DiffError::Read(format!(
            "cannot read {shown}: the export's manifest names it but the store does not hold it ({detail})"
        )),
        (PermissionDenied { .. } | Unauthenticated { .. }, _) => DiffError::Usage(format!(
            "{shown}: the store refused the credentials ({detail}); set credentials that may read it in the environment ({SEE})"
        )),
        _ => DiffError::Read(format!(
            "cannot read {shown}: {detail}; check the store's endpoint and credentials in the environment ({SEE})"
        )),
    }
}

fn disk_error(shown: &str, e: std::io::Error) -> DiffError {
    DiffError::Read(format!("cannot download {shown}: {e}; {DISK}"))
}

/// Runs `future` to its end from this sync code. `diff` runs without a runtime: a small
/// single-threaded one is made for the downloads. On a multi-threaded runtime's worker (a run's),
/// the worker hands its other tasks off while it waits; a single-threaded runtime's own thread
/// cannot wait on itself, which is an error rather than tokio's panic.
fn block_on<F: Future>(future: F) -> Result<F::Output, DiffError> {
    match Handle::try_current() {
        Err(_) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| DiffError::Read(format!("cannot start the async runtime: {e}")))?;
            Ok(runtime.block_on(future))
        }
        Ok(handle) => match handle.runtime_flavor() {
            RuntimeFlavor::CurrentThread => Err(DiffError::Read(
                "an export in object storage cannot be downloaded on a single-threaded runtime's own thread".into(),
            )),
            _ => Ok(tokio::task::block_in_place(|| handle.block_on(future))),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;

    use super::*;
    use crate::load::Location;

    fn url(text: &str) -> StoreUrl {
        match Location::parse(text) {
            Ok(Location::Store(url)) => url,
            other => panic!("{other:?}"),
        }
    }

    /// A store holding `objects` (key, bytes).
    fn store_with(objects: &[(&str, &[u8])]) -> Arc<InMemory> {
        let store = Arc::new(InMemory::new());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for (key, bytes) in objects {
            let key = Key::from(*key);
            runtime
                .block_on(store.put(&key, bytes.to_vec().into()))
                .unwrap();
        }
        store
    }

    const MANIFEST: &[u8] = br#"{"outputs": [
        {"path": "c3/2026-11-30/customers.parquet", "format": "parquet"},
        {"path": "crayon/2026-11-30/customers.parquet", "format": "parquet"},
        {"path": "all-vendors.csv", "format": "csv"}
    ]}"#;

    fn night() -> Arc<InMemory> {
        store_with(&[
            ("lake/night1/manifest.json", MANIFEST),
            ("lake/night1/c3/2026-11-30/customers.parquet", b"c3 bytes"),
            ("lake/night1/crayon/2026-11-30/customers.parquet", b"crayon"),
            (
                "lake/night1/all-vendors.csv",
                b"not read: the Parquet files are",
            ),
        ])
    }

    /// The downloaded files: (URL, bytes of the copy).
    fn copies(files: &[Located]) -> Vec<(String, Vec<u8>)> {
        (files.iter())
            .map(|f| (f.shown.clone(), std::fs::read(&f.path).unwrap()))
            .collect()
    }

    #[test]
    fn a_prefix_or_its_manifest_downloads_the_files_the_manifest_lists() {
        let store = night();
        for given in ["s3://b/lake/night1", "s3://b/lake/night1/manifest.json"] {
            let (dir, files) = download_from(&*store, &url(given)).unwrap();
            assert_eq!(
                copies(&files),
                [
                    (
                        "s3://b/lake/night1/c3/2026-11-30/customers.parquet".to_string(),
                        b"c3 bytes".to_vec()
                    ),
                    (
                        "s3://b/lake/night1/crayon/2026-11-30/customers.parquet".to_string(),
                        b"crayon".to_vec()
                    ),
                ],
                "{given}"
            );
            assert!(files.iter().all(|f| f.path.starts_with(dir.path())));
            let kept = dir.path().to_path_buf();
            drop(dir);
            assert!(!kept.exists(), "the copies go with the folder");
        }
    }

    #[test]
    fn one_file_downloads_alone() {
        let store = night();
        let given = "s3://b/lake/night1/crayon/2026-11-30/customers.parquet";
        let (_dir, files) = download_from(&*store, &url(given)).unwrap();
        assert_eq!(copies(&files), [(given.to_string(), b"crayon".to_vec())]);
    }

    /// `run --diff-against` calls diff on a run's runtime: the download waits on it, not on a
    /// runtime of its own (which tokio refuses inside another).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn it_downloads_on_a_multi_threaded_runtime_too() {
        let store = Arc::new(InMemory::new());
        let key = Key::from("x/one.csv");
        store.put(&key, b"id\n1\n".to_vec().into()).await.unwrap();
        let (_dir, files) = download_from(&*store, &url("az://c/x/one.csv")).unwrap();
        assert_eq!(
            copies(&files),
            [("az://c/x/one.csv".into(), b"id\n1\n".to_vec())]
        );
    }

    #[test]
    fn what_is_missing_says_whose_fault_it_is() {
        let store = night();
        let absent = download_from(&*store, &url("s3://b/lake/night2")).unwrap_err();
        let DiffError::Usage(message) = absent else {
            panic!("{absent:?}")
        };
        assert!(
            message.starts_with("s3://b/lake/night2/manifest.json: no such object")
                && message.contains("a folder (prefix) holding one"),
            "{message}"
        );
        // The manifest names a file the store lost: the export is broken, not the command line.
        let lost = store_with(&[("lake/night1/manifest.json", MANIFEST)]);
        let broken = download_from(&*lost, &url("s3://b/lake/night1")).unwrap_err();
        let DiffError::Read(message) = broken else {
            panic!("{broken:?}")
        };
        assert!(
            message.starts_with("cannot read s3://b/lake/night1/c3/2026-11-30/customers.parquet")
                && message.contains("manifest names it"),
            "{message}"
        );
    }

    #[test]
    fn a_manifest_path_leaving_its_folder_is_refused() {
        for path in [
            "../night0/customers.parquet",
            "/etc/x.csv",
            "a//b.csv",
            "a\\..\\b.csv",
        ] {
            let manifest = format!(
                r#"{{"outputs": [{{"path": "{}"}}]}}"#,
                path.replace('\\', "\\\\")
            );
            let store = store_with(&[("lake/manifest.json", manifest.as_bytes())]);
            let refused = download_from(&*store, &url("gs://b/lake")).unwrap_err();
            assert!(
                matches!(&refused, DiffError::Usage(m) if m.contains("not a plain relative path")),
                "{path}: {refused:?}"
            );
        }
        assert!(is_plain("c3/2026-11-30/customers.parquet"));
    }

    #[test]
    fn refused_credentials_are_a_usage_error_naming_the_object() {
        let source: Box<dyn std::error::Error + Send + Sync> = "HTTP 403".into();
        let e = object_store::Error::PermissionDenied {
            path: "lake/x.csv".into(),
            source,
        };
        let error = store_error("s3://b/lake/x.csv", &e, Named::ByManifest);
        assert!(
            matches!(&error, DiffError::Usage(m) if m.starts_with("s3://b/lake/x.csv: the store refused the credentials")),
            "{error:?}"
        );
    }
}
