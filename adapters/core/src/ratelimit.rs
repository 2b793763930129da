//! Client-side pacing from PCO's rate-limit headers.
//!
//! PCO answers every request with `X-PCO-API-Request-Rate-Count` (requests counted in the
//! current window), `-Limit` and `-Period` (seconds). The limits differ per credential and per
//! request (deep offsets get a lower limit), so they are learned from responses rather than
//! hard-coded. A 429 carries `Retry-After`; after one, nothing is sent until it has passed.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// What one response said about the rate limit; absent headers are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateObservation {
    /// Requests the server has counted in its current window (this one included).
    pub count: Option<u32>,
    /// Requests allowed per window.
    pub limit: Option<u32>,
    /// Window length.
    pub period: Option<Duration>,
}

impl RateObservation {
    /// Reads the `X-PCO-API-Request-Rate-*` headers.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let num =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Self {
            count: num("x-pco-api-request-rate-count").and_then(|n| u32::try_from(n).ok()),
            limit: num("x-pco-api-request-rate-limit").and_then(|n| u32::try_from(n).ok()),
            period: num("x-pco-api-request-rate-period")
                .filter(|&s| s > 0)
                .map(Duration::from_secs),
        }
    }
}

/// Parses `Retry-After` as delta-seconds (what PCO sends); HTTP dates fall back to `None`.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Paces requests sharing one budget. One instance is shared by every task using a credential;
/// a Redis-backed implementation can share it between processes.
///
/// Methods return boxed futures so the trait stays object-safe and backends may do I/O.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until one more request may be sent, and counts it.
    fn acquire(&self) -> BoxFuture<'_, ()>;
    /// Learns from a response's rate-limit headers.
    fn observe(&self, observation: RateObservation) -> BoxFuture<'_, ()>;
    /// Sends nothing for `wait` (a 429's `Retry-After`), for every task sharing the limiter.
    fn pause(&self, wait: Duration) -> BoxFuture<'_, ()>;
}

/// A limiter that never waits and ignores pauses: for benchmarks and servers without limits.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn observe(&self, _: RateObservation) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    fn pause(&self, _: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The in-process limiter: a sliding window over send times, sized from the learned limit.
///
/// A sliding window admits at most `limit` sends in *any* interval of the period, so it also
/// stays under a server's fixed window wherever that window's boundary falls. The period is
/// widened by a small margin to absorb network jitter between our send and the server's count.
pub struct WindowLimiter {
    state: Mutex<State>,
}

struct State {
    limit: u32,
    period: Duration,
    /// Send times within the (widened) window, oldest first.
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl State {
    fn window(&self) -> Duration {
        // 50 ms + 2 %: loopback/LAN jitter plus clock granularity, small against 20 s.
        self.period + Duration::from_millis(50) + self.period / 50
    }

    fn prune(&mut self, now: Instant) {
        let window = self.window();
        while self.sent.front().is_some_and(|&t| t + window <= now) {
            self.sent.pop_front();
        }
    }
}

impl WindowLimiter {
    /// PCO's documented default budget: 100 requests per 20 seconds.
    pub fn new() -> Self {
        Self::with_limit(100, Duration::from_secs(20))
    }

    /// A limiter starting at `limit` requests per `period` (later responses may change both).
    pub fn with_limit(limit: u32, period: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                limit: limit.max(1),
                period,
                sent: VecDeque::new(),
                paused_until: None,
            }),
        }
    }

    /// The currently learned `(limit, period)`.
    pub fn budget(&self) -> (u32, Duration) {
        let s = self.lock();
        (s.limit, s.period)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a send if allowed now, else says until when to wait.
    fn try_acquire(&self) -> Result<(), Instant> {
        let mut s = self.lock();
        let now = Instant::now();
        if let Some(until) = s.paused_until {
            if until > now {
                return Err(until);
            }
            s.paused_until = None;
        }
        s.prune(now);
        if (s.sent.len() as u64) < u64::from(s.limit) {
            s.sent.push_back(now);
            return Ok(());
        }
        let excess = s.sent.len() - s.limit as usize;
        // The send that must age out before there is room again.
        Err(s.sent[excess] + s.window())
    }
}

impl Default for WindowLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WindowLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("WindowLimiter")
            .field("limit", &s.limit)
            .field("period", &s.period)
            .field("in_window", &s.sent.len())
            .finish()
    }
}

impl RateLimiter for WindowLimiter {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            while let Err(until) = self.try_acquire() {
                tracing::trace!(
                    wait_ms = until.saturating_duration_since(Instant::now()).as_millis() as u64,
                    "rate limiter waiting"
                );
                tokio::time::sleep_until(until).await;
            }
        })
    }

    fn observe(&self, o: RateObservation) -> BoxFuture<'_, ()> {
        let mut s = self.lock();
        if let Some(limit) = o.limit.filter(|&l| l > 0) {
            s.limit = limit;
        }
        if let Some(period) = o.period {
            s.period = period;
        }
        if let Some(count) = o.count {
            // The server counts more than we sent: another process shares the credential.
            // Book the difference now so our pacing leaves room for it.
            let now = Instant::now();
            s.prune(now);
            for _ in s.sent.len()..count as usize {
                s.sent.push_back(now);
            }
        }
        Box::pin(async {})
    }

    fn pause(&self, wait: Duration) -> BoxFuture<'_, ()> {
        let mut s = self.lock();
        let until = Instant::now() + wait;
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pco_headers() {
        let mut h = HeaderMap::new();
        h.insert("X-PCO-API-Request-Rate-Count", "7".parse().unwrap());
        h.insert("X-PCO-API-Request-Rate-Limit", "100".parse().unwrap());
        h.insert("X-PCO-API-Request-Rate-Period", "20".parse().unwrap());
        h.insert("Retry-After", "3".parse().unwrap());
        let o = RateObservation::from_headers(&h);
        assert_eq!(o.count, Some(7));
        assert_eq!(o.limit, Some(100));
        assert_eq!(o.period, Some(Duration::from_secs(20)));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn window_admits_limit_then_waits() {
        let l = WindowLimiter::with_limit(3, Duration::from_secs(1));
        let t0 = Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert_eq!(Instant::now(), t0);
        l.acquire().await;
        assert!(Instant::now() >= t0 + Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn pause_blocks_and_headers_reshape() {
        let l = WindowLimiter::new();
        l.observe(RateObservation {
            count: Some(2),
            limit: Some(2),
            period: Some(Duration::from_secs(5)),
        })
        .await;
        assert_eq!(l.budget(), (2, Duration::from_secs(5)));
        let t0 = Instant::now();
        l.acquire().await; // window already full from the server's count
        assert!(Instant::now() >= t0 + Duration::from_secs(5));
        l.pause(Duration::from_secs(3)).await;
        let t1 = Instant::now();
        l.acquire().await;
        assert!(Instant::now() >= t1 + Duration::from_secs(3));
    }
}
