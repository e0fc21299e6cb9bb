//! A Parquet file's column chunks encoded on threads beside its writer ("lanes"), each lane a
//! fixed run of the file's columns, the row group assembled in column order once every lane has
//! closed its chunks: the same bytes as one `ArrowWriter` encoding every column itself (tested
//! below), on as many cores as are free.
//!
//! Why: encoding and compressing a batch is the larger half of a Parquet writer's CPU, and it ran
//! on the thread that also turns rows into columns. Lanes take it off that thread (the writer
//! fills its next batch while they encode this one) and split it by column across the cores, so
//! one file's writer is no longer the ceiling of an export whose readers keep up.
//!
//! Determinism: which lane encodes a column changes no byte; a row group is closed on its row
//! count, or once the encoders' memory *after the batch before the last* reached the limit —
//! known to the writer without waiting for the last batch, and like the row count a function of
//! the data alone — so two runs of one pipeline cut their row groups alike.

use std::io::Write;
use std::sync::mpsc;
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::errors::{ParquetError, Result};
use parquet::file::writer::SerializedFileWriter;

/// A file gets at most this many lanes, fewer on a machine with fewer cores: past a few, a
/// lane's share of the columns is too small to pay for the hand-offs, and files written at once
/// would each claim every core.
const MAX_LANES: usize = 4;

/// How many lanes a file gets on this machine.
pub(super) fn lanes_for_this_machine() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_LANES))
}

/// A Parquet file written by lanes: the file writer, and one open row group at a time.
pub(super) struct ColumnLanes<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    lanes: Lanes,
    max_group_rows: usize,
    /// Rows sent to the open row group; `None` while no group is open.
    group_rows: Option<usize>,
    /// Whether the lanes owe word of the last batch sent.
    batch_unacknowledged: bool,
    /// What the lanes' encoders held after the last batch acknowledged (0 in a new group).
    acknowledged_memory: usize,
}

impl<W: Write + Send> ColumnLanes<W> {
    /// Lanes under `file`, `lanes` of them (at least one, at most one a column), row groups of at
    /// most the rows its properties say. `file` and `factory` come from
    /// [`parquet::arrow::ArrowWriter::into_serialized_writer`], which has set the file's schema and
    /// its Arrow metadata.
    pub(super) fn new(
        file: SerializedFileWriter<W>,
        factory: ArrowRowGroupWriterFactory,
        schema: SchemaRef,
        lanes: usize,
    ) -> Result<Self> {
        let columns = file.schema_descr().num_columns();
        let max_group_rows = file.properties().max_row_group_row_count();
        let lanes = Lanes::start(lanes.clamp(1, columns.max(1)), columns)?;
        Ok(ColumnLanes {
            file,
            factory,
            schema,
            lanes,
            max_group_rows: max_group_rows.unwrap_or(usize::MAX).max(1),
            group_rows: None,
            batch_unacknowledged: false,
            acknowledged_memory: 0,
        })
    }

    /// Hands `batch` to the lanes, closing row groups on the way as they fill (by rows, or once
    /// the encoders held `max_group_memory` bytes after the batch before); how many it closed.
    pub(super) fn write(&mut self, batch: &RecordBatch, max_group_memory: usize) -> Result<usize> {
        let mut rest = batch.clone();
        let mut closed = 0;
        while rest.num_rows() > 0 {
            let open_rows = match self.group_rows {
                Some(rows) => rows,
                None => {
                    self.open_group()?;
                    0
                }
            };
            let now = rest.num_rows().min(self.max_group_rows - open_rows);
            let this = rest.slice(0, now);
            rest = rest.slice(now, rest.num_rows() - now);
            self.send(&this)?;
            let rows = open_rows + now;
            self.group_rows = Some(rows);
            if rows >= self.max_group_rows || self.acknowledged_memory >= max_group_memory {
                self.close_group()?;
                closed += 1;
            }
        }
        Ok(closed)
    }

    /// Closes the open row group, if any, and hands back the file writer, its footer not yet
    /// written.
    pub(super) fn finish(mut self) -> Result<SerializedFileWriter<W>> {
        if self.group_rows.is_some() {
            self.close_group()?;
        }
        Ok(self.file)
    }

    /// Starts a row group: every lane gets its columns' writers.
    fn open_group(&mut self) -> Result<()> {
        let index = self.file.flushed_row_groups().len();
        let mut writers = self.factory.create_column_writers(index)?.into_iter();
        for lane in &self.lanes.lanes {
            lane.send(Job::Start(writers.by_ref().take(lane.columns).collect()))?;
        }
        self.group_rows = Some(0);
        self.acknowledged_memory = 0;
        Ok(())
    }

    /// Sends each lane its columns of `batch`, then takes the lanes' word on the batch before
    /// (they encode this one meanwhile).
    fn send(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut leaves = Vec::with_capacity(batch.num_columns());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        let mut leaves = leaves.into_iter();
        for lane in &self.lanes.lanes {
            lane.send(Job::Write(leaves.by_ref().take(lane.columns).collect()))?;
        }
        if self.batch_unacknowledged {
            let mut memory = 0;
            for lane in &self.lanes.lanes {
                memory += lane.written()?;
            }
            self.acknowledged_memory = memory;
        }
        self.batch_unacknowledged = true;
        Ok(())
    }

    /// Closes the open row group: each lane's chunks, in column order, written out.
    fn close_group(&mut self) -> Result<()> {
        for lane in &self.lanes.lanes {
            lane.send(Job::Close)?;
        }
        let mut chunks = Vec::with_capacity(self.schema.fields().len());
        for lane in &self.lanes.lanes {
            if self.batch_unacknowledged {
                lane.written()?;
            }
            chunks.extend(lane.closed()?);
        }
        self.batch_unacknowledged = false;
        self.group_rows = None;
        let mut group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        Ok(())
    }
}

/// What a lane is asked to do.
enum Job {
    /// A new row group: the writers of this lane's columns.
    Start(Vec<ArrowColumnWriter>),
    /// This lane's columns of one batch.
    Write(Vec<ArrowLeafColumn>),
    /// Close the row group's chunks.
    Close,
}

/// What a lane answers.
enum Done {
    /// A batch encoded: the bytes its writers hold now.
    Written(usize),
    /// The row group's chunks of this lane's columns, in order.
    Closed(Vec<ArrowColumnChunk>),
}

/// The lanes of one file; dropping them (a finished file, or a failed run) ends their threads.
struct Lanes {
    lanes: Vec<Lane>,
}

struct Lane {
    /// `None` once the lane is being stopped.
    jobs: Option<mpsc::SyncSender<Job>>,
    /// Unbounded, so that a lane never waits on a writer that stopped listening.
    done: mpsc::Receiver<Result<Done>>,
    thread: Option<JoinHandle<()>>,
    /// How many of the file's columns it encodes: the ones after the lanes before it.
    columns: usize,
}

impl Lanes {
    /// `count` lanes sharing `columns` columns, the first lanes one more where they do not
    /// divide evenly.
    fn start(count: usize, columns: usize) -> Result<Lanes> {
        let mut lanes = Vec::with_capacity(count);
        for index in 0..count {
            let share = columns / count + usize::from(index < columns % count);
            // No job queued behind the one being encoded: a writer a batch ahead waits for the
            // lane, so one batch is being encoded while the next is filled, never two.
            let (jobs, queue) = mpsc::sync_channel(0);
            let (answer, done) = mpsc::channel();
            let thread = std::thread::Builder::new()
                .name(format!("parquet-lane-{index}"))
                .spawn(move || encode(queue, answer))
                .map_err(|e| ParquetError::External(Box::new(e)))?;
            lanes.push(Lane {
                jobs: Some(jobs),
                done,
                thread: Some(thread),
                columns: share,
            });
        }
        Ok(Lanes { lanes })
    }
}

impl Drop for Lanes {
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            lane.jobs = None;
        }
        for lane in &mut self.lanes {
            if let Some(thread) = lane.thread.take() {
                // A lane that panicked has already lost its work; the error was reported to the
                // writer when its answer did not come.
                let _ = thread.join();
            }
        }
    }
}

impl Lane {
    fn send(&self, job: Job) -> Result<()> {
        match &self.jobs {
            Some(jobs) if jobs.send(job).is_ok() => Ok(()),
            _ => Err(lane_stopped()),
        }
    }

    fn answer(&self) -> Result<Done> {
        self.done.recv().map_err(|_| lane_stopped())?
    }

    /// The lane's word on a batch: the bytes its writers hold.
    fn written(&self) -> Result<usize> {
        match self.answer()? {
            Done::Written(memory) => Ok(memory),
            Done::Closed(_) => Err(out_of_step()),
        }
    }

    /// The lane's chunks of the closed row group.
    fn closed(&self) -> Result<Vec<ArrowColumnChunk>> {
        match self.answer()? {
            Done::Closed(chunks) => Ok(chunks),
            Done::Written(_) => Err(out_of_step()),
        }
    }
}

/// A lane's thread: encodes its columns of each batch, and closes their chunks, until the file's
/// writer drops its end.
fn encode(jobs: mpsc::Receiver<Job>, answers: mpsc::Sender<Result<Done>>) {
    let mut writers: Vec<ArrowColumnWriter> = Vec::new();
    for job in jobs {
        let answer = match job {
            Job::Start(new) => {
                writers = new;
                continue;
            }
            Job::Write(leaves) => writers
                .iter_mut()
                .zip(&leaves)
                .try_for_each(|(writer, leaf)| writer.write(leaf))
                .map(|()| Done::Written(writers.iter().map(|w| w.memory_size()).sum())),
            Job::Close => std::mem::take(&mut writers)
                .into_iter()
                .map(ArrowColumnWriter::close)
                .collect::<Result<Vec<_>>>()
                .map(Done::Closed),
        };
        if answers.send(answer).is_err() {
            return;
        }
    }
}

fn lane_stopped() -> ParquetError {
    ParquetError::General("a Parquet encoding thread stopped before the file was finished".into())
}

fn out_of_step() -> ParquetError {
    ParquetError::General("a Parquet encoding thread answered out of step".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    fn batches() -> (SchemaRef, Vec<RecordBatch>) {
        let fields: Vec<Field> = (0..7)
            .map(|c| match c % 2 {
                0 => Field::new(format!("text{c}"), DataType::Utf8, true),
                _ => Field::new(format!("number{c}"), DataType::Int64, true),
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = |from: i64, rows: i64| {
            let columns: Vec<ArrayRef> =
                (0..7)
                    .map(|c| -> ArrayRef {
                        let values = (from..from + rows).map(move |r| r * (c + 1));
                        match c % 2 {
                            0 => Arc::new(StringArray::from_iter(values.map(|v| {
                                (v % 5 != 0).then(|| format!("value {v} of column {c}"))
                            }))),
                            _ => Arc::new(Int64Array::from_iter(
                                values.map(|v| (v % 7 != 0).then_some(v)),
                            )),
                        }
                    })
                    .collect();
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };
        // Batches of uneven sizes, so that row groups of 250 rows cut some of them in two.
        let sizes = [100, 333, 7, 250, 1, 409];
        let mut from = 0;
        let batches = sizes
            .iter()
            .map(|&rows| {
                let b = batch(from, rows);
                from += rows;
                b
            })
            .collect();
        (schema, batches)
    }

    /// ZSTD 1, row groups of at most `max_rows` rows (`None`: no limit).
    fn properties(max_rows: Option<usize>) -> WriterProperties {
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap()))
            .set_max_row_group_row_count(max_rows)
            .build()
    }

    fn by_lanes(lanes: usize, schema: &SchemaRef, batches: &[RecordBatch]) -> Vec<u8> {
        let props = properties(Some(250));
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).unwrap();
        let (file, factory) = writer.into_serialized_writer().unwrap();
        let mut encoder = ColumnLanes::new(file, factory, schema.clone(), lanes).unwrap();
        for batch in batches {
            encoder.write(batch, usize::MAX).unwrap();
        }
        encoder.finish().unwrap().into_inner().unwrap()
    }

    #[test]
    fn lanes_write_the_bytes_one_arrow_writer_writes() {
        let (schema, batches) = batches();
        let props = properties(Some(250));
        let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).unwrap();
        for batch in &batches {
            writer.write(batch).unwrap();
        }
        let reference = writer.into_inner().unwrap();
        for lanes in [1, 2, 3, 7, 20] {
            assert!(
                by_lanes(lanes, &schema, &batches) == reference,
                "{lanes} lanes wrote other bytes than ArrowWriter"
            );
        }
    }

    #[test]
    fn a_row_group_closes_once_the_batch_before_the_last_filled_the_memory() {
        let (schema, batches) = batches();
        let props = properties(None);
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).unwrap();
        let (file, factory) = writer.into_serialized_writer().unwrap();
        let mut encoder = ColumnLanes::new(file, factory, schema.clone(), 2).unwrap();
        // One byte: the first batch of a group has no batch before it, so the group closes
        // after its second batch.
        let closed: Vec<usize> = (batches.iter())
            .map(|batch| encoder.write(batch, 1).unwrap())
            .collect();
        assert_eq!(closed, [0, 1, 0, 1, 0, 1]);
        let file = encoder.finish().unwrap();
        assert_eq!(file.flushed_row_groups().len(), 3);
        let rows: Vec<i64> = (file.flushed_row_groups().iter())
            .map(|group| group.num_rows())
            .collect();
        assert_eq!(rows, [433, 257, 410]);
    }
}
