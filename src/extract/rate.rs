//! `rate_limit: 10/s` — a request budget per source.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// At most `count` requests every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: NonZeroU32,
    pub per: Duration,
}

impl RateLimit {
    /// Requests per second, for logs and benchmarks.
    pub fn per_second(&self) -> f64 {
        f64::from(self.count.get()) / self.per.as_secs_f64()
    }
}

pub const RATE_LIMIT_HELP: &str =
    "a rate like `10/s`, `600/min` or `5000/h` (a whole number above zero, per s, min or h)";

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not a rate limit; expected {RATE_LIMIT_HELP}");
        let (count, unit) = text.trim().split_once('/').ok_or_else(invalid)?;
        let count: u32 = count.trim().parse().map_err(|_| invalid())?;
        let count = NonZeroU32::new(count).ok_or_else(invalid)?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(invalid()),
        };
        Ok(RateLimit { count, per })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_forms() {
        let r: RateLimit = "10/s".parse().unwrap();
        assert_eq!((r.count.get(), r.per.as_secs()), (10, 1));
        let r: RateLimit = "600/min".parse().unwrap();
        assert_eq!(r.per_second(), 10.0);
        assert_eq!("5000/h".parse::<RateLimit>().unwrap().to_string(), "5000/h");
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        for bad in ["", "10", "0/s", "-1/s", "10/day", "ten/s", "1.5/s", "/s"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,20}") {
            let _ = text.parse::<RateLimit>();
        }

        #[test]
        fn round_trips(count in 1u32..1_000_000, unit in prop::sample::select(vec!["s", "min", "h"])) {
            let text = format!("{count}/{unit}");
            prop_assert_eq!(text.parse::<RateLimit>().unwrap().to_string(), text);
        }
    }
}
