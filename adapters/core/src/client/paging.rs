//! Offset-paged list streams.
//!
//! PCO pages with `offset` and says where the next page starts in `meta.next.offset` (and in
//! `links.next`). Pages are fetched one after another; with prefetch enabled, once the first
//! page reveals `total_count` and the page step, the remaining offsets are fetched with bounded
//! concurrency and still yielded in order. Whatever follows the predicted range (records added
//! meanwhile) is then followed sequentially again.

use futures::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;

use super::Client;
use crate::error::Error;
use crate::jsonapi::Document;
use crate::query::Query;

type Fetched<T> = Result<(u64, String, Document<Vec<T>>), Error>;

enum Cursor<T> {
    /// Fetch this offset next, sequentially.
    Next(u64),
    /// Drain prefetched pages; `tail` is the last page's `next`.
    Ahead {
        pages: BoxStream<'static, Fetched<T>>,
        tail: Option<u64>,
    },
    Done,
}

/// The offset of the page after `document`, which was fetched at `offset`.
fn next_offset<T>(
    document: &Document<Vec<T>>,
    url: &str,
    offset: u64,
) -> Result<Option<u64>, Error> {
    let next = document.meta.next.map(|n| n.offset).or_else(|| {
        let link = document.links.get("next")?.as_str()?;
        let parsed = url::Url::parse(link).ok()?;
        let found = parsed.query_pairs().find(|(k, _)| k == "offset")?;
        found.1.parse().ok()
    });
    match next {
        Some(n) if n <= offset => Err(Error::Paging {
            url: url.to_owned(),
            offset: Some(offset),
            reason: format!("next offset {n} does not advance"),
        }),
        // An empty page with a `next` would loop forever on a misbehaving server.
        Some(_) if document.data.is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl Client {
    /// Fetches the one page of a list endpoint at the query's `offset` (0 if unset), as raw
    /// resources. For callers that schedule pages themselves, e.g. many small nested lists
    /// at once.
    pub async fn raw_page(&self, path: &str, query: &Query) -> Result<super::RawPage, Error> {
        let offset = query
            .get("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0u64);
        let (offset, url, document) = self.fetch_page(path, query, offset).await?;
        // Refuse a page whose `next` does not advance here, as the streams do.
        next_offset(&document, &url, offset)?;
        Ok(super::RawPage {
            url,
            offset,
            document,
        })
    }

    async fn fetch_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        offset: u64,
    ) -> Fetched<T> {
        let mut query = query.clone();
        query.set("offset", offset.to_string());
        let document = self.fetch(path, &query, true).await?;
        Ok((offset, self.url(path, &query), document))
    }

    pub(super) fn paged<T, P>(
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
        let first = State {
            cursor: Cursor::Next(start),
            can_prefetch: client.inner.prefetch > 1,
        };
        stream::unfold(first, move |mut st| {
            let (client, path, query) = (client.clone(), path.clone(), query.clone());
            async move {
                let done = |e| Some((Err(e), State::done()));
                loop {
                    match std::mem::replace(&mut st.cursor, Cursor::Done) {
                        Cursor::Done => return None,
                        Cursor::Next(offset) => {
                            let (o, url, doc) =
                                match client.fetch_page::<T>(&path, &query, offset).await {
                                    Ok(page) => page,
                                    Err(e) => return done(e),
                                };
                            st.cursor = match next_offset(&doc, &url, o) {
                                Err(e) => return done(e),
                                Ok(None) => Cursor::Done,
                                Ok(Some(next)) if st.can_prefetch => {
                                    st.can_prefetch = false;
                                    plan_ahead(&client, &path, &query, &doc, o, next)
                                }
                                Ok(Some(next)) => Cursor::Next(next),
                            };
                            return Some((Ok(make(o, url, doc)), st));
                        }
                        Cursor::Ahead { mut pages, tail } => match pages.next().await {
                            None => {
                                st.cursor = tail.map_or(Cursor::Done, Cursor::Next);
                            }
                            Some(Err(e)) => return done(e),
                            Some(Ok((o, url, doc))) => {
                                let tail = match next_offset(&doc, &url, o) {
                                    Ok(t) => t,
                                    Err(e) => return done(e),
                                };
                                st.cursor = Cursor::Ahead { pages, tail };
                                return Some((Ok(make(o, url, doc)), st));
                            }
                        },
                    }
                }
            }
        })
        .boxed()
    }
}

struct State<T> {
    cursor: Cursor<T>,
    /// Prefetch is planned once, from the first page.
    can_prefetch: bool,
}

impl<T> State<T> {
    fn done() -> Self {
        Self {
            cursor: Cursor::Done,
            can_prefetch: false,
        }
    }
}

/// After the first page: prefetch the remaining offsets if `total_count` makes them known.
fn plan_ahead<T: DeserializeOwned + Send + 'static>(
    client: &Client,
    path: &str,
    query: &Query,
    first: &Document<Vec<T>>,
    offset: u64,
    next: u64,
) -> Cursor<T> {
    let Some(total) = first.meta.total_count else {
        return Cursor::Next(next);
    };
    let step = (next - offset) as usize;
    let offsets: Vec<u64> = (next..total).step_by(step).collect();
    if offsets.is_empty() {
        return Cursor::Next(next);
    }
    let (client, path, query) = (client.clone(), path.to_owned(), query.clone());
    let concurrency = client.inner.prefetch;
    let pages = stream::iter(offsets)
        .map(move |o| {
            let (client, path, query) = (client.clone(), path.clone(), query.clone());
            async move { client.fetch_page::<T>(&path, &query, o).await }
        })
        .buffered(concurrency)
        .boxed();
    Cursor::Ahead { pages, tail: None }
}
