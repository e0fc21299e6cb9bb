//! A source's own slowdown after the vendor's 429s: a gap kept between the starts of its
//! requests, on top of the rate limiter. Each 429 doubles the gap (from a floor); each success
//! takes a sixteenth off. A source whose `rate_limit` is above what the vendor allows — or that
//! runs beside other clients of the same account — settles just under the vendor's real rate
//! instead of losing request after request to 429s that give no `Retry-After`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The longest gap: a vendor that throttles one request in 5 s is down, not busy.
const CEILING: Duration = Duration::from_secs(5);

pub struct Pace {
    /// The first gap a 429 opens: the rate limiter's period, or a default without one.
    floor: Duration,
    state: Mutex<State>,
}

struct State {
    gap: Duration,
    /// When the next request may start.
    next: Instant,
}

impl Pace {
    pub fn new(floor: Duration) -> Pace {
        Pace {
            floor: floor.max(Duration::from_millis(1)),
            state: Mutex::new(State {
                gap: Duration::ZERO,
                next: Instant::now(),
            }),
        }
    }

    /// Waits for this request's start: immediately while the vendor has not throttled.
    pub async fn turn(&self) {
        let start = {
            let mut state = self.lock();
            if state.gap.is_zero() {
                return;
            }
            let start = state.next.max(Instant::now());
            state.next = start + state.gap;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// The vendor answered 429: requests start further apart.
    pub fn throttled(&self) {
        let mut state = self.lock();
        state.gap = (state.gap * 2).clamp(self.floor, CEILING);
    }

    /// A request went through: the gap narrows, and closes once it is below a millisecond.
    pub fn succeeded(&self) {
        let mut state = self.lock();
        let gap = state.gap;
        state.gap = gap - gap / 16;
        if state.gap < Duration::from_millis(1) {
            state.gap = Duration::ZERO;
        }
    }

    pub fn gap(&self) -> Duration {
        self.lock().gap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_widens_the_gap_and_success_narrows_it_back() {
        let pace = Pace::new(Duration::from_millis(100));
        assert_eq!(pace.gap(), Duration::ZERO);
        pace.throttled();
        assert_eq!(pace.gap(), Duration::from_millis(100));
        pace.throttled();
        pace.throttled();
        assert_eq!(pace.gap(), Duration::from_millis(400));
        for _ in 0..10 {
            pace.throttled();
        }
        assert_eq!(pace.gap(), CEILING);
        for _ in 0..300 {
            pace.succeeded();
        }
        assert_eq!(pace.gap(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_start_a_gap_apart_once_throttled() {
        let pace = Pace::new(Duration::from_millis(200));
        let begin = Instant::now();
        pace.turn().await;
        pace.turn().await;
        assert_eq!(begin.elapsed(), Duration::ZERO, "no gap before a 429");
        pace.throttled();
        pace.turn().await;
        pace.turn().await;
        pace.turn().await;
        assert!(
            begin.elapsed() >= Duration::from_millis(400),
            "{:?}",
            begin.elapsed()
        );
    }
}
