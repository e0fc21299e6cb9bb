//! The transforms of one source: one [`Transformer`] per distinct `transform:` the pipeline's
//! outputs ask for (an output may carry its own), their tables numbered one after another, so a
//! record read once feeds a mapped CSV and a `fields: all` Parquet file alike, and each row finds
//! its writers by one table index.

use super::rows::{RecordReport, Table, Transformer};

pub struct Transforms {
    transformers: Vec<Transformer>,
    /// Where each transformer's tables start in the numbering across all of them.
    first_table: Vec<usize>,
}

impl Transforms {
    pub fn new(transformers: Vec<Transformer>) -> Transforms {
        let mut first_table = Vec::with_capacity(transformers.len());
        let mut next = 0;
        for t in &transformers {
            first_table.push(next);
            next += t.tables().len();
        }
        Transforms {
            transformers,
            first_table,
        }
    }

    pub fn len(&self) -> usize {
        self.transformers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.transformers.is_empty()
    }

    pub fn get(&self, i: usize) -> &Transformer {
        &self.transformers[i]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Transformer> {
        self.transformers.iter()
    }

    /// Transform `i`'s tables, each with its number across every transform.
    pub fn tables(&self, i: usize) -> impl Iterator<Item = (usize, &Table)> {
        let first = self.first_table[i];
        (self.transformers[i].tables().iter().enumerate()).map(move |(t, table)| (first + t, table))
    }

    /// The table numbered `index` across every transform.
    pub fn table(&self, index: usize) -> &Table {
        let i = self.first_table.partition_point(|&first| first <= index) - 1;
        &self.transformers[i].tables()[index - self.first_table[i]]
    }

    /// How many tables there are across every transform.
    pub fn table_count(&self) -> usize {
        self.transformers.iter().map(|t| t.tables().len()).sum()
    }

    /// Where transform `i`'s tables start in the numbering across every transform.
    pub fn first_table(&self, i: usize) -> usize {
        self.first_table[i]
    }

    /// The mapped columns that no record filled, in any transform (each name once).
    pub fn empty_columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for column in self.iter().flat_map(Transformer::empty_columns) {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
        columns
    }

    /// The arrays unrolled into rows, by any transform (each once).
    pub fn exploded_arrays(&self) -> Vec<&'static str> {
        let mut arrays = Vec::new();
        for array in self.iter().filter_map(Transformer::exploded_array) {
            if !arrays.contains(&array) {
                arrays.push(array);
            }
        }
        arrays
    }
}

impl RecordReport {
    /// One record's findings over several transforms: the most any of them found (the undeclared
    /// keys are the record's, the same for all; mismatches depend on each transform's columns).
    pub fn most(self, other: RecordReport) -> RecordReport {
        RecordReport {
            type_mismatches: self.type_mismatches.max(other.type_mismatches),
            undeclared_fields: self.undeclared_fields.max(other.undeclared_fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{Fields, Options};

    #[test]
    fn tables_are_numbered_across_transforms() {
        let vendor = crate::vendors::find("appxite").expect("built in").record();
        let canonical = Transformer::new(vendor, &Options::default(), &[vendor]);
        let tables = Options {
            fields: Fields::All,
            arrays: crate::transform::ArrayMode::Tables,
            ..Options::default()
        };
        let children = Transformer::new(vendor, &tables, &[vendor]);
        let child_count = children.tables().len();
        assert!(child_count > 1, "appxite has arrays");
        let set = Transforms::new(vec![canonical, children]);
        assert_eq!(set.table_count(), 1 + child_count);
        assert_eq!(set.first_table(1), 1);
        let numbered: Vec<usize> = set.tables(1).map(|(n, _)| n).collect();
        assert_eq!(numbered, (1..=child_count).collect::<Vec<_>>());
        for (n, table) in set.tables(1) {
            assert_eq!(set.table(n), table);
        }
        assert_eq!(set.table(0).name, "customers");
        assert_eq!(
            set.table(0).schema.len(),
            crate::model::record::CANONICAL_COLUMNS.len()
        );
    }
}
