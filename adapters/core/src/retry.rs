//! Bounded retries with jittered exponential backoff.

use std::time::Duration;

use rand::Rng;

/// How hard the client tries before giving up on a request.
///
/// Failures that may pass (5xx, timeouts, dropped connections, malformed list pages) are retried
/// up to `max_attempts` sends in all. 429s are paced by the rate limiter and counted separately
/// against `max_rate_limited`, so a long 429 storm does not eat the failure budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends allowed for failures, the first one included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Cap of one backoff.
    pub max_delay: Duration,
    /// 429 answers tolerated for one request before [`Error::RateLimited`](crate::Error).
    pub max_rate_limited: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_rate_limited: 20,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): "equal jitter", half fixed and half
    /// random, so concurrent clients spread out but never retry immediately.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        let jitter = rand::rng().random_range(0..=half.as_micros() as u64);
        half + Duration::from_micros(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            assert!(p.backoff(30) <= Duration::from_secs(1));
        }
    }
}
