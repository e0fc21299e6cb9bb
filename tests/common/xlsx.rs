//! A small XLSX reader for tests: the zip container opened with the zip crate, the workbook's
//! sheet names, and each worksheet's cells as written (type attribute, style, value, formula).
//! Enough to check what a spreadsheet will see; the Python check (`.ci/check_outputs.py`) reads
//! the same files with openpyxl.
//! Included with `#[path = "common/xlsx.rs"] mod xlsx;`.

#![allow(dead_code)]

use std::io::{Cursor, Read};

/// An XLSX file's parts.
pub struct Book {
    pub sheets: Vec<Sheet>,
    styles: String,
}

/// One worksheet: its name and its XML.
pub struct Sheet {
    pub name: String,
    pub xml: String,
}

/// One `<c>` element.
#[derive(Debug, Clone, PartialEq)]
pub struct XCell {
    /// `A1`-style reference.
    pub reference: String,
    /// The `t` attribute: `inlineStr`, `s`, `b`, `str`, …; None for a number.
    pub kind: Option<String>,
    /// The `s` attribute: an index into the styles' cell formats.
    pub style: Option<usize>,
    /// The value, unescaped: the `<v>` text, or an inline string's `<t>` text.
    pub value: String,
    /// Whether the cell holds a formula (`<f>`).
    pub formula: bool,
}

impl Book {
    pub fn open(bytes: &[u8]) -> Book {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("an XLSX (zip) file");
        let mut part = |name: &str| {
            let mut text = String::new();
            zip.by_name(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        let workbook = part("xl/workbook.xml");
        let styles = part("xl/styles.xml");
        let names = attribute_values(&workbook, "<sheet ", "name");
        let sheets = (names.into_iter().enumerate())
            .map(|(i, name)| Sheet {
                name: unescape(&name),
                xml: part(&format!("xl/worksheets/sheet{}.xml", i + 1)),
            })
            .collect();
        Book { sheets, styles }
    }

    pub fn read(path: &std::path::Path) -> Book {
        Book::open(&std::fs::read(path).unwrap())
    }

    /// The number format code of cell style `style` (`General` for the built-in 0).
    pub fn number_format(&self, style: usize) -> String {
        let xfs = section(&self.styles, "<cellXfs");
        let xf = elements(xfs, "<xf ")
            .into_iter()
            .nth(style)
            .expect("a style");
        let id = attribute(xf, "numFmtId").unwrap_or_default();
        let formats = elements(&self.styles, "<numFmt ");
        (formats.into_iter())
            .find(|f| attribute(f, "numFmtId").as_deref() == Some(id.as_str()))
            .and_then(|f| attribute(f, "formatCode"))
            .map(|code| unescape(&code))
            .unwrap_or_else(|| "General".to_string())
    }

    /// Whether cell style `style` is bold.
    pub fn is_bold(&self, style: usize) -> bool {
        let xfs = section(&self.styles, "<cellXfs");
        let xf = elements(xfs, "<xf ")
            .into_iter()
            .nth(style)
            .expect("a style");
        let font: usize = attribute(xf, "fontId").map_or(0, |f| f.parse().unwrap());
        let fonts = section(&self.styles, "<fonts");
        let font = fonts.split("<font>").nth(font + 1).expect("a font");
        font.contains("<b/>")
    }

    /// Data rows over every sheet: each sheet's rows but its header.
    pub fn data_rows(&self) -> usize {
        self.sheets.iter().map(|s| s.rows().saturating_sub(1)).sum()
    }
}

impl Sheet {
    /// The `<row>` elements.
    pub fn rows(&self) -> usize {
        self.xml.matches("<row ").count()
    }

    pub fn cells(&self) -> Vec<XCell> {
        let mut cells = Vec::new();
        let mut rest = self.xml.as_str();
        while let Some(at) = rest.find("<c r=\"") {
            rest = &rest[at..];
            let open_end = rest.find('>').unwrap();
            let open = &rest[..open_end];
            let (inner, next) = if open.ends_with('/') {
                ("", open_end + 1)
            } else {
                let close = rest.find("</c>").unwrap();
                (&rest[open_end + 1..close], close + 4)
            };
            let value = between(inner, "<v>", "</v>")
                .or_else(|| between(inner, "<t", "</t>").map(|t| &t[t.find('>').unwrap() + 1..]))
                .unwrap_or("");
            cells.push(XCell {
                reference: attribute(open, "r").unwrap(),
                kind: attribute(open, "t"),
                style: attribute(open, "s").map(|s| s.parse().unwrap()),
                value: unescape(value),
                formula: inner.contains("<f>") || inner.contains("<f "),
            });
            rest = &rest[next..];
        }
        cells
    }

    /// The cells by row and column (from 0: the header is row 0), None where there is no cell.
    pub fn grid(&self) -> Vec<Vec<Option<XCell>>> {
        let mut grid: Vec<Vec<Option<XCell>>> = Vec::new();
        for cell in self.cells() {
            let letters: String = cell
                .reference
                .chars()
                .take_while(char::is_ascii_uppercase)
                .collect();
            let col = letters
                .bytes()
                .fold(0, |n, b| n * 26 + usize::from(b - b'A' + 1))
                - 1;
            let row: usize = cell.reference[letters.len()..].parse::<usize>().unwrap() - 1;
            if grid.len() <= row {
                grid.resize(row + 1, Vec::new());
            }
            if grid[row].len() <= col {
                grid[row].resize(col + 1, None);
            }
            grid[row][col] = Some(cell);
        }
        grid
    }

    pub fn cell(&self, reference: &str) -> Option<XCell> {
        self.cells().into_iter().find(|c| c.reference == reference)
    }

    /// The autofilter's range, if any.
    pub fn autofilter(&self) -> Option<String> {
        elements(&self.xml, "<autoFilter ")
            .first()
            .and_then(|e| attribute(e, "ref"))
    }

    /// Whether the first row is frozen.
    pub fn header_frozen(&self) -> bool {
        elements(&self.xml, "<pane ").first().is_some_and(|p| {
            attribute(p, "ySplit").as_deref() == Some("1")
                && attribute(p, "state").as_deref() == Some("frozen")
        })
    }

    /// The width of column `index` (from 1), if set.
    pub fn column_width(&self, index: usize) -> Option<f64> {
        elements(&self.xml, "<col ")
            .into_iter()
            .find(|c| {
                let min: usize = attribute(c, "min").unwrap().parse().unwrap();
                let max: usize = attribute(c, "max").unwrap().parse().unwrap();
                (min..=max).contains(&index)
            })
            .and_then(|c| attribute(c, "width"))
            .map(|w| w.parse().unwrap())
    }
}

/// The text after `start` up to `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The part of `xml` from `start` to the end of that element's closing tag.
fn section<'a>(xml: &'a str, start: &str) -> &'a str {
    let from = xml.find(start).expect(start);
    let name = &start[1..];
    let to = xml[from..].find(&format!("</{name}>")).expect(start) + from;
    &xml[from..to]
}

/// The opening tags in `xml` that start with `start`.
fn elements<'a>(xml: &'a str, start: &str) -> Vec<&'a str> {
    xml.match_indices(start)
        .map(|(at, _)| &xml[at..at + xml[at..].find('>').unwrap()])
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    let to = tag[from..].find('"')? + from;
    Some(tag[from..to].to_string())
}

fn attribute_values(xml: &str, start: &str, name: &str) -> Vec<String> {
    elements(xml, start)
        .into_iter()
        .filter_map(|e| attribute(e, name))
        .collect()
}

/// XML entities, then Excel's `_xHHHH_` escapes (`_x005F_` being an escaped `_`).
fn unescape(text: &str) -> String {
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#xA;", "\n")
        .replace("&amp;", "&");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 7);
        let code = escape
            .filter(|e| e.ends_with('_'))
            .and_then(|e| u32::from_str_radix(&e[2..6], 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 7..];
            }
            None => {
                out.push_str("_x");
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}
