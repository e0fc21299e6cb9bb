//! The output root a run holds — a local folder or a store prefix — and the commit that
//! publishes its files there, the manifest last.
//!
//! Both kinds keep one promise: nothing appears at a final path until every source has
//! succeeded, and a failure leaves the previous outputs and manifest as they were. How each keeps
//! it is told in [`super::local`] (rename, journal, lock) and [`super::store::root`] (staging
//! keys, copies, a journal and a lease in the store).

use std::path::{Path, PathBuf};

use super::local::LocalRoot;
use super::store::{Location, StoreOptions, StoreRoot};
use super::{Finished, Format, LoadError, Manifest, OutputSummary, Writer};
use crate::model::Schema;

/// How a run takes its root.
#[derive(Debug, Clone, Default)]
pub struct RootOptions {
    /// Wait for another run to release a local root instead of failing.
    pub wait: bool,
    /// Let folders under a local root be symbolic links.
    pub follow_symlinks: bool,
    /// A store's settings beyond its URL.
    pub store: StoreOptions,
}

/// The output root of a run.
#[derive(Debug)]
pub enum Root {
    Local(LocalRoot),
    Store(StoreRoot),
}

impl Root {
    /// Takes `location` as this run's root: a local folder (locked, recovered), or a store prefix
    /// (checked by writing this run's lease, recovered).
    pub async fn hold(
        location: &Location,
        run_id: &str,
        owner: &str,
        options: RootOptions,
    ) -> Result<Root, LoadError> {
        Ok(match location {
            Location::Local(dir) => Root::Local(LocalRoot::hold(dir, run_id, owner, &options)?),
            Location::Store(url) => {
                Root::Store(StoreRoot::hold(url, &options.store, run_id, owner).await?)
            }
        })
    }

    /// Where the root is: the resolved folder, or the store's bucket and prefix.
    pub fn location(&self) -> Location {
        match self {
            Root::Local(root) => Location::Local(root.dir().to_path_buf()),
            Root::Store(root) => Location::Store(root.url().clone()),
        }
    }

    /// What output paths are planned under: the resolved folder, or the store's prefix as a
    /// relative path.
    pub fn dir(&self) -> PathBuf {
        self.location().planning_dir()
    }

    /// Starts a file to be published at `final_path`.
    pub fn create(
        &self,
        final_path: &Path,
        format: &Format,
        schema: Schema,
    ) -> Result<Writer, LoadError> {
        match self {
            Root::Local(root) => root.create(final_path, format, schema),
            Root::Store(root) => root.create(final_path, format, schema),
        }
    }

    /// Publishes `files` and then the manifest at `manifest_path`, all or nothing.
    pub async fn commit(
        &self,
        files: Vec<Finished>,
        manifest_path: &Path,
        manifest: &Manifest,
    ) -> Result<Vec<OutputSummary>, PublishError> {
        match self {
            Root::Local(root) => {
                let mut files = files;
                let staged = root.stage_manifest(manifest_path, manifest);
                files.push(staged.map_err(PublishError::NothingPublished)?);
                root.commit(files)
            }
            Root::Store(root) => root.commit(files, manifest_path, manifest).await,
        }
    }

    /// Removes what a failed run staged. A local root's temporary files go when it is dropped;
    /// a store's staging objects need requests.
    pub async fn abandon(&self) {
        if let Root::Store(root) = self {
            root.abandon().await;
        }
    }
}

/// Why publishing failed, and in what state it left the outputs.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}; nothing was published, the earlier outputs are as they were")]
    NothingPublished(LoadError),
    #[error(
        "{cause}; publishing stopped half-way and could not be fully undone: {}",
        stuck.join("; ")
    )]
    Mixed {
        cause: LoadError,
        stuck: Vec<String>,
    },
}
