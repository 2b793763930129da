//! The HTTP client generated endpoint builders call.
//!
//! - [`request`]: one logical GET: auth, rate limiting, retries, error mapping, tracing.
//! - [`paging`]: offset-paged list streams with optional in-order prefetch.

mod paging;
mod request;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use serde::de::DeserializeOwned;

pub use crate::auth::Auth;
use crate::entity::Entity;
use crate::error::Error;
use crate::jsonapi::{Document, RawResource, Resource};
use crate::query::Query;
use crate::ratelimit::{RateLimiter, WindowLimiter};
use crate::retry::RetryPolicy;

struct Inner {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
    limiter: Arc<dyn RateLimiter>,
    retry: RetryPolicy,
    timeout: Duration,
    prefetch: usize,
}

/// A cheaply clonable client for one API and one credential; clones share the rate limiter
/// and the token refresh lock.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("auth", &self.inner.auth)
            .field("limiter", &self.inner.limiter)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .field("prefetch", &self.inner.prefetch)
            .finish()
    }
}

/// One page of a list endpoint.
#[derive(Debug, Clone)]
pub struct Page<E: Entity> {
    /// The offset this page was requested at.
    pub offset: u64,
    /// The decoded document.
    pub document: Document<Vec<Resource<E>>>,
}

impl<E: Entity> Page<E> {
    /// The page's side-loaded resources, indexed for resolving relationships.
    pub fn included(&self) -> crate::include::Included<'_> {
        crate::include::Included::new(&self.document.included)
    }
}

/// One page of a list endpoint, undecoded: what the engine streams, validates and maps.
#[derive(Debug, Clone)]
pub struct RawPage {
    /// The URL of the page (for error messages and quarantine records).
    pub url: String,
    /// The offset this page was requested at.
    pub offset: u64,
    /// The decoded document with untyped resources.
    pub document: Document<Vec<RawResource>>,
}

/// Options of a [`Client`]; start with [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    limiter: Option<Arc<dyn RateLimiter>>,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    prefetch: usize,
}

impl ClientBuilder {
    /// Shares `limiter` (e.g. between clients of one credential, or a distributed one).
    /// Default: a fresh [`WindowLimiter`] at 100 requests / 20 s, adapted from headers.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Retry policy (attempts, backoff). Default: [`RetryPolicy::default`].
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends allowed per request for retryable failures (shortcut into [`RetryPolicy`]).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.retry.max_attempts = n.max(1);
        self
    }

    /// Whole-request timeout, body included. Default 30 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout. Default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Pages fetched concurrently once `total_count` is known (1 = sequential, the default).
    /// Pages are still yielded in order.
    pub fn prefetch(mut self, pages: usize) -> Self {
        self.prefetch = pages.max(1);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url;
        let bad = |reason: String| Error::Url {
            url: base_url.clone(),
            reason,
        };
        let parsed = url::Url::parse(&base_url).map_err(|e| bad(e.to_string()))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tributary/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: parsed.as_str().trim_end_matches('/').to_owned(),
                auth: self.auth,
                limiter: self
                    .limiter
                    .unwrap_or_else(|| Arc::new(WindowLimiter::new())),
                retry: self.retry,
                timeout: self.timeout,
                prefetch: self.prefetch,
            }),
        })
    }
}

impl Client {
    /// A client for `base_url` (e.g. `https://api.planningcenteronline.com`) with default
    /// options.
    pub fn new(base_url: &str, auth: Auth) -> Result<Self, Error> {
        Self::builder(base_url, auth).build()
    }

    /// A builder for a client with non-default options.
    pub fn builder(base_url: &str, auth: Auth) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            auth,
            limiter: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            prefetch: 1,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The rate limiter this client paces with.
    pub fn rate_limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.inner.limiter
    }

    fn url(&self, path: &str, query: &Query) -> String {
        let q = query.encode();
        if q.is_empty() {
            format!("{}{}", self.inner.base_url, path)
        } else {
            format!("{}{}?{}", self.inner.base_url, path, q)
        }
    }

    /// GETs `path` with `query` and decodes the JSON body as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Query) -> Result<T, Error> {
        self.fetch(path, query, false).await
    }

    /// Streams every page of a list endpoint as typed resources, following `meta.next.offset`.
    pub fn pages<E: Entity>(
        &self,
        path: String,
        query: Query,
    ) -> BoxStream<'static, Result<Page<E>, Error>> {
        self.paged(path, query, |offset, _url, document| Page {
            offset,
            document,
        })
    }

    /// Streams every page of a list endpoint as raw resources, following `meta.next.offset`.
    pub fn raw_pages(
        &self,
        path: String,
        query: Query,
    ) -> BoxStream<'static, Result<RawPage, Error>> {
        self.paged(path, query, |offset, url, document| RawPage {
            url,
            offset,
            document,
        })
    }
}
