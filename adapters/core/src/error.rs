//! Typed errors of the adapter runtime.

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

/// What went wrong talking to an API. Every variant names the URL (never a credential).
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
    /// The request could not be sent or the response not read.
    #[error("request to {url} failed on attempt {attempt}: {source}")]
    Transport {
        /// The request URL.
        url: String,
        /// 1-based attempt number.
        attempt: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered with an error status.
    #[error("{url} answered {status} on attempt {attempt}: {}", describe(errors))]
    Api {
        /// The request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// 1-based attempt number.
        attempt: u32,
        /// The errors of PCO's error document, if it sent one.
        errors: Vec<ApiError>,
    },
    /// The body was not the JSON:API document expected.
    #[error("{url} (offset {offset}) returned a malformed document: {source}")]
    Decode {
        /// The request URL.
        url: String,
        /// The page offset requested.
        offset: u64,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// Authentication failed and could not be recovered.
    #[error("authentication failed: {0}")]
    Auth(String),
}
