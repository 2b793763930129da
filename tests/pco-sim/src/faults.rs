//! Fault injection, deterministic under the seed: each request's fault is a function of the seed
//! and the request's sequence number.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// Fault settings (all off by default).
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Fraction of requests answered with a 5xx error document (500/502/503).
    pub error_rate: f64,
    /// Latency added to every API request.
    pub latency: Duration,
    /// Fraction of requests that hang for [`Self::hang_for`] before being answered.
    pub hang_rate: f64,
    /// How long a hung request hangs.
    pub hang_for: Duration,
    /// Fraction of requests whose connection is dropped after the headers.
    pub drop_rate: f64,
    /// Fraction of pages whose body is cut in half (connection closed mid-body).
    pub truncate_rate: f64,
    /// Fraction of pages served as complete but malformed JSON (status 200).
    pub malformed_rate: f64,
    /// Every `storm_every` requests, a storm of 429s begins (0 = never).
    pub storm_every: u64,
    /// Length of each 429 storm in requests.
    pub storm_len: u64,
}

/// The fault chosen for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serve normally.
    None,
    /// Answer with this 5xx status.
    ServerError(u16),
    /// Hang before answering.
    Hang,
    /// Drop the connection after the headers.
    Drop,
    /// Send half of the body, then close the connection.
    Truncate,
    /// Send syntactically broken JSON.
    Malformed,
    /// Answer 429 regardless of the budget.
    Storm,
}

impl FaultConfig {
    /// Whether any fault is enabled.
    pub fn any(&self) -> bool {
        self.error_rate > 0.0
            || !self.latency.is_zero()
            || self.hang_rate > 0.0
            || self.drop_rate > 0.0
            || self.truncate_rate > 0.0
            || self.malformed_rate > 0.0
            || self.storm_every > 0
    }

    /// The fault for request number `seq` (0-based) under `seed`.
    pub fn decide(&self, seed: u64, seq: u64) -> Fault {
        if self.storm_every > 0
            && seq % self.storm_every >= self.storm_every - self.storm_len.min(self.storm_every)
        {
            return Fault::Storm;
        }
        let mut rng = StdRng::seed_from_u64(seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let roll: f64 = rng.random();
        let mut edge = 0.0;
        for (rate, fault) in [
            (
                self.error_rate,
                Fault::ServerError([500, 502, 503][rng.random_range(0..3)]),
            ),
            (self.hang_rate, Fault::Hang),
            (self.drop_rate, Fault::Drop),
            (self.truncate_rate, Fault::Truncate),
            (self.malformed_rate, Fault::Malformed),
        ] {
            edge += rate;
            if roll < edge {
                return fault;
            }
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_close_to_rate() {
        let f = FaultConfig {
            error_rate: 0.1,
            ..Default::default()
        };
        let a: Vec<_> = (0..1000).map(|i| f.decide(7, i)).collect();
        let b: Vec<_> = (0..1000).map(|i| f.decide(7, i)).collect();
        assert_eq!(a, b);
        let errors = a
            .iter()
            .filter(|x| matches!(x, Fault::ServerError(_)))
            .count();
        assert!((50..150).contains(&errors), "{errors}");
        let s = FaultConfig {
            storm_every: 10,
            storm_len: 3,
            ..Default::default()
        };
        let storms: Vec<u64> = (0..20)
            .filter(|i| s.decide(1, *i) == Fault::Storm)
            .collect();
        assert_eq!(storms, vec![7, 8, 9, 17, 18, 19]);
    }
}
