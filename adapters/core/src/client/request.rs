//! One logical GET: credentials, pacing, retries and error mapping, traced per attempt.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tracing::Instrument;
use tracing::field::Empty;

use super::Client;
use crate::auth::{Auth, RefreshCtx};
use crate::error::{Error, ErrorDocument};
use crate::query::Query;
use crate::ratelimit::{RateObservation, retry_after};

/// What one send produced, before the retry decision.
enum Outcome<T> {
    Done(T),
    /// Try again after this wait (already counted against the failure budget).
    Retry(Duration),
    /// Try again at once (429 pause is in the limiter; 401 refresh done).
    Again,
}

impl Client {
    fn refresh_ctx(&self) -> RefreshCtx<'_> {
        RefreshCtx {
            http: &self.inner.http,
            base_url: &self.inner.base_url,
            timeout: self.inner.timeout,
            retry: &self.inner.retry,
        }
    }

    /// GETs `path` with retries. `list` pages also retry bodies that parse as JSON but not as
    /// the expected document (a truncated or garbled page is usually transient).
    pub(super) async fn fetch<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        list: bool,
    ) -> Result<T, Error> {
        let url = self.url(path, query);
        let offset = query.get("offset").and_then(|o| o.parse().ok());
        let mut attempt = 0u32;
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut reauthed = false;
        loop {
            attempt += 1;
            let span = tracing::debug_span!(
                "http.request",
                method = "GET",
                path,
                offset,
                attempt,
                status = Empty,
                duration_ms = Empty,
            );
            let step = Step {
                client: self,
                url: &url,
                offset,
                attempt,
                list,
            };
            match step
                .run(&mut failures, &mut throttled, &mut reauthed)
                .instrument(span)
                .await?
            {
                Outcome::Done(value) => return Ok(value),
                Outcome::Retry(wait) => tokio::time::sleep(wait).await,
                Outcome::Again => {}
            }
        }
    }
}

struct Step<'a> {
    client: &'a Client,
    url: &'a str,
    offset: Option<u64>,
    attempt: u32,
    list: bool,
}

impl Step<'_> {
    async fn run<T: DeserializeOwned>(
        &self,
        failures: &mut u32,
        throttled: &mut u32,
        reauthed: &mut bool,
    ) -> Result<Outcome<T>, Error> {
        let inner = &self.client.inner;
        let policy = &inner.retry;
        let mut req = inner
            .http
            .get(self.url)
            .timeout(inner.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        let mut bearer: Option<SecretString> = None;
        req = match &inner.auth {
            Auth::None => req,
            Auth::Basic { app_id, secret } => req.basic_auth(app_id, Some(secret.expose_secret())),
            Auth::Bearer(token) => req.bearer_auth(token.expose_secret()),
            Auth::OAuth(oauth) => {
                let token = oauth.access_token(&self.client.refresh_ctx()).await?;
                let req = req.bearer_auth(token.expose_secret());
                bearer = Some(token);
                req
            }
        };
        // Acquire last so nothing sits between the permit and the send (a 429 pause must
        // hold every task that has not sent yet).
        inner.limiter.acquire().await;
        let started = Instant::now();
        let span = tracing::Span::current();
        let sent = req.send().await;
        let fail = |failures: &mut u32, why: &dyn std::fmt::Display| -> Option<Duration> {
            *failures += 1;
            if *failures < policy.max_attempts {
                let wait = policy.backoff(*failures);
                tracing::warn!(reason = %why, wait_ms = wait.as_millis() as u64, "request failed; retrying");
                Some(wait)
            } else {
                None
            }
        };
        let transport = |source: reqwest::Error| Error::Transport {
            url: self.url.to_owned(),
            offset: self.offset,
            attempt: self.attempt,
            source: source.without_url(),
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                span.record("duration_ms", started.elapsed().as_millis() as u64);
                return match fail(failures, &e) {
                    Some(wait) => Ok(Outcome::Retry(wait)),
                    None => Err(transport(e)),
                };
            }
        };
        let status = response.status();
        span.record("status", status.as_u16());
        let headers = response.headers().clone();
        let mut observed = RateObservation::from_headers(&headers);
        if status.as_u16() == 429 {
            // The over-limit count only lasts until Retry-After, which the pause covers;
            // booking it for a whole period would stall us long after the server resets.
            observed.count = None;
        }
        inner.limiter.observe(observed).await;
        let body = response.bytes().await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                return match fail(failures, &e) {
                    Some(wait) => Ok(Outcome::Retry(wait)),
                    None => Err(transport(e)),
                };
            }
        };
        let api_error = |body: &[u8]| Error::Api {
            url: self.url.to_owned(),
            offset: self.offset,
            status: status.as_u16(),
            attempt: self.attempt,
            errors: serde_json::from_slice::<ErrorDocument>(body)
                .unwrap_or_default()
                .errors,
        };
        match status.as_u16() {
            429 => {
                *throttled += 1;
                let wait = retry_after(&headers).unwrap_or(Duration::from_secs(1));
                inner.limiter.pause(wait).await;
                tracing::info!(
                    retry_after_ms = wait.as_millis() as u64,
                    "rate limited (429)"
                );
                if *throttled > policy.max_rate_limited {
                    return Err(Error::RateLimited {
                        url: self.url.to_owned(),
                        offset: self.offset,
                        attempt: self.attempt,
                    });
                }
                Ok(Outcome::Again)
            }
            401 if !*reauthed && bearer.is_some() => {
                *reauthed = true;
                if let (Auth::OAuth(oauth), Some(used)) = (&inner.auth, &bearer) {
                    tracing::info!("401: refreshing the access token");
                    oauth.unauthorized(&self.client.refresh_ctx(), used).await?;
                }
                Ok(Outcome::Again)
            }
            s if s >= 500 => match fail(failures, &status) {
                Some(wait) => Ok(Outcome::Retry(wait)),
                None => Err(api_error(&body)),
            },
            _ if !status.is_success() => Err(api_error(&body)),
            _ => match decode::<T>(&body) {
                Ok(value) => {
                    tracing::debug!("ok");
                    Ok(Outcome::Done(value))
                }
                Err(e) => {
                    // Syntax/EOF errors are transport damage; a shape mismatch on a single
                    // GET is deterministic and not worth repeating.
                    let retryable = self.list || e.is_syntax() || e.is_eof();
                    match retryable.then(|| fail(failures, &e)).flatten() {
                        Some(wait) => Ok(Outcome::Retry(wait)),
                        None => Err(Error::Decode {
                            url: self.url.to_owned(),
                            offset: self.offset,
                            attempt: self.attempt,
                            source: e,
                        }),
                    }
                }
            },
        }
    }
}

/// Decodes a response body. The whole body is checked as UTF-8 once, then parsed as text:
/// parsing bytes checks every string on its own, 3 % of a sync's instructions. A body that is
/// not UTF-8 takes the byte parser, whose error says where.
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn bodies_decode_as_text_and_bad_bytes_are_errors() {
        let v: serde_json::Value =
            decode(b"{\"a\": \"\\u00e9t\\u00e9\", \"b\": \"caf\xc3\xa9\"}").unwrap();
        assert_eq!(v["a"], "été");
        assert_eq!(v["b"], "café");
        // Invalid UTF-8 inside a string: an error from the byte parser, not a panic.
        let err = decode::<serde_json::Value>(b"{\"a\": \"\xff\"}").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(
            decode::<serde_json::Value>(b"{\"a\": ")
                .unwrap_err()
                .is_eof()
        );
    }
}
