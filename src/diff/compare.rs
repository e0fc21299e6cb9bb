//! The comparison, in memory bounded by the exports' row counts, not their size: OLD is read
//! twice and NEW once. First each OLD row's key (a 128-bit hash) and content (64 bits) go into
//! a sorted list — 25 bytes a row, 1M rows ≈ 25 MB; then each NEW row is looked up — a key not
//! there is **added** (its hash kept, to find NEW's duplicates), the same content is unchanged,
//! other content is **changed** and the NEW row is kept; last, OLD is read again: a key NEW never
//! had is **removed**, and a changed row is compared column by column with the NEW row kept for
//! it. Memory beyond the list is the added keys' hashes and the NEW values of changed rows — a
//! night's changes, not the export.
//!
//! Hashes are SipHash with keys drawn per process (std's `RandomState`), two of them for a key's
//! 128 bits: a collision between two of a million keys has a chance around 10⁻²⁶.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use super::DiffError;
use super::input::Export;

/// What one customer (a key) became between the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn word(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One line of the change set: a customer added or removed, or one column of a changed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeLine {
    pub change: Change,
    /// The key columns' values.
    pub key: Vec<Option<String>>,
    /// The column that differs (a changed customer), with its old and new values.
    pub column: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Counts by group (the `vendor` column when there is one).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// The columns compared, and how to find them on each side.
pub struct Columns {
    /// The key columns' positions in OLD and in NEW.
    pub key: Vec<(usize, usize)>,
    /// Every other column both sides have: (name, position in OLD, position in NEW).
    pub compared: Vec<(String, usize, usize)>,
    /// Where the group (`vendor`) is in OLD and NEW, if both have it.
    pub group: Option<(usize, usize)>,
}

/// Compares OLD with NEW, handing each change line to `emit` (added ones in NEW's order, then
/// removed and changed in OLD's), and returns the counts by group.
pub fn compare(
    old: &Export,
    new: &Export,
    columns: &Columns,
    mut emit: impl FnMut(ChangeLine) -> Result<(), DiffError>,
) -> Result<BTreeMap<String, Counts>, DiffError> {
    let hashing = Hashing::new();
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();

    let keys = old_keys(old, columns, &hashing)?;
    let find = |key: u128| keys.binary_search_by_key(&key, |&(k, _)| k).ok();
    // Whether NEW has each OLD key; and NEW's own keys, to find its duplicates.
    let mut seen = vec![false; keys.len()];
    let mut added: HashSet<u128> = HashSet::new();
    let mut duplicates = 0u64;

    // NEW: added, unchanged, or changed (its row kept for the column-by-column pass).
    let mut changed: HashMap<u128, Vec<Option<String>>> = HashMap::new();
    new.for_each_row(|row| {
        let key = hashing.of(columns.key.iter().map(|&(_, n)| &row[n]));
        let group = columns.group.and_then(|(_, n)| row[n].as_deref());
        match find(key) {
            Some(i) if seen[i] => duplicates += 1,
            Some(i) => {
                seen[i] = true;
                let now = hashing.content(columns.compared.iter().map(|&(_, _, n)| &row[n]));
                if keys[i].1 == now {
                    counts_of(&mut counts, group).unchanged += 1;
                } else {
                    changed.insert(key, row.to_vec());
                }
            }
            None if !added.insert(key) => duplicates += 1,
            None => {
                counts_of(&mut counts, group).added += 1;
                let key = columns.key.iter().map(|&(_, n)| row[n].clone()).collect();
                emit(ChangeLine::whole(Change::Added, key))?;
            }
        }
        Ok(())
    })?;
    refuse_duplicates(duplicates, &new.name, columns.key.len())?;

    // OLD again: removed (NEW never had the key), and the columns of each changed row.
    old.for_each_row(|row| {
        let key = hashing.of(columns.key.iter().map(|&(o, _)| &row[o]));
        let group = columns.group.and_then(|(o, _)| row[o].as_deref());
        let key_values = || columns.key.iter().map(|&(o, _)| row[o].clone()).collect();
        if find(key).is_some_and(|i| !seen[i]) {
            counts_of(&mut counts, group).removed += 1;
            return emit(ChangeLine::whole(Change::Removed, key_values()));
        }
        let Some(new_row) = changed.remove(&key) else {
            return Ok(());
        };
        counts_of(&mut counts, group).changed += 1;
        for (name, o, n) in &columns.compared {
            if row[*o] != new_row[*n] {
                emit(ChangeLine {
                    change: Change::Changed,
                    key: key_values(),
                    column: Some(name.clone()),
                    old: row[*o].clone(),
                    new: new_row[*n].clone(),
                })?;
            }
        }
        Ok(())
    })?;
    Ok(counts)
}

/// OLD's (key, content) hashes, sorted by key: 24 bytes a row, no hash-table slack. Two rows
/// with one key are refused.
fn old_keys(
    old: &Export,
    columns: &Columns,
    hashing: &Hashing,
) -> Result<Vec<(u128, u64)>, DiffError> {
    let mut keys: Vec<(u128, u64)> = Vec::new();
    old.for_each_row(|row| {
        let key = hashing.of(columns.key.iter().map(|&(o, _)| &row[o]));
        let content = hashing.content(columns.compared.iter().map(|&(_, o, _)| &row[o]));
        keys.push((key, content));
        Ok(())
    })?;
    keys.sort_unstable_by_key(|&(key, _)| key);
    let duplicates = keys.windows(2).filter(|w| w[0].0 == w[1].0).count() as u64;
    refuse_duplicates(duplicates, &old.name, columns.key.len())?;
    Ok(keys)
}

fn counts_of<'c>(counts: &'c mut BTreeMap<String, Counts>, group: Option<&str>) -> &'c mut Counts {
    counts
        .entry(group.unwrap_or("(all)").to_string())
        .or_default()
}

impl ChangeLine {
    /// A customer added or removed as a whole.
    fn whole(change: Change, key: Vec<Option<String>>) -> ChangeLine {
        ChangeLine {
            change,
            key,
            column: None,
            old: None,
            new: None,
        }
    }
}

fn refuse_duplicates(duplicates: u64, side: &str, key_columns: usize) -> Result<(), DiffError> {
    if duplicates == 0 {
        return Ok(());
    }
    Err(DiffError::Usage(format!(
        "{side}: {duplicates} row(s) share their key with another row, so rows cannot be matched on these {key_columns} column(s); name the columns that tell each row apart with --key (e.g. --key vendor,customer_id,tenant_id for exploded tenants)"
    )))
}

/// 128-bit hashes of a sequence of cells: two SipHashes with independent keys.
struct Hashing(RandomState, RandomState);

impl Hashing {
    fn new() -> Hashing {
        Hashing(RandomState::new(), RandomState::new())
    }

    /// A row's content: 64 bits tell a changed row from an unchanged one (a change missed once
    /// in 2⁶⁴ rows).
    fn content<'c>(&self, cells: impl Iterator<Item = &'c Option<String>>) -> u64 {
        let mut hasher = self.0.build_hasher();
        for cell in cells {
            cell.hash(&mut hasher);
        }
        hasher.finish()
    }

    /// A row's key: 128 bits, so two customers never share one.
    fn of<'c>(&self, cells: impl Iterator<Item = &'c Option<String>> + Clone) -> u128 {
        let one = |state: &RandomState| {
            let mut hasher = state.build_hasher();
            for cell in cells.clone() {
                // `None` and `Some("")` hash apart, and cells cannot run into each other.
                cell.hash(&mut hasher);
            }
            hasher.finish()
        };
        (u128::from(one(&self.0)) << 64) | u128::from(one(&self.1))
    }
}
