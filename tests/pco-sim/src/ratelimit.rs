//! Per-credential fixed-window rate limiting with Planning Center's headers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Rate-limit settings.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests allowed per window for requests with `offset` above [`Self::deep_offset`].
    pub deep_limit: u32,
    /// Offset above which `deep_limit` applies.
    pub deep_offset: usize,
    /// Window length.
    pub period: Duration,
    /// When false every request is admitted (headers are still sent).
    pub enabled: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            limit: 100,
            deep_limit: 75,
            deep_offset: 30_000,
            period: Duration::from_secs(20),
            enabled: true,
        }
    }
}

/// Outcome of admitting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Requests counted in the current window, this one included.
    pub count: u32,
    /// The limit that applied.
    pub limit: u32,
    /// Window length in seconds.
    pub period: u64,
    /// `Some(seconds)` when the request must be rejected with 429.
    pub retry_after: Option<u64>,
}

struct Window {
    start: Instant,
    count: u32,
}

/// The limiter shared by all requests.
pub struct RateLimiter {
    cfg: RateLimitConfig,
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    /// A limiter with the given settings.
    pub fn new(cfg: RateLimitConfig) -> Self {
        RateLimiter {
            cfg,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RateLimitConfig {
        &self.cfg
    }

    /// Count a request of `credential` at `offset`; `force_reject` simulates a 429 storm.
    pub fn admit(&self, credential: &str, offset: usize, force_reject: bool) -> Decision {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let win = w.entry(credential.to_string()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(win.start) >= self.cfg.period {
            *win = Window {
                start: now,
                count: 0,
            };
        }
        let limit = if offset > self.cfg.deep_offset {
            self.cfg.deep_limit
        } else {
            self.cfg.limit
        };
        win.count = win.count.saturating_add(1);
        let left = self
            .cfg
            .period
            .saturating_sub(now.duration_since(win.start));
        let retry = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let over = self.cfg.enabled && win.count > limit;
        Decision {
            count: win.count,
            limit,
            period: self.cfg.period.as_secs(),
            retry_after: (over || force_reject).then_some(retry.max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_beyond_limit_per_credential() {
        let rl = RateLimiter::new(RateLimitConfig {
            limit: 2,
            ..Default::default()
        });
        assert!(rl.admit("a", 0, false).retry_after.is_none());
        assert!(rl.admit("a", 0, false).retry_after.is_none());
        let d = rl.admit("a", 0, false);
        assert_eq!(d.count, 3);
        assert!(d.retry_after.unwrap() <= 20);
        assert!(rl.admit("b", 0, false).retry_after.is_none());
    }
}
