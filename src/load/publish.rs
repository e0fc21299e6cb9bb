//! Atomic publication: temporary files beside the final path, checksums while writing, rename.
//!
//! Promises:
//! - A temporary file lives in the same directory as its final path, named
//!   `.{file_name}.{random}.cetmp`, so the closing rename never crosses a file system and is
//!   atomic: a reader sees the old file or the complete new one, never a mix.
//! - A temporary file is deleted when its owner ([`Finished`], or a format writer) is dropped; one
//!   left by a killed process is removed by the next run on the root, from its journal
//!   ([`super::Root`]).
//! - The byte count and SHA-256 come from the bytes as they are written ([`HashingWriter`]), so
//!   they describe exactly the file that gets published, without reading it again.
//! - The data is fsynced before the rename, and the directory after it (best effort), so a
//!   crash cannot publish a name that points at unwritten data.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::TempPath;

use super::store::upload::Upload;
use super::{LoadError, OutputSummary};
use crate::model::row::Column;

/// The suffix that marks this tool's temporary files.
const TEMP_SUFFIX: &str = ".cetmp";

/// A `Write` that counts and hashes every byte that reaches its inner writer.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Returns the inner writer, the byte count and the lower-case hex SHA-256.
    pub fn finish(self) -> (W, u64, String) {
        let digest = self.hasher.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use std::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
        }
        (self.inner, self.bytes, hex)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Hash only what the inner writer accepted, so a short write is not counted twice.
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where a format writer's bytes go: a temporary file beside the final path, or an upload to a
/// store's staging key.
#[derive(Debug)]
pub(crate) enum Destination {
    File(File),
    Upload(Upload),
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::File(f) => f.write(buf),
            Destination::Upload(u) => u.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::File(f) => f.flush(),
            Destination::Upload(u) => u.flush(),
        }
    }
}

/// What a format writer writes into: buffered, then hashed, then the destination. Hashing
/// below the buffer sees large chunks.
pub(crate) type Sink = BufWriter<HashingWriter<Destination>>;

/// Where a file is staged until its run publishes it.
#[derive(Debug)]
pub(crate) enum StageAt<'a> {
    /// A temporary file beside the final path, its name carrying the tag (a run's id) if given.
    Beside(Option<&'a str>),
    /// Streamed to a staging key of a store.
    Upload(Upload),
}

/// Where a file waits to be published.
#[derive(Debug)]
enum Temp {
    /// A temporary file, deleted when dropped.
    File(TempPath),
    /// An object at a staging key (as a path, for messages); the store's root removes it.
    Staged(PathBuf),
}

impl Temp {
    fn path(&self) -> &Path {
        match self {
            Temp::File(temp) => temp,
            Temp::Staged(key) => key,
        }
    }
}

/// The temporary path of a file being written and where it will go.
///
/// A format writer declares its encoder field before its `Staged` field, so on drop the file is
/// closed before it is deleted (Windows cannot delete an open file).
#[derive(Debug)]
pub(crate) struct Staged {
    temp: Temp,
    final_path: PathBuf,
}

/// Starts the file to be published at `final_path`: beside it (creating its parent directories)
/// or as an upload.
pub(crate) fn stage(final_path: &Path, at: StageAt<'_>) -> Result<(Sink, Staged), LoadError> {
    let (destination, temp) = match at {
        StageAt::Beside(tag) => {
            let (file, temp) = temp_file_beside(final_path, tag)?;
            (Destination::File(file), Temp::File(temp))
        }
        StageAt::Upload(upload) => {
            let key = PathBuf::from(upload.key().as_ref());
            (Destination::Upload(upload), Temp::Staged(key))
        }
    };
    let sink = BufWriter::with_capacity(64 * 1024, HashingWriter::new(destination));
    let staged = Staged {
        temp,
        final_path: final_path.to_path_buf(),
    };
    Ok((sink, staged))
}

/// A temporary file beside `final_path` (its folders made), its name carrying `tag`.
fn temp_file_beside(final_path: &Path, tag: Option<&str>) -> Result<(File, TempPath), LoadError> {
    let file_name = final_path
        .file_name()
        .ok_or_else(|| LoadError::InvalidPath {
            path: final_path.to_path_buf(),
        })?;
    let dir = match final_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|source| LoadError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })?;

    let mut prefix = OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    if let Some(tag) = tag {
        prefix.push(tag);
        prefix.push(".");
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    // tempfile creates files 0600; ask for 0666 so the umask decides, as for any new file, and a
    // data-lake reader running as another user can read what we publish.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    Ok(builder
        .tempfile_in(dir)
        .map_err(|source| LoadError::Create {
            path: final_path.to_path_buf(),
            source,
        })?
        .into_parts())
}

impl Staged {
    pub(crate) fn final_path(&self) -> &Path {
        &self.final_path
    }

    pub(crate) fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    pub(crate) fn write_error(&self, source: io::Error) -> LoadError {
        LoadError::Write {
            path: self.final_path.clone(),
            source,
        }
    }

    /// Flushes the data behind `sink` and makes it durable — fsyncs and closes the file, or
    /// completes the upload — and returns the complete but still unpublished file.
    pub(crate) fn seal(
        self,
        sink: Sink,
        format: &'static str,
        rows: u64,
        schema: &[Column],
    ) -> Result<Finished, LoadError> {
        let hashing = sink
            .into_inner()
            .map_err(|e| self.write_error(e.into_error()))?;
        let (destination, bytes, sha256) = hashing.finish();
        match destination {
            Destination::File(file) => {
                file.sync_all().map_err(|e| self.write_error(e))?;
                drop(file);
            }
            Destination::Upload(upload) => upload.finish().map_err(|e| self.write_error(e))?,
        }
        Ok(Finished {
            summary: OutputSummary {
                path: self.final_path,
                format,
                rows,
                bytes,
                sha256,
                schema: schema.to_vec(),
                truncated_cells: None,
            },
            temp: self.temp,
        })
    }
}

/// A complete file at its temporary path (or staging key), not yet visible at its final path.
///
/// Dropping it without [`Finished::publish`] deletes a temporary file and leaves the final path
/// as it was; a staging object is left to the store's root.
#[derive(Debug)]
pub struct Finished {
    temp: Temp,
    /// What the file holds; `summary.path` is the final path.
    pub summary: OutputSummary,
}

impl Finished {
    /// Where the complete file waits to be published: a temporary file, or a staging key.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// Renames the file into place (the caller has moved any previous file aside) and returns
    /// its summary. On failure the temporary file is deleted.
    pub(crate) fn place(self) -> Result<OutputSummary, LoadError> {
        let Finished { temp, summary } = self;
        let Temp::File(temp) = temp else {
            return Err(staged_in_store(summary));
        };
        temp.persist(&summary.path)
            .map_err(|e| LoadError::Publish {
                path: summary.path.clone(),
                source: e.error,
            })?;
        Ok(summary)
    }

    /// Renames the file into place, replacing any file already there, and returns its summary.
    /// One file alone; a run publishes all its files together with [`super::Root::commit`].
    pub fn publish(self) -> Result<OutputSummary, LoadError> {
        let summary = self.place()?;
        sync_parent_dir(&summary.path);
        Ok(summary)
    }
}

/// A staged object is published by its store's root, not renamed.
fn staged_in_store(summary: OutputSummary) -> LoadError {
    LoadError::Publish {
        path: summary.path,
        source: io::Error::other(
            "the file is staged in object storage; its store's root publishes it",
        ),
    }
}

/// Makes the rename itself durable. Best effort: some file systems refuse to fsync a directory,
/// and the file is already complete and visible either way.
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_writer_hashes_what_it_writes() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (inner, bytes, hex) = w.finish();
        assert_eq!(inner, b"abc");
        assert_eq!(bytes, 3);
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
