//! Buffers a reading thread keeps from one record to the next: a record's slots and its rows'
//! cells are emptied once its rows are packed and filled again by the thread's next record,
//! rather than allocated and freed once a record each.
//!
//! Those buffers hold values that borrow the page a record was read from, so a kept one cannot
//! keep its type: it is kept as the same type under `'static`, empty, and handed out again under
//! the next record's lifetime ([`recycle`]). A record is read, its rows made and the record
//! dropped on one thread, so the buffers stay where they are used, with no lock. (List texts and
//! unescaped strings own their text, so `parse` keeps those in a pool of its own, bounded in size.)

use std::cell::RefCell;
use std::thread::LocalKey;

/// The most buffers of one kind a thread keeps: a record is read by one transform at a time, and
/// its rows are handed on one at a time.
const KEPT: usize = 4;

/// A thread's emptied buffers of one kind, kept as `Vec<T>` (`T` being the `'static` form of the
/// type they hold when in use).
pub(super) struct Spare<T: 'static> {
    buffers: RefCell<Vec<Vec<T>>>,
}

impl<T: 'static> Spare<T> {
    pub(super) const fn new() -> Self {
        Spare {
            buffers: RefCell::new(Vec::new()),
        }
    }

    /// An empty buffer: one kept, or a new one with room for `room` values.
    fn take<U>(&self, room: usize) -> Vec<U> {
        let kept = self.buffers.borrow_mut().pop();
        kept.map_or_else(|| Vec::with_capacity(room), recycle)
    }

    /// Keeps `buffer`'s allocation for [`Spare::take`], emptied (its values are dropped now).
    fn give_back<U>(&self, buffer: Vec<U>) {
        if buffer.capacity() == 0 {
            return;
        }
        let mut buffers = self.buffers.borrow_mut();
        if buffers.len() < KEPT {
            buffers.push(recycle(buffer));
        }
    }
}

/// An empty buffer from this thread's `spare` (one kept, or a new one with room for `room`).
pub(super) fn take_from<T, U>(spare: &'static LocalKey<Spare<T>>, room: usize) -> Vec<U> {
    // A thread's own storage is gone only while the thread ends: a new buffer then.
    (spare.try_with(|spare| spare.take(room))).unwrap_or_else(|_| Vec::with_capacity(room))
}

/// Keeps `buffer`'s allocation in this thread's `spare` for the next [`take_from`], emptied.
pub(super) fn give_back_to<T, U>(spare: &'static LocalKey<Spare<T>>, buffer: Vec<U>) {
    // A thread's own storage is gone only while the thread ends: the buffer is freed then.
    let _ = spare.try_with(|spare| spare.give_back(buffer));
}

/// `buffer`'s allocation, emptied, as a `Vec` of a type of the same size and alignment (here, the
/// same type under another lifetime). Collecting a `Vec`'s own iterator into a `Vec` of a
/// same-sized type reuses its allocation (std's in-place collection); the test below checks that
/// it still does.
fn recycle<T, U>(mut buffer: Vec<T>) -> Vec<U> {
    const {
        assert!(size_of::<T>() == size_of::<U>() && align_of::<T>() == align_of::<U>());
    }
    buffer.clear();
    buffer.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn a_buffer_given_back_comes_out_again_under_another_lifetime() {
        let spare: Spare<Cow<'static, str>> = Spare::new();
        let page = String::from("Acme Ltd");
        let mut cells: Vec<Cow<'_, str>> = spare.take(16);
        assert!(
            cells.capacity() >= 16,
            "a new buffer has the room asked for"
        );
        cells.extend([Cow::Borrowed(&page[..4]), Cow::Owned("x".repeat(3))]);
        let (at, capacity) = (cells.as_ptr() as usize, cells.capacity());
        spare.give_back(cells);
        drop(page);

        let next = String::from("Globex");
        let mut again: Vec<Cow<'_, str>> = spare.take(1);
        assert!(again.is_empty());
        assert_eq!((again.as_ptr() as usize, again.capacity()), (at, capacity));
        again.push(Cow::Borrowed(&next));
        assert_eq!(again, ["Globex"]);
    }

    #[test]
    fn a_thread_keeps_a_few_buffers_and_none_empty() {
        let spare: Spare<u64> = Spare::new();
        spare.give_back(Vec::<u64>::new());
        assert_eq!(spare.buffers.borrow().len(), 0, "nothing to keep");
        for _ in 0..KEPT + 3 {
            spare.give_back(Vec::<u64>::with_capacity(8));
        }
        assert_eq!(spare.buffers.borrow().len(), KEPT);
    }
}
