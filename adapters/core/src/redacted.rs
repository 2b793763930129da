//! [`Redacted`]: a value that serialises as itself but never shows in `Debug` output.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Wraps an attribute a spec marks as secret (`secrets:` in the manifest), such as a webhook's
/// `authenticity_secret`: it round-trips through JSON unchanged, but `Debug` prints `[REDACTED]`,
/// so logs and error messages never carry it.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Redacted<T>(pub T);

impl<T> Redacted<T> {
    /// The secret value. Call sites that expose it are easy to find by this name.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_in_debug_but_round_trips() {
        let s = Redacted("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"hunter2\"");
        let back: Redacted<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), "hunter2");
    }
}
