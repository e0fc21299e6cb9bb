//! A local folder as a run's output root, and the one transaction that publishes its files there.
//!
//! Promises:
//! - **One run per root at a time.** [`LocalRoot::hold`] takes an advisory lock (`flock`) on
//!   `.customer-export.lock` in the root; a second run is refused with who holds it (pid, run,
//!   start), or waits with `wait`. The lock goes with the process, however it ends.
//! - **A wall.** The root is resolved once (it may itself be a symbolic link); below it no folder
//!   may be a symbolic link (it could lead anywhere), unless `follow_symlinks` says the operator
//!   links folders on purpose. Checked when a file is started and again before it is published.
//! - **All or nothing.** [`LocalRoot::commit`] checks every final path first (a folder in the way,
//!   two files at one path); then, file after file and the manifest last, moves the previous file
//!   aside and the new one in. Any failure puts every previous file back; success drops them.
//! - **A journal.** Every temporary file, every file moved aside and every file moved in is first
//!   written to `.customer-export.journal` (synced). A run that was killed leaves it behind, and
//!   the next run on the root undoes what it finds there before anything else: unfinished
//!   publications are rolled back, temporary files removed. Nothing else is ever deleted: the
//!   cleanup never walks folders, never follows links, never guesses by file name.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::publish::{Finished, StageAt};
use super::root::{PublishError, RootOptions};
use super::{Format, LoadError, OutputSummary, Writer};
use crate::model::Schema;

/// The lock file in the root; it holds its owner's description.
pub const LOCK_FILE: &str = ".customer-export.lock";
/// The journal file in the root.
pub const JOURNAL_FILE: &str = ".customer-export.journal";

/// A local output root held by this run; see the module header.
#[derive(Debug)]
pub struct LocalRoot {
    dir: PathBuf,
    run_id: String,
    follow_symlinks: bool,
    /// Held for as long as the `Root` lives.
    _lock: File,
    journal: Mutex<Journal>,
    /// Folders this run made, outermost first: removed again if they are empty when it ends.
    made: Mutex<Vec<PathBuf>>,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Entry {
    /// A temporary file was started.
    Temp { path: PathBuf },
    /// A folder for a file is about to be made.
    Folder { path: PathBuf },
    /// Publishing began.
    Begin,
    /// The previous file at `path` is about to move to `backup` (none: there was none).
    Aside {
        path: PathBuf,
        backup: Option<PathBuf>,
    },
    /// The new file is about to move in at `path`.
    Placed { path: PathBuf },
    /// Every new file is in place: the previous ones can go.
    Committed,
}

/// The journal file, appended to and synced entry by entry.
#[derive(Debug)]
struct Journal {
    path: PathBuf,
    file: File,
    entries: Vec<Entry>,
}

impl LocalRoot {
    /// Takes `dir` (created if missing) as this run's output root; first undoes what a killed
    /// run left there.
    pub fn hold(
        dir: &Path,
        run_id: &str,
        owner: &str,
        options: &RootOptions,
    ) -> Result<LocalRoot, LoadError> {
        fs::create_dir_all(dir).map_err(|source| LoadError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let dir = fs::canonicalize(dir).map_err(|source| LoadError::CreateDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let lock = lock(&dir, options.wait)?;
        describe_owner(&lock, &dir, run_id, owner)?;
        let journal_path = dir.join(JOURNAL_FILE);
        recover(&journal_path)?;
        let journal = Journal::create(journal_path)?;
        Ok(LocalRoot {
            dir,
            run_id: run_id.to_string(),
            follow_symlinks: options.follow_symlinks,
            _lock: lock,
            journal: Mutex::new(journal),
            made: Mutex::new(Vec::new()),
        })
    }

    /// The root, resolved: relative output paths are planned under it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a file to be published at `final_path`, which must lie under the root: its folders
    /// are checked against the wall, then made, and its temporary file is journaled.
    pub fn create(
        &self,
        final_path: &Path,
        format: &Format,
        schema: Schema,
    ) -> Result<Writer, LoadError> {
        self.check_within(final_path)?;
        for dir in self.missing_folders(final_path) {
            // Journaled before it exists: a killed run's empty folders go with its temp files.
            self.note(Entry::Folder { path: dir.clone() })?;
            self.made
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(dir);
        }
        let writer = Writer::create_at(
            final_path,
            format,
            schema,
            StageAt::Beside(Some(&self.run_id)),
        )?;
        self.note(Entry::Temp {
            path: writer.temp_path().to_path_buf(),
        })?;
        Ok(writer)
    }

    /// Stages the manifest beside the files it describes (its paths relative to its folder).
    pub fn stage_manifest(
        &self,
        path: &Path,
        manifest: &super::Manifest,
    ) -> Result<Finished, LoadError> {
        self.check_within(path)?;
        let staged = super::manifest::stage(path, manifest, &self.run_id)?;
        self.note(Entry::Temp {
            path: staged.temp_path().to_path_buf(),
        })?;
        Ok(staged)
    }

    /// The folders between the root and `path`'s that do not exist yet, outermost first.
    fn missing_folders(&self, path: &Path) -> Vec<PathBuf> {
        let mut missing = Vec::new();
        let mut at = path.parent();
        while let Some(dir) = at {
            if dir == self.dir || !dir.starts_with(&self.dir) || dir.exists() {
                break;
            }
            missing.push(dir.to_path_buf());
            at = dir.parent();
        }
        missing.reverse();
        missing
    }

    /// Fails unless `path` lies under the root with no symbolic link among its folders (unless
    /// links are allowed).
    pub fn check_within(&self, path: &Path) -> Result<(), LoadError> {
        let outside = || LoadError::OutsideRoot {
            path: path.to_path_buf(),
            root: self.dir.clone(),
        };
        let relative = path.strip_prefix(&self.dir).map_err(|_| outside())?;
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(outside());
        }
        if self.follow_symlinks {
            return Ok(());
        }
        let mut at = self.dir.clone();
        for folder in relative.parent().into_iter().flat_map(Path::components) {
            at.push(folder);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(LoadError::SymlinkUnderRoot {
                        link: at,
                        root: self.dir.clone(),
                    });
                }
                Ok(_) => {}
                // The rest is to be made, by us.
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(source) => return Err(LoadError::CreateDir { dir: at, source }),
            }
        }
        Ok(())
    }

    /// Publishes `files` (the manifest last) as one transaction; see the module header.
    pub fn commit(&self, files: Vec<Finished>) -> Result<Vec<OutputSummary>, PublishError> {
        self.preflight(&files)?;
        let mut done: Vec<Moved> = Vec::new();
        self.note(Entry::Begin).map_err(not_published)?;
        for file in files {
            match self.swap(file) {
                Ok(moved) => done.push(moved),
                Err((failed, error)) => {
                    done.extend(failed);
                    return Err(self.roll_back(done, error));
                }
            }
        }
        self.note(Entry::Committed)
            .map_err(|e| self.roll_back(std::mem::take(&mut done), e))?;
        let mut summaries = Vec::with_capacity(done.len());
        for moved in done {
            if let Some(backup) = &moved.backup {
                // The commit is recorded: a backup left behind is removed by the next run.
                let _ = fs::remove_file(backup);
            }
            sync_dir(&moved.summary.path);
            summaries.push(moved.summary);
        }
        self.clear_journal();
        Ok(summaries)
    }

    /// Every final path checked before anything moves: under the wall, not a folder, not twice.
    fn preflight(&self, files: &[Finished]) -> Result<(), PublishError> {
        let mut seen = std::collections::HashSet::new();
        for file in files {
            let path = &file.summary.path;
            self.check_within(path).map_err(not_published)?;
            if !seen.insert(path.clone()) {
                return Err(not_published(LoadError::Collision { path: path.clone() }));
            }
            if let Ok(meta) = fs::symlink_metadata(path)
                && meta.is_dir()
            {
                return Err(not_published(LoadError::FolderInTheWay {
                    path: path.clone(),
                }));
            }
            if fs::symlink_metadata(file.temp_path()).is_err() {
                return Err(not_published(LoadError::TempGone {
                    path: path.clone(),
                    temp: file.temp_path().to_path_buf(),
                }));
            }
        }
        Ok(())
    }

    /// Moves the previous file at a final path aside (if any), then the new one in.
    #[allow(clippy::result_large_err)]
    fn swap(&self, file: Finished) -> Result<Moved, (Option<Moved>, LoadError)> {
        let path = file.summary.path.clone();
        let backup = fs::symlink_metadata(&path)
            .is_ok()
            .then(|| backup_path(&path, &self.run_id));
        let entry = Entry::Aside {
            path: path.clone(),
            backup: backup.clone(),
        };
        self.note(entry).map_err(|e| (None, e))?;
        if let Some(backup) = &backup {
            fs::rename(&path, backup).map_err(|source| {
                (
                    None,
                    LoadError::Publish {
                        path: path.clone(),
                        source,
                    },
                )
            })?;
        }
        let aside = Moved {
            summary: file.summary.clone(),
            backup,
            placed: false,
        };
        if let Err(e) = self.note(Entry::Placed { path: path.clone() }) {
            return Err((Some(aside), e));
        }
        match file.place() {
            Ok(summary) => Ok(Moved {
                summary,
                placed: true,
                ..aside
            }),
            Err(e) => Err((Some(aside), e)),
        }
    }

    /// Puts every previous file back, newest move first; says what state the outputs are in.
    fn roll_back(&self, moved: Vec<Moved>, cause: LoadError) -> PublishError {
        let mut stuck = Vec::new();
        for m in moved.into_iter().rev() {
            let path = &m.summary.path;
            let undone = match (&m.backup, m.placed) {
                (Some(backup), _) => fs::rename(backup, path),
                (None, true) => fs::remove_file(path),
                (None, false) => Ok(()),
            };
            if let Err(e) = undone {
                stuck.push(match &m.backup {
                    Some(backup) => format!(
                        "{} could not be put back ({e}); the previous file is at {}",
                        path.display(),
                        backup.display()
                    ),
                    None => format!("{} is new and could not be removed ({e})", path.display()),
                });
            }
        }
        if stuck.is_empty() {
            self.clear_journal();
            PublishError::NothingPublished(cause)
        } else {
            PublishError::Mixed { cause, stuck }
        }
    }

    fn note(&self, entry: Entry) -> Result<(), LoadError> {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal.append(entry)
    }

    /// Forgets what the journal holds: its temporary files are gone (published or deleted).
    fn clear_journal(&self) {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        journal.clear();
    }
}

impl Drop for LocalRoot {
    /// This run's temporary files go with it (an interrupted run, a failed one): any still there
    /// are removed, then the journal is emptied, then the folders the run made and left empty.
    /// A publish in progress is left to the journal.
    fn drop(&mut self) {
        let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if journal.entries.contains(&Entry::Begin) {
            return;
        }
        for entry in &journal.entries {
            if let Entry::Temp { path } = entry {
                let _ = fs::remove_file(path);
            }
        }
        journal.clear();
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        // Innermost first; only an empty folder can be removed: one holding a file stays.
        for dir in made.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// A file moved by a commit: its summary, where the previous one went, and whether the new one
/// is in place.
#[derive(Debug)]
struct Moved {
    summary: OutputSummary,
    backup: Option<PathBuf>,
    placed: bool,
}

fn not_published(e: LoadError) -> PublishError {
    PublishError::NothingPublished(e)
}

/// `.{name}.{run_id}.cebak` beside `path`.
fn backup_path(path: &Path, run_id: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{run_id}.cebak"))
}

/// Takes the root's lock, waiting for it or naming its holder.
fn lock(dir: &Path, wait: bool) -> Result<File, LoadError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| LoadError::Create {
            path: path.clone(),
            source,
        })?;
    let taken = if wait {
        file.lock().map(|()| true)
    } else {
        match file.try_lock() {
            Ok(()) => Ok(true),
            Err(fs::TryLockError::WouldBlock) => Ok(false),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    };
    match taken {
        Ok(true) => Ok(file),
        Ok(false) => Err(LoadError::Locked {
            root: dir.to_path_buf(),
            holder: fs::read_to_string(&path)
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
        }),
        Err(source) => Err(LoadError::Create { path, source }),
    }
}

/// Writes who holds the lock into the lock file, for the message another run shows.
fn describe_owner(lock: &File, dir: &Path, run_id: &str, owner: &str) -> Result<(), LoadError> {
    let text = format!(
        "pid {}, run {run_id} of {owner}, started at {}",
        std::process::id(),
        jiff::Timestamp::now()
    );
    let write = |mut file: &File| {
        file.set_len(0)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()
    };
    write(lock).map_err(|source| LoadError::Write {
        path: dir.join(LOCK_FILE),
        source,
    })
}

/// Undoes what a killed run's journal records, then empties it.
fn recover(path: &Path) -> Result<(), LoadError> {
    let entries = match File::open(path) {
        Ok(file) => read_entries(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(LoadError::Journal {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if entries.is_empty() {
        // Nothing to undo; a torn line, if any, must not prefix this run's first entry.
        return empty_journal(path);
    }
    let committed = entries.contains(&Entry::Committed);
    let placed = |p: &Path| {
        entries.contains(&Entry::Placed {
            path: p.to_path_buf(),
        })
    };
    for entry in entries.iter().rev() {
        match entry {
            Entry::Temp { path } => {
                let _ = fs::remove_file(path);
            }
            // Newest first, so inner folders go before outer ones; only empty ones can go.
            Entry::Folder { path } => {
                let _ = fs::remove_dir(path);
            }
            // The previous file, wherever the move stopped: put back over the new one.
            Entry::Aside {
                path,
                backup: Some(backup),
            } if !committed && fs::symlink_metadata(backup).is_ok() => {
                let _ = fs::rename(backup, path);
            }
            Entry::Aside {
                path, backup: None, ..
            } if !committed && placed(path) => {
                let _ = fs::remove_file(path);
            }
            Entry::Aside {
                backup: Some(backup),
                ..
            } => {
                let _ = fs::remove_file(backup);
            }
            _ => {}
        }
    }
    tracing::warn!(journal = %path.display(), committed, "Undid what an interrupted run left in the output root.");
    empty_journal(path)
}

fn empty_journal(path: &Path) -> Result<(), LoadError> {
    File::create(path)
        .map(drop)
        .map_err(|source| LoadError::Journal {
            path: path.to_path_buf(),
            source,
        })
}

/// The entries of a journal; a torn last line (a crash mid-write) is skipped.
fn read_entries(file: File) -> Vec<Entry> {
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect()
}

impl Journal {
    fn create(path: PathBuf) -> Result<Journal, LoadError> {
        // Appending: every write lands at the end, which is the start again once cleared.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| LoadError::Journal {
                path: path.clone(),
                source,
            })?;
        Ok(Journal {
            path,
            file,
            entries: Vec::new(),
        })
    }

    fn append(&mut self, entry: Entry) -> Result<(), LoadError> {
        let mut line = serde_json::to_vec(&entry).unwrap_or_default();
        line.push(b'\n');
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        written.map_err(|source| LoadError::Journal {
            path: self.path.clone(),
            source,
        })?;
        self.entries.push(entry);
        Ok(())
    }

    fn clear(&mut self) {
        self.entries.clear();
        let _ = self.file.set_len(0);
        let _ = self.file.sync_data();
    }
}

/// Makes a rename durable. Best effort: some file systems refuse to fsync a directory.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}
