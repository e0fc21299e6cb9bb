//! Deterministic synthetic data: every value is a pure function of (seed, vendor salt, index, field).
//!
//! Nothing here allocates per dataset: a record is generated on the fly from its index, so a page of
//! a million-customer dataset costs the same as a page of a hundred. The "hard" values (non-ASCII,
//! CSV metacharacters, spreadsheet formula prefixes, empty vs null) are spread over the indices so
//! that even a 20-record dataset holds most of them.

use serde_json::Value;

/// A fast, well-mixed 64-bit hash (splitmix64 finaliser).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The generator for one vendor's dataset: `h(i, field)` is the random source of field `field` of record `i`.
#[derive(Debug, Clone, Copy)]
pub struct Gen {
    salt: u64,
    /// Records in a thousand that carry fields beyond the vendor's documentation.
    drift_per_mille: u64,
}

impl Gen {
    pub fn new(seed: u64, vendor: &str) -> Gen {
        let mut salt = mix(seed);
        for b in vendor.bytes() {
            salt = mix(salt ^ u64::from(b));
        }
        Gen {
            salt,
            drift_per_mille: 0,
        }
    }

    /// The generator of `vendor`'s dataset under `config`: its seed, and its drift.
    pub fn of(config: &super::SandboxConfig, vendor: &str) -> Gen {
        Gen {
            drift_per_mille: (config.drift.clamp(0.0, 1.0) * 1000.0).round() as u64,
            ..Gen::new(config.seed, vendor)
        }
    }

    /// The fields record `i` carries beyond the vendor's documentation, if it is one of the
    /// drifted share (`--drift`): as a vendor rolling out a new field looks to an export. Now and
    /// then the new score is not a number (`"n/a"`), as real drift is.
    pub fn drift(&self, i: u64) -> serde_json::Map<String, Value> {
        let mut fields = serde_json::Map::new();
        if self.h(i, 900) % 1000 >= self.drift_per_mille {
            return fields;
        }
        let score = if self.h(i, 901).is_multiple_of(8) {
            Value::String("n/a".into())
        } else {
            Value::from(self.h(i, 902) % 101)
        };
        let reviewed = iso_seconds(1_735_689_600 + (self.h(i, 903) % 30_000_000) as i64);
        fields.insert(
            "accountHealth".into(),
            serde_json::json!({"score": score, "reviewedAt": reviewed}),
        );
        let tier = ["gold", "silver", "bronze"][self.pick(i, 904, 3)];
        fields.insert("loyaltyTier".into(), Value::String(tier.into()));
        fields
    }

    /// `record` with its drift (see [`Gen::drift`]) added.
    pub fn drifted(&self, i: u64, mut record: Value) -> Value {
        if let Value::Object(map) = &mut record {
            map.extend(self.drift(i));
        }
        record
    }

    /// The hash of field `field` of record `i`.
    pub fn h(&self, i: u64, field: u64) -> u64 {
        mix(self.salt ^ mix(i.wrapping_mul(0x1000_0000_01B3) ^ field.rotate_left(17)))
    }

    /// A value in `0..n` for field `field` of record `i`.
    pub fn pick(&self, i: u64, field: u64, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.h(i, field) % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&self, i: u64, field: u64, percent: u64) -> bool {
        self.h(i, field) % 100 < percent
    }

    /// A GUID-shaped lower-case string.
    pub fn guid(&self, i: u64, field: u64) -> String {
        let a = self.h(i, field);
        let b = self.h(i, field ^ 0xABCD_EF01);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// Company names with every property a CSV or spreadsheet writer must survive.
pub const HARD_NAMES: [&str; 14] = [
    "Société Générale Ünïcode 株式会社",
    "Comma, Commas & Co., Ltd.",
    "The \"Quoted\" Company",
    "Line One\nLine Two B.V.",
    "=HYPERLINK(\"http://evil.example\",\"click me\")",
    "+31 20 123 4567 Holding",
    "-Minus Trading GmbH",
    "@acme",
    "Ærøskøbing Træ ApS",
    "Ωmega Ελληνικά Α.Ε.",
    "مؤسسة النور للتجارة",
    "Rocket 🚀 Labs",
    "  Leading and trailing spaces  ",
    "Semi;colon\tTab Oy",
];

const NAME_HEADS: [&str; 24] = [
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Tailspin",
    "Adventure",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Datum",
    "Fourth Coffee",
    "Lucerne",
    "Margie",
    "Nod",
    "Relecloud",
    "Southridge",
    "Trey",
    "Wide World",
    "Wingtip",
    "Humongous",
    "Graphic",
    "Bellows",
];
const NAME_TAILS: [&str; 12] = [
    "Ltd", "AB", "GmbH", "B.V.", "S.A.", "Inc.", "Oy", "AS", "SRL", "Pty Ltd", "plc", "KK",
];
const FIRST_NAMES: [&str; 16] = [
    "John",
    "Jane",
    "Zoë",
    "Åsa",
    "José",
    "Marie",
    "Jürgen",
    "Søren",
    "Ngozi",
    "Wei",
    "Olga",
    "François",
    "Aiko",
    "Mohammed",
    "Siobhán",
    "Ólafur",
];
const LAST_NAMES: [&str; 16] = [
    "Doe",
    "Smith",
    "Müller",
    "O'Brien",
    "García",
    "Dubois",
    "Nakamura",
    "Jensen",
    "Kowalski",
    "Øvergaard",
    "Nguyễn",
    "Ivanova",
    "Brown",
    "De la Cruz",
    "Smith-Jones",
    "Li",
];
/// (city, state/province, country code, postal code)
pub const PLACES: [(&str, &str, &str, &str); 12] = [
    ("Urbandale", "IA", "US", "50322"),
    ("Oslo", "Oslo", "NO", "0150"),
    ("Stockholm", "Stockholm", "SE", "111 52"),
    ("Amsterdam", "Noord-Holland", "NL", "1012 AB"),
    ("München", "Bayern", "DE", "80331"),
    ("Nice", "Provence-Alpes-Côte d'Azur", "FR", "06000"),
    ("Kraków", "Małopolskie", "PL", "30-001"),
    ("Tokyo", "東京都", "JP", "100-0001"),
    ("Zürich", "ZH", "CH", "8001"),
    ("London", "", "GB", "EC1A 1BB"),
    ("São Paulo", "SP", "BR", "01000-000"),
    ("Brussels", "Bruxelles", "BE", "1000"),
];

/// Name of record `i`: every third record from a salted rotation carries a hard value.
pub fn company_name(g: &Gen, i: u64) -> String {
    if i % 3 == 1 {
        return HARD_NAMES[((i / 3) as usize + g.pick(0, 7, HARD_NAMES.len())) % HARD_NAMES.len()]
            .to_string();
    }
    let head = NAME_HEADS[g.pick(i, 1, NAME_HEADS.len())];
    let tail = NAME_TAILS[g.pick(i, 2, NAME_TAILS.len())];
    format!("{head} {} {tail}", i + 1)
}

pub fn first_name(g: &Gen, i: u64, field: u64) -> &'static str {
    FIRST_NAMES[g.pick(i, field, FIRST_NAMES.len())]
}

pub fn last_name(g: &Gen, i: u64, field: u64) -> &'static str {
    LAST_NAMES[g.pick(i, field, LAST_NAMES.len())]
}

pub fn place(
    g: &Gen,
    i: u64,
    field: u64,
) -> (&'static str, &'static str, &'static str, &'static str) {
    PLACES[g.pick(i, field, PLACES.len())]
}

/// A street line; some carry commas, quotes or a newline on purpose.
pub fn street(g: &Gen, i: u64, field: u64) -> String {
    let n = g.h(i, field) % 900 + 1;
    match g.pick(i, field ^ 0x55, 8) {
        0 => format!("{n} Main Street, Suite {}", n % 40),
        1 => format!("c/o \"Reception\", {n} Harbour Road"),
        2 => format!("{n} Rue de l'Église\nBâtiment B"),
        3 => format!("Bahnhofstraße {n}"),
        _ => format!(
            "{n} {} Avenue",
            NAME_HEADS[g.pick(i, field ^ 0x77, NAME_HEADS.len())]
        ),
    }
}

pub fn email(first: &str, last: &str, i: u64) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    format!("{}.{}{}@example.com", clean(first), clean(last), i)
}

/// A phone number: often starting with `+`, a formula prefix for spreadsheets.
pub fn phone(g: &Gen, i: u64, field: u64) -> String {
    let n = g.h(i, field) % 10_000_000;
    match g.pick(i, field ^ 0x99, 3) {
        0 => format!("+31 20 {:03} {:04}", n / 10_000 % 1000, n % 10_000),
        1 => format!(
            "({:03}) {:03}-{:04}",
            n / 10_000_000 % 1000 + 200,
            n / 10_000 % 1000,
            n % 10_000
        ),
        _ => format!("+1-555-{:07}", n),
    }
}

/// `value`, or (deterministically, now and then) `null` or `""` in its place.
pub fn sometimes_empty(g: &Gen, i: u64, field: u64, value: String) -> Value {
    sometimes_empty_text(g, i, field, value).map_or(Value::Null, Value::String)
}

/// [`sometimes_empty`] for a record serialised from a struct: `None` is the `null`.
pub fn sometimes_empty_text(g: &Gen, i: u64, field: u64, value: String) -> Option<String> {
    match g.h(i, field) % 10 {
        0 => None,
        1 => Some(String::new()),
        _ => Some(value),
    }
}

/// `null` or `""` (both occur in vendor data for "no value").
pub fn empty(g: &Gen, i: u64, field: u64) -> Value {
    empty_text(g, i, field).map_or(Value::Null, |e| Value::String(e.into()))
}

/// [`empty`] for a record serialised from a struct: `None` is the `null`.
pub fn empty_text(g: &Gen, i: u64, field: u64) -> Option<&'static str> {
    (!g.h(i, field).is_multiple_of(2)).then_some("")
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_seconds(unix: i64) -> String {
    match jiff::Timestamp::from_second(unix) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => "1970-01-01T00:00:00Z".to_string(),
    }
}

/// Parses a strict `YYYY-MM-DDTHH:MM:SSZ` into unix seconds.
pub fn parse_iso_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(k, c)| match k {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Parses a strict `YYYY-MM-DD` into the unix seconds of that day's midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(k, c)| match k {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let date: jiff::civil::Date = s.parse().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Case-insensitive match with `*` matching any run of characters; no `*` means equality.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Classic greedy matcher with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*ef-6*", "REF-61"));
        assert!(wildcard_match("Ref-6*", "ref-6"));
        assert!(!wildcard_match("Ref-6", "ref-61"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_iso_seconds("2015-12-17T23:00:00Z"),
            Some(1_450_393_200)
        );
        assert_eq!(parse_iso_seconds("2016-08-1Z"), None);
        assert_eq!(parse_iso_seconds("2015-12-17T23:00:00+01:00"), None);
        assert_eq!(iso_seconds(1_450_393_200), "2015-12-17T23:00:00Z");
        assert!(parse_date("2025-01-01").is_some());
        assert!(parse_date("2025-1-01").is_none());
    }

    #[test]
    fn generation_is_deterministic() {
        let a = Gen::new(42, "c3");
        let b = Gen::new(42, "c3");
        assert_eq!(a.guid(5, 1), b.guid(5, 1));
        assert_ne!(Gen::new(43, "c3").guid(5, 1), a.guid(5, 1));
        assert_eq!(a.guid(5, 1).len(), 36);
    }
}
