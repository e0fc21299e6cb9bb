//! A file streamed into the store while it is written: a blocking [`Write`] over a multipart
//! upload.
//!
//! The format writers run on a blocking thread and write through `std::io::Write`; an [`Upload`]
//! hands their bytes to the store in parts of [`PART_BYTES`] as they come, and waits (on that
//! thread) while a part is still on its way, so memory holds one part being filled and one being
//! sent, however large the file. The upload starts at the first byte and is completed by
//! [`Upload::finish`]; dropped before that, it is aborted, so the store keeps no half-written
//! object (a store that keeps the parts of a killed process is cleaned by its own lifecycle rule:
//! see the README).

use std::io::{self, Write};
use std::sync::Arc;

use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::runtime::{Handle, RuntimeFlavor};

/// One part of a multipart upload: S3's and GCS's smallest (but for the last part).
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts on their way while the next one fills: one, so the writer rarely waits on the network
/// and memory holds two parts at most.
const PARTS_IN_FLIGHT: usize = 1;

/// A file being uploaded to `key`; see the module header.
pub struct Upload {
    store: Arc<dyn ObjectStore>,
    key: Key,
    runtime: Handle,
    /// Started at the first write.
    parts: Option<WriteMultipart>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Upload {
    /// An upload to `key`, driven on `runtime` (the run's). Its writes block the calling thread,
    /// which must not be one of the runtime's workers.
    pub fn new(store: Arc<dyn ObjectStore>, key: Key, runtime: Handle) -> Upload {
        Upload {
            store,
            key,
            runtime,
            parts: None,
        }
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    fn started(&mut self) -> io::Result<&mut WriteMultipart> {
        if self.parts.is_none() {
            let upload = wait(&self.runtime, self.store.put_multipart(&self.key))?;
            let upload = upload.map_err(|e| store_error(&self.key, e))?;
            self.parts = Some(WriteMultipart::new_with_chunk_size(upload, PART_BYTES));
        }
        Ok(self.parts.as_mut().expect("started above"))
    }

    /// Sends the last part and completes the upload: the object exists, whole, from here on.
    pub fn finish(mut self) -> io::Result<()> {
        self.started()?;
        let parts = self.parts.take().expect("started above");
        let done = wait(&self.runtime, parts.finish())?;
        done.map(drop).map_err(|e| store_error(&self.key, e))
    }
}

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let runtime = self.runtime.clone();
        let key = self.key.clone();
        let parts = self.started()?;
        parts.write(buf);
        // Back-pressure: `wait_for_capacity(n)` waits until fewer than `n` parts are in flight,
        // so `PARTS_IN_FLIGHT + 1` lets that many travel while the next one fills.
        wait(&runtime, parts.wait_for_capacity(PARTS_IN_FLIGHT + 1))?
            .map_err(|e| store_error(&key, e))?;
        Ok(buf.len())
    }

    /// Parts go when full: a flush in the middle of a file cannot send a short one.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Upload {
    /// An upload not finished is aborted, so its parts do not linger in the store.
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            self.runtime.spawn(async move {
                let _ = parts.abort().await;
            });
        }
    }
}

/// Runs `future` to its end on `runtime`, blocking this thread. A writer's own thread (a blocking
/// one) just blocks; a runtime worker — where a dropped writer flushes its last bytes — first hands
/// its other tasks off. A single-threaded runtime cannot wait on itself: that is an error.
fn wait<F: Future>(runtime: &Handle, future: F) -> io::Result<F::Output> {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::CurrentThread) => Err(io::Error::other(
            "an upload cannot wait on a single-threaded runtime's own thread",
        )),
        Ok(_) => Ok(tokio::task::block_in_place(|| runtime.block_on(future))),
        Err(_) => Ok(runtime.block_on(future)),
    }
}

/// A store's error as an I/O error naming the object.
fn store_error(key: &Key, e: object_store::Error) -> io::Error {
    io::Error::other(format!("uploading {key}: {}", super::describe(&e)))
}
