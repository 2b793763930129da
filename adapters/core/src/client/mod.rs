//! The HTTP client generated endpoint builders call.

use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use crate::entity::Entity;
use crate::error::{Error, ErrorDocument};
use crate::jsonapi::{Document, RawResource, Resource};
use crate::query::Query;

/// How requests authenticate.
#[derive(Clone)]
pub enum Auth {
    /// No credentials (tests only).
    None,
    /// A Personal Access Token: HTTP Basic `app_id:secret`.
    Basic {
        /// The application id.
        app_id: String,
        /// The secret.
        secret: SecretString,
    },
    /// An OAuth 2 access token.
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { app_id, .. } => write!(
                f,
                "Auth::Basic {{ app_id: {app_id:?}, secret: [REDACTED] }}"
            ),
            Auth::Bearer(_) => f.write_str("Auth::Bearer([REDACTED])"),
        }
    }
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    auth: Auth,
}

/// A cheaply clonable client for one API and one credential.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("auth", &self.inner.auth)
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

impl Client {
    /// A client for `base_url` (e.g. `https://api.planningcenteronline.com`).
    pub fn new(base_url: &str, auth: Auth) -> Result<Self, Error> {
        let parsed = url::Url::parse(base_url).map_err(|e| Error::Url {
            url: base_url.to_owned(),
            reason: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tributary/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Url {
                url: base_url.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: parsed.as_str().trim_end_matches('/').to_owned(),
                auth,
            }),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
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
        let url = self.url(path, query);
        let offset = query
            .get("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let mut req = self.inner.http.get(&url);
        req = match &self.inner.auth {
            Auth::None => req,
            Auth::Basic { app_id, secret } => req.basic_auth(app_id, Some(secret.expose_secret())),
            Auth::Bearer(token) => req.bearer_auth(token.expose_secret()),
        };
        let transport = |source| Error::Transport {
            url: url.clone(),
            attempt: 1,
            source,
        };
        let response = req.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if !status.is_success() {
            let doc: ErrorDocument = serde_json::from_slice(&body).unwrap_or_default();
            return Err(Error::Api {
                url,
                status: status.as_u16(),
                attempt: 1,
                errors: doc.errors,
            });
        }
        serde_json::from_slice(&body).map_err(|source| Error::Decode {
            url,
            offset,
            source,
        })
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

    fn paged<T, P>(
        &self,
        path: String,
        query: Query,
        make: fn(u64, String, Document<Vec<T>>) -> P,
    ) -> BoxStream<'static, Result<P, Error>>
    where
        T: DeserializeOwned + Send + 'static,
        P: Send + 'static,
    {
        let client = self.clone();
        let start = query
            .get("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0u64);
        stream::try_unfold(Some(start), move |next| {
            let (client, path, mut query) = (client.clone(), path.clone(), query.clone());
            async move {
                let Some(offset) = next else { return Ok(None) };
                query.set("offset", offset.to_string());
                let document: Document<Vec<T>> = client.get(&path, &query).await?;
                let next = document.meta.next.map(|n| n.offset);
                let url = client.url(&path, &query);
                Ok(Some((make(offset, url, document), next)))
            }
        })
        .boxed()
    }
}
