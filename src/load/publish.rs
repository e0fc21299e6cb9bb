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

/// What a format writer writes into: buffered, then hashed, then the temporary file. Hashing
/// below the buffer sees large chunks.
pub(crate) type Sink = BufWriter<HashingWriter<File>>;

/// The temporary path of a file being written and where it will go.
///
/// A format writer declares its encoder field before its `Staged` field, so on drop the file is
/// closed before it is deleted (Windows cannot delete an open file).
#[derive(Debug)]
pub(crate) struct Staged {
    temp: TempPath,
    final_path: PathBuf,
}

/// Creates the parent directories of `final_path` and a temporary file beside it, its name
/// carrying `tag` (a run's id) when given.
pub(crate) fn stage(final_path: &Path, tag: Option<&str>) -> Result<(Sink, Staged), LoadError> {
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
    let (file, temp) = builder
        .tempfile_in(dir)
        .map_err(|source| LoadError::Create {
            path: final_path.to_path_buf(),
            source,
        })?
        .into_parts();
    let sink = BufWriter::with_capacity(64 * 1024, HashingWriter::new(file));
    Ok((
        sink,
        Staged {
            temp,
            final_path: final_path.to_path_buf(),
        },
    ))
}

impl Staged {
    pub(crate) fn final_path(&self) -> &Path {
        &self.final_path
    }

    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub(crate) fn write_error(&self, source: io::Error) -> LoadError {
        LoadError::Write {
            path: self.final_path.clone(),
            source,
        }
    }

    /// Flushes and fsyncs the file behind `sink`, closes it and returns the complete but still
    /// temporary file.
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
        let (file, bytes, sha256) = hashing.finish();
        file.sync_all().map_err(|e| self.write_error(e))?;
        drop(file);
        Ok(Finished {
            summary: OutputSummary {
                path: self.final_path,
                format,
                rows,
                bytes,
                sha256,
                schema: schema.to_vec(),
            },
            temp: self.temp,
        })
    }
}

/// A complete file at its temporary path, not yet visible at its final path.
///
/// Dropping it without [`Finished::publish`] deletes the temporary file and leaves the final
/// path as it was.
#[derive(Debug)]
pub struct Finished {
    temp: TempPath,
    /// What the file holds; `summary.path` is the final path.
    pub summary: OutputSummary,
}

impl Finished {
    /// Where the complete file waits to be published.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Renames the file into place (the caller has moved any previous file aside) and returns
    /// its summary. On failure the temporary file is deleted.
    pub(crate) fn place(self) -> Result<OutputSummary, LoadError> {
        let Finished { temp, summary } = self;
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
        let Finished { temp, summary } = self;
        // On failure the error owns the TempPath; dropping it deletes the temporary file.
        temp.persist(&summary.path)
            .map_err(|e| LoadError::Publish {
                path: summary.path.clone(),
                source: e.error,
            })?;
        sync_parent_dir(&summary.path);
        Ok(summary)
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
