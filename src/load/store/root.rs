//! A store prefix as a run's output root, and the commit that publishes a run's files there.
//!
//! Object stores have no rename and no transaction, so a run commits in steps whose every state a
//! reader can tell apart, with `manifest.json` the commit marker:
//! 1. **Staging.** Every file streams to a staging key under the run's own folder,
//!    `{prefix}/.customer-export/runs/{run_id}/staging/…`; nothing appears at a final key.
//! 2. **Journal.** When every source has succeeded, the planned moves are written to the run's
//!    `journal.json`: for each final key, its staging key and, when the key holds an object
//!    already, a backup key.
//! 3. **Moves.** File by file, the previous object is copied to its backup, then the staged one
//!    copied over the final key (a server-side copy: the key shows the old object or the whole
//!    new one, never a part).
//! 4. **Manifest.** `manifest.json` is written last, naming every file with its size, rows and
//!    SHA-256: from here on the run is committed.
//! 5. **Cleanup.** The run's folder (staging, backups, journal, lease) is deleted.
//!
//! A failure before 4 copies every backup back and deletes the keys that were new, then removes
//! the run's folder: the previous objects and manifest are as they were, and no object is left at
//! a new final key. A run killed outright leaves its folder; the next run on the prefix finds it
//! by its stale lease (a run refreshes `lease` every minute) and finishes the job: rolled back
//! unless the manifest at its key is that run's or a later one's, then deleted. Runs in progress
//! are never touched, so jobs may share a bucket: distinct run ids never collide, and two
//! commits of one final key leave the later one, whole.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::upload::Upload;
use super::{StoreOptions, StoreUrl, describe, key_text, open};
use std::io::Write as _;

use crate::load::publish::{Finished, HashingWriter, StageAt};
use crate::load::{Format, LoadError, Manifest, OutputSummary, PublishError, Writer};
use crate::model::Schema;

/// The folder under the prefix that holds the runs' staging, journals and leases.
pub const STATE_DIR: &str = ".customer-export/runs";
/// How often a run refreshes its lease.
const HEARTBEAT: Duration = Duration::from_secs(60);
/// A run whose lease is this much older than ours is taken for dead.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// A store prefix held by this run; see the module header.
pub struct StoreRoot {
    url: StoreUrl,
    store: Arc<dyn ObjectStore>,
    run_id: String,
    runtime: Handle,
    heartbeat: JoinHandle<()>,
    stale_after: Duration,
}

impl std::fmt::Debug for StoreRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreRoot")
            .field("url", &self.url.to_string())
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// One planned move of the commit, as the journal records it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Move {
    target: String,
    staged: String,
    /// Where the previous object goes; none when the key is new.
    backup: Option<String>,
}

/// The run's journal: its moves and where its manifest goes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Journal {
    run_id: String,
    manifest: String,
    moves: Vec<Move>,
}

impl StoreRoot {
    /// Opens the store `url` names and takes its prefix as this run's root. The preflight writes
    /// the run's lease, so a missing bucket, refused credentials or a read-only role fail here,
    /// before any vendor is called. Then what killed runs left behind is finished.
    pub async fn hold(
        url: &StoreUrl,
        options: &StoreOptions,
        run_id: &str,
        owner: &str,
    ) -> Result<StoreRoot, LoadError> {
        let store = open(url, options).map_err(|detail| LoadError::Store {
            action: format!("use the output root {url}"),
            detail,
        })?;
        Self::hold_in(url.clone(), store, run_id, owner, STALE_AFTER).await
    }

    /// [`StoreRoot::hold`] on a store already opened, taking runs whose lease is `stale_after`
    /// older than ours for dead (tests use an in-memory store and no wait).
    pub async fn hold_in(
        url: StoreUrl,
        store: Arc<dyn ObjectStore>,
        run_id: &str,
        owner: &str,
        stale_after: Duration,
    ) -> Result<StoreRoot, LoadError> {
        let lease_key = url.key(&format!("{STATE_DIR}/{run_id}/lease"));
        let lease = serde_json::json!({
            "run_id": run_id,
            "owner": owner,
            "pid": std::process::id(),
            "started_at": jiff::Timestamp::now().to_string(),
        })
        .to_string();
        let put = store.put(&lease_key, lease.clone().into()).await;
        put.map_err(|e| LoadError::Store {
            action: format!("write to the output root {url}"),
            detail: format!(
                "{}; check the bucket or container exists and the credentials may write to it",
                describe(&e)
            ),
        })?;
        let heartbeat = tokio::spawn(refresh_lease(store.clone(), lease_key, lease));
        let root = StoreRoot {
            url,
            store,
            run_id: run_id.to_string(),
            runtime: Handle::current(),
            heartbeat,
            stale_after,
        };
        root.recover().await;
        Ok(root)
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// The store the run writes to (to read its staged files back).
    pub fn store(&self) -> &dyn ObjectStore {
        &*self.store
    }

    /// The run's folder, `{prefix}/.customer-export/runs/{run_id}`.
    fn run_dir(&self) -> String {
        self.url.join(&format!("{STATE_DIR}/{}", self.run_id))
    }

    /// Where a planned path is staged: the same path under the run's staging folder.
    fn staging_key(&self, final_path: &Path) -> Key {
        let key = key_text(final_path);
        let relative = key
            .strip_prefix(&self.url.prefix)
            .unwrap_or(&key)
            .trim_start_matches('/');
        Key::from(format!("{}/staging/{relative}", self.run_dir()))
    }

    /// Starts a file to be published at `final_path`, streamed to its staging key.
    pub fn create(
        &self,
        final_path: &Path,
        format: &Format,
        schema: Schema,
    ) -> Result<Writer, LoadError> {
        let upload = Upload::new(
            self.store.clone(),
            self.staging_key(final_path),
            self.runtime.clone(),
        );
        Writer::create_at(final_path, format, schema, StageAt::Upload(upload))
    }

    /// Publishes `files` and then the manifest at `manifest_path`; see the module header.
    pub async fn commit(
        &self,
        files: Vec<Finished>,
        manifest_path: &Path,
        manifest: &Manifest,
    ) -> Result<Vec<OutputSummary>, PublishError> {
        let moves = self
            .plan_moves(&files)
            .await
            .map_err(PublishError::NothingPublished)?;
        let manifest_key = key_text(manifest_path);
        let json = crate::load::manifest::to_json(manifest_path, manifest)
            .map_err(PublishError::NothingPublished)?;
        let journal = Journal {
            run_id: self.run_id.clone(),
            manifest: manifest_key.clone(),
            moves,
        };
        let journal_text = serde_json::to_vec_pretty(&journal).unwrap_or_default();
        self.put(&format!("{}/journal.json", self.run_dir()), journal_text)
            .await
            .map_err(PublishError::NothingPublished)?;
        let mut done = Vec::new();
        for step in &journal.moves {
            if let Err(e) = self.apply(step).await {
                return Err(self.roll_back(&done, e).await);
            }
            done.push(step.clone());
        }
        if let Err(e) = self.put(&manifest_key, json.clone()).await {
            return Err(self.roll_back(&done, e).await);
        }
        let mut summaries: Vec<OutputSummary> = files.into_iter().map(|f| f.summary).collect();
        summaries.push(manifest_summary(manifest_path, &json));
        self.remove_run_dir().await;
        Ok(summaries)
    }

    /// The moves of a commit: every final key once, a backup for each that holds an object.
    async fn plan_moves(&self, files: &[Finished]) -> Result<Vec<Move>, LoadError> {
        let mut moves = Vec::with_capacity(files.len());
        let mut seen = std::collections::HashSet::new();
        for (i, file) in files.iter().enumerate() {
            let path = &file.summary.path;
            if !seen.insert(path.clone()) {
                return Err(LoadError::Collision { path: path.clone() });
            }
            let target = key_text(path);
            let exists = match self.store.head(&Key::from(target.as_str())).await {
                Ok(_) => true,
                Err(object_store::Error::NotFound { .. }) => false,
                Err(e) => return Err(self.error(format!("read {target}"), e)),
            };
            moves.push(Move {
                staged: key_text(file.temp_path()),
                backup: exists.then(|| format!("{}/backup/{i}", self.run_dir())),
                target,
            });
        }
        Ok(moves)
    }

    /// Moves the previous object aside (if any), then the staged one into place.
    async fn apply(&self, step: &Move) -> Result<(), LoadError> {
        let target = Key::from(step.target.as_str());
        if let Some(backup) = &step.backup {
            let backup = Key::from(backup.as_str());
            let copied = self.store.copy(&target, &backup).await;
            copied.map_err(|e| self.error(format!("keep the previous {}", step.target), e))?;
        }
        let staged = Key::from(step.staged.as_str());
        let copied = self.store.copy(&staged, &target).await;
        copied.map_err(|e| self.error(format!("publish {}", self.url.display_key(&step.target)), e))
    }

    /// Copies every backup back and deletes the keys that were new, newest move first; says in
    /// what state the outputs are.
    async fn roll_back(&self, done: &[Move], cause: LoadError) -> PublishError {
        let mut stuck = Vec::new();
        for step in done.iter().rev() {
            let target = Key::from(step.target.as_str());
            let undone = match &step.backup {
                Some(backup) => self.store.copy(&Key::from(backup.as_str()), &target).await,
                None => delete_quietly(&*self.store, &target).await,
            };
            if let Err(e) = undone {
                let at = self.url.display_key(&step.target);
                stuck.push(match &step.backup {
                    Some(backup) => format!(
                        "{at} could not be put back ({e}); the previous object is at {}",
                        self.url.display_key(backup)
                    ),
                    None => format!("{at} is new and could not be removed ({e})"),
                });
            }
        }
        if stuck.is_empty() {
            self.remove_run_dir().await;
            PublishError::NothingPublished(cause)
        } else {
            // The backups stay with the journal; the next run finishes the rollback.
            PublishError::Mixed { cause, stuck }
        }
    }

    /// Removes what this run staged: a run that failed before its commit.
    pub async fn abandon(&self) {
        self.remove_run_dir().await;
    }

    async fn remove_run_dir(&self) {
        let dir = Key::from(self.run_dir());
        remove_folder(&*self.store, &dir).await;
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), LoadError> {
        let put = self
            .store
            .put(&Key::from(key), PutPayload::from(bytes))
            .await;
        put.map(drop)
            .map_err(|e| self.error(format!("write {}", self.url.display_key(key)), e))
    }

    fn error(&self, action: String, e: object_store::Error) -> LoadError {
        LoadError::Store {
            action,
            detail: describe(&e),
        }
    }

    /// Finishes what killed runs left on this prefix: their lease is stale. Best effort: a
    /// failure here is a warning, the run goes on.
    async fn recover(&self) {
        let state = Key::from(self.url.join(STATE_DIR));
        let Ok(listing) = self.store.list_with_delimiter(Some(&state)).await else {
            return;
        };
        let own_dir = Key::from(self.run_dir());
        let Some(now) = newest(&*self.store, &own_dir).await else {
            return;
        };
        for dir in listing.common_prefixes {
            if dir == own_dir {
                continue;
            }
            match newest(&*self.store, &dir).await {
                Some(seen) if now - seen < self.stale_after.as_secs() as i64 => continue,
                _ => {}
            }
            let journal = Key::from(format!("{dir}/journal.json"));
            if let Some(journal) = read_journal(&*self.store, &journal).await
                && !self.committed_since(&journal).await
            {
                let moves: Vec<Move> = journal.moves.clone();
                let cause = LoadError::Store {
                    action: format!("finish run {}", journal.run_id),
                    detail: "it was interrupted while publishing".into(),
                };
                if let PublishError::Mixed { stuck, .. } = self.roll_back(&moves, cause).await {
                    tracing::warn!(run = %journal.run_id, ?stuck, "Could not roll back an interrupted run's publication.");
                    continue;
                }
            }
            remove_folder(&*self.store, &dir).await;
            tracing::warn!(folder = %self.url.display_key(dir.as_ref()), "Removed what an interrupted run left in the output root.");
        }
    }

    /// Whether the manifest at the journal's key is that run's or a later run's: then its moves
    /// stand (committed, or superseded by a later commit).
    async fn committed_since(&self, journal: &Journal) -> bool {
        let Ok(found) = self.store.get(&Key::from(journal.manifest.as_str())).await else {
            return false;
        };
        let Ok(bytes) = found.bytes().await else {
            return false;
        };
        let run_id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|m| m.get("run_id")?.as_str().map(str::to_string));
        // Run ids are UUIDv7: they sort by their start.
        run_id.is_some_and(|id| id >= journal.run_id)
    }
}

impl Drop for StoreRoot {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Re-writes the lease every [`HEARTBEAT`], so other runs see this one is alive.
async fn refresh_lease(store: Arc<dyn ObjectStore>, key: Key, lease: String) {
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        let _ = store.put(&key, lease.clone().into()).await;
    }
}

/// The newest modification under `dir`, in seconds since the epoch (the store's clock).
async fn newest(store: &dyn ObjectStore, dir: &Key) -> Option<i64> {
    let objects: Vec<_> = store.list(Some(dir)).try_collect().await.ok()?;
    objects.iter().map(|o| o.last_modified.timestamp()).max()
}

async fn read_journal(store: &dyn ObjectStore, key: &Key) -> Option<Journal> {
    let bytes = store.get(key).await.ok()?.bytes().await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Deletes every object under `dir`. Best effort.
async fn remove_folder(store: &dyn ObjectStore, dir: &Key) {
    let Ok(objects) = store.list(Some(dir)).try_collect::<Vec<_>>().await else {
        return;
    };
    for object in objects {
        let _ = delete_quietly(store, &object.location).await;
    }
}

/// Deletes `key`; one already gone is fine (Azure says NotFound where S3 says nothing).
async fn delete_quietly(store: &dyn ObjectStore, key: &Key) -> object_store::Result<()> {
    match store.delete(key).await {
        Err(object_store::Error::NotFound { .. }) => Ok(()),
        other => other,
    }
}

/// The manifest's own record, counted and hashed as every output is.
fn manifest_summary(path: &Path, json: &[u8]) -> OutputSummary {
    let mut hashing = HashingWriter::new(std::io::sink());
    // Writing to a sink cannot fail.
    let _ = hashing.write_all(json);
    let (_, bytes, sha256) = hashing.finish();
    OutputSummary {
        path: path.to_path_buf(),
        format: "json",
        rows: 0,
        bytes,
        sha256,
        schema: Vec::new(),
        truncated_cells: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use object_store::memory::InMemory;

    use super::*;
    use crate::load::store::Cloud;
    use crate::load::{CsvOptions, RunStatus};
    use crate::model::{Cell, Column, ColumnType};

    const KEEP: Duration = Duration::from_secs(3600);

    fn url() -> StoreUrl {
        StoreUrl {
            cloud: Cloud::S3,
            bucket_url: "s3://test".into(),
            prefix: "lake".into(),
        }
    }

    async fn snapshot(store: &dyn ObjectStore) -> BTreeMap<String, Vec<u8>> {
        let mut all = BTreeMap::new();
        let objects: Vec<_> = store.list(None).try_collect().await.unwrap();
        for o in objects {
            let bytes = store.get(&o.location).await.unwrap().bytes().await.unwrap();
            all.insert(o.location.to_string(), bytes.to_vec());
        }
        all
    }

    fn manifest(run_id: &str) -> Manifest {
        Manifest {
            pipeline: "nightly".into(),
            run_id: run_id.into(),
            started_at: String::new(),
            finished_at: String::new(),
            status: RunStatus::Succeeded,
            sources: vec![],
            outputs: vec![],
            errors: vec![],
        }
    }

    /// A CSV of `ids` staged by `root` for `path` (under the prefix), written and finished on a
    /// blocking thread as a run does.
    async fn staged(root: &StoreRoot, path: &str, ids: &[&str]) -> Finished {
        let schema: Schema = vec![Column::new("id", ColumnType::Utf8)].into();
        let format = Format::Csv(CsvOptions::default());
        let mut writer = root
            .create(&Path::new("lake").join(path), &format, schema)
            .unwrap();
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            for id in &ids {
                writer.write_row(&[Cell::Str(id.into())]).unwrap();
            }
            writer.finish().unwrap()
        })
        .await
        .unwrap()
    }

    async fn hold(store: &Arc<InMemory>, run_id: &str, stale_after: Duration) -> StoreRoot {
        let store: Arc<dyn ObjectStore> = store.clone();
        StoreRoot::hold_in(url(), store, run_id, "test", stale_after)
            .await
            .unwrap()
    }

    /// A run killed while publishing: its journal written, its first `moved` moves made, its
    /// lease no longer refreshed.
    async fn killed_while_publishing(killed: StoreRoot, files: Vec<Finished>, moved: usize) {
        let moves = killed.plan_moves(&files).await.unwrap();
        let journal = Journal {
            run_id: killed.run_id.clone(),
            manifest: "lake/manifest.json".into(),
            moves: moves.clone(),
        };
        let journal_key = format!("{}/journal.json", killed.run_dir());
        let text = serde_json::to_vec(&journal).unwrap();
        killed.put(&journal_key, text).await.unwrap();
        for step in &moves[..moved] {
            killed.apply(step).await.unwrap();
        }
        killed.heartbeat.abort();
        // Dropped without its cleanup, as a killed process would leave it.
        std::mem::forget(killed);
    }

    fn run_dirs(objects: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
        objects
            .keys()
            .filter(|k| k.contains(".customer-export"))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_publishes_every_file_then_the_manifest_and_leaves_no_staging() {
        let store = Arc::new(InMemory::new());
        let root = hold(&store, "01-run", KEEP).await;
        let a = staged(&root, "a.csv", &["1", "2"]).await;
        let b = staged(&root, "sub/b.csv", &["3"]).await;
        assert!(
            !snapshot(&*store).await.contains_key("lake/a.csv"),
            "nothing at a final key before the commit"
        );
        let summaries = root
            .commit(
                vec![a, b],
                Path::new("lake/manifest.json"),
                &manifest("01-run"),
            )
            .await
            .unwrap();
        assert_eq!(summaries.len(), 3);
        let objects = snapshot(&*store).await;
        assert_eq!(objects["lake/a.csv"], b"id\r\n1\r\n2\r\n");
        assert_eq!(objects["lake/sub/b.csv"], b"id\r\n3\r\n");
        let written: serde_json::Value =
            serde_json::from_slice(&objects["lake/manifest.json"]).unwrap();
        assert_eq!(written["run_id"], "01-run");
        assert!(run_dirs(&objects).is_empty(), "{:?}", run_dirs(&objects));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_that_fails_half_way_puts_every_previous_object_back() {
        let store = Arc::new(InMemory::new());
        let root = hold(&store, "01-first", KEEP).await;
        let files = vec![
            staged(&root, "a.csv", &["old-a"]).await,
            staged(&root, "b.csv", &["old-b"]).await,
        ];
        let first = manifest("01-first");
        root.commit(files, Path::new("lake/manifest.json"), &first)
            .await
            .unwrap();
        drop(root);
        let before = snapshot(&*store).await;

        let root = hold(&store, "02-second", KEEP).await;
        let a = staged(&root, "a.csv", &["new-a"]).await;
        let new = staged(&root, "new.csv", &["new"]).await;
        let b = staged(&root, "b.csv", &["new-b"]).await;
        // The third move fails: its staged object is gone.
        store
            .delete(&Key::from(key_text(b.temp_path())))
            .await
            .unwrap();
        let err = root
            .commit(
                vec![a, new, b],
                Path::new("lake/manifest.json"),
                &manifest("02-second"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, PublishError::NothingPublished(_)), "{err}");
        assert!(err.to_string().contains("lake/b.csv"), "{err}");
        let after = snapshot(&*store).await;
        let lease = |k: &&String| !k.ends_with("/lease");
        assert_eq!(
            after.iter().filter(|(k, _)| lease(k)).collect::<Vec<_>>(),
            before.iter().filter(|(k, _)| lease(k)).collect::<Vec<_>>(),
            "the previous objects and manifest, byte for byte, and nothing new"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_next_run_rolls_back_a_run_killed_while_publishing() {
        let store = Arc::new(InMemory::new());
        let root = hold(&store, "01-first", KEEP).await;
        let files = vec![staged(&root, "a.csv", &["old-a"]).await];
        root.commit(
            files,
            Path::new("lake/manifest.json"),
            &manifest("01-first"),
        )
        .await
        .unwrap();
        drop(root);
        let before = snapshot(&*store).await;

        // A run killed after its moves, before its manifest: the new a.csv and new.csv in place,
        // the backup and journal in its folder, the manifest still the first run's.
        let killed = hold(&store, "02-killed", KEEP).await;
        let a = staged(&killed, "a.csv", &["new-a"]).await;
        let new = staged(&killed, "new.csv", &["new"]).await;
        killed_while_publishing(killed, vec![a, new], 2).await;
        assert_eq!(snapshot(&*store).await["lake/a.csv"], b"id\r\nnew-a\r\n");

        // A run that is alive (its lease fresh) is left alone...
        let _next = hold(&store, "03-next", KEEP).await;
        assert!(
            snapshot(&*store)
                .await
                .keys()
                .any(|k| k.contains("02-killed"))
        );
        // ...one whose lease is stale is rolled back and removed.
        let _later = hold(&store, "04-later", Duration::ZERO).await;
        let after = snapshot(&*store).await;
        assert_eq!(after["lake/a.csv"], before["lake/a.csv"]);
        assert_eq!(after["lake/manifest.json"], before["lake/manifest.json"]);
        assert!(!after.contains_key("lake/new.csv"));
        assert!(
            !after.keys().any(|k| k.contains("02-killed")),
            "{:?}",
            after.keys()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_run_whose_manifest_was_written_is_only_cleaned() {
        let store = Arc::new(InMemory::new());
        let killed = hold(&store, "01-killed", KEEP).await;
        let a = staged(&killed, "a.csv", &["a"]).await;
        killed_while_publishing(killed, vec![a], 1).await;
        // Its manifest went out before it could clean its folder.
        let manifest_path = Path::new("lake/manifest.json");
        let json = crate::load::manifest::to_json(manifest_path, &manifest("01-killed")).unwrap();
        let put = store
            .put(&Key::from("lake/manifest.json"), json.into())
            .await;
        put.unwrap();

        let _next = hold(&store, "02-next", Duration::ZERO).await;
        let after = snapshot(&*store).await;
        assert_eq!(
            after["lake/a.csv"], b"id\r\na\r\n",
            "committed: its files stand"
        );
        assert!(
            !after.keys().any(|k| k.contains("01-killed")),
            "{:?}",
            after.keys()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_file_streams_in_parts_and_arrives_whole() {
        let store = Arc::new(InMemory::new());
        let root = hold(&store, "01-big", KEEP).await;
        // About 12 MB: three parts.
        let ids: Vec<String> = (0..1_000_000).map(|i| format!("customer-{i:09}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let big = staged(&root, "big.csv", &ids).await;
        let (bytes, sha) = (big.summary.bytes, big.summary.sha256.clone());
        assert!(
            bytes > 2 * super::super::upload::PART_BYTES as u64,
            "{bytes}"
        );
        root.commit(
            vec![big],
            Path::new("lake/manifest.json"),
            &manifest("01-big"),
        )
        .await
        .unwrap();
        let objects = snapshot(&*store).await;
        let got = &objects["lake/big.csv"];
        assert_eq!(got.len() as u64, bytes);
        use sha2::{Digest, Sha256};
        let hex: String = Sha256::digest(got)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, sha);
    }
}
