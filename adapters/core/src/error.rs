//! Typed errors of the adapter runtime.
//!
//! Every variant names what the caller needs to act on (URL, page offset, attempt) and never a
//! credential: URLs carry no secrets (credentials travel in headers and form bodies only).

use serde::Deserialize;

/// One entry of a JSON:API error document (`errors[]`), as PCO sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// HTTP status as a string, e.g. `"404"`.
    #[serde(default)]
    pub status: Option<String>,
    /// Short title, e.g. `Not Found`.
    #[serde(default)]
    pub title: Option<String>,
    /// Human-readable detail.
    #[serde(default)]
    pub detail: Option<String>,
    /// Machine-readable code.
    #[serde(default)]
    pub code: Option<String>,
}

/// The body of a PCO error response.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDocument {
    /// The errors.
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

pub(crate) fn describe(errors: &[ApiError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            let mut s = e.title.clone().unwrap_or_default();
            if let Some(d) = &e.detail {
                if !s.is_empty() {
                    s.push_str(": ");
                }
                s.push_str(d);
            }
            if let Some(c) = &e.code {
                s.push_str(&format!(" [{c}]"));
            }
            s
        })
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        "no error detail".into()
    } else {
        parts.join("; ")
    }
}

/// Formats an optional page offset for messages: ` (offset 200)` or nothing.
fn at(offset: &Option<u64>) -> String {
    offset.map(|o| format!(" (offset {o})")).unwrap_or_default()
}

/// A token store's own failure, boxed so any backend (memory, SQL, …) can report.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong talking to an API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL or a path could not form a URL.
    #[error("invalid URL `{url}`: {reason}")]
    Url {
        /// The offending URL text.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The request could not be sent or the response not read (connection, timeout, …),
    /// on the last allowed attempt.
    #[error("request to {url}{} failed on attempt {attempt}: {source}", at(offset))]
    Transport {
        /// The request URL.
        url: String,
        /// The page offset requested, for list pages.
        offset: Option<u64>,
        /// 1-based attempt number.
        attempt: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered with an error status that is not retried, or retries ran out.
    #[error(
        "{url}{} answered {status} on attempt {attempt}: {}",
        at(offset),
        describe(errors)
    )]
    Api {
        /// The request URL.
        url: String,
        /// The page offset requested, for list pages.
        offset: Option<u64>,
        /// HTTP status.
        status: u16,
        /// 1-based attempt number.
        attempt: u32,
        /// The errors of PCO's error document, if it sent one.
        errors: Vec<ApiError>,
    },
    /// The API kept answering 429 beyond the configured number of rate-limited retries.
    #[error("{url}{} still rate limited (429) on attempt {attempt}", at(offset))]
    RateLimited {
        /// The request URL.
        url: String,
        /// The page offset requested, for list pages.
        offset: Option<u64>,
        /// 1-based attempt number.
        attempt: u32,
    },
    /// The body was not the JSON:API document expected (after the allowed retries).
    #[error(
        "{url}{} returned a malformed document on attempt {attempt}: {source}",
        at(offset)
    )]
    Decode {
        /// The request URL.
        url: String,
        /// The page offset requested, for list pages.
        offset: Option<u64>,
        /// 1-based attempt number.
        attempt: u32,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// A list endpoint's paging links were unusable (e.g. `next` does not advance).
    #[error("{url}{}: bad paging: {reason}", at(offset))]
    Paging {
        /// The request URL.
        url: String,
        /// The page offset requested.
        offset: Option<u64>,
        /// What was wrong.
        reason: String,
    },
    /// Authentication failed and cannot be recovered here: the organisation must reconnect
    /// (e.g. the refresh token was rejected with `invalid_grant`).
    #[error("authentication for organisation `{org}` failed: {reason}")]
    Auth {
        /// The organisation (token store key), or `-` for static credentials.
        org: String,
        /// Why, without any secret.
        reason: String,
    },
    /// The token store failed to load or persist tokens.
    #[error("token store failed for organisation `{org}`: {source}")]
    TokenStore {
        /// The organisation (token store key).
        org: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

impl Error {
    /// The HTTP status, when the API answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// True when a person must reconnect the organisation (credentials are no longer valid).
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Error::Auth { .. } | Error::Api { status: 401, .. })
    }

    /// The URL the error concerns, if any.
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::Url { url, .. }
            | Error::Transport { url, .. }
            | Error::Api { url, .. }
            | Error::RateLimited { url, .. }
            | Error::Decode { url, .. }
            | Error::Paging { url, .. } => Some(url),
            Error::Auth { .. } | Error::TokenStore { .. } => None,
        }
    }

    /// The page offset the error concerns, for list pages.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Transport { offset, .. }
            | Error::Api { offset, .. }
            | Error::RateLimited { offset, .. }
            | Error::Decode { offset, .. }
            | Error::Paging { offset, .. } => *offset,
            _ => None,
        }
    }
}
