//! Several API pages in one transaction: pages of nested lists that arrive together, and list
//! pages that queued while the previous transaction committed.

use crate::store::{Dialect, PageWrite};

/// The most list pages one transaction commits, by database.
///
/// SQLite: 8. Its single writer is the slower side, and every commit rewrites each index leaf
/// the transaction touched (the `updated_at` and edge-target indexes take inserts all over), so
/// fewer, larger transactions write less. At 50k people, three interleaved runs each (one
/// session): 4 pages 3.13–3.15 s median, 8 pages 2.79 s, 12 pages 2.62 s, 16 pages 2.52 s; but
/// queued pages are memory, and peak RSS from 10k to 1M people grew 1.14× with 8, 1.18× with 12
/// and 1.22× with 16 (the bar is 1.2×). PostgreSQL: 8. Its pages overlap on several connections
/// (see `inflight`); larger groups made each wait longer while a transaction's own work
/// dominated (4: 6.4–7.0 s, 16: 8.5 s; later, with four pages in flight, 4 → 2.12 s, 8 →
/// 2.19 s), but with the links on the rows a group's fixed costs weigh more (about 0.18 ms of
/// server time per `COPY`, five a transaction): 23 interleaved pairs at 50k people, 4 pages
/// against 8, medians 2.05 / 1.93 / 2.00 / 1.97 → 1.96 / 1.88 / 1.93 / 1.95 s over four series;
/// peak RSS 28 → 36 MiB.
pub(super) fn group_pages(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Sqlite => 8,
        Dialect::Postgres => 8,
    }
}

/// One transaction for pages that are ready together; the later checkpoint wins.
pub(super) fn merge(mut acc: PageWrite, next: PageWrite) -> PageWrite {
    acc.records.extend(next.records);
    acc.quarantined.extend(next.quarantined);
    acc.fetched += next.fetched;
    acc.pages += next.pages;
    acc.checkpoint = next.checkpoint;
    for s in next.side {
        match acc.side.iter_mut().find(|a| a.entity == s.entity) {
            Some(a) => {
                a.records.extend(s.records);
                a.quarantined.extend(s.quarantined);
                a.fetched += s.fetched;
            }
            None => acc.side.push(s),
        }
    }
    acc
}

/// A prepared page from the producer, with the list's `total_count` when it has one.
pub(super) type Prepared<E> = Result<(PageWrite, Option<u64>), E>;

/// Merges into `write` the pages already waiting in `rx`, until it holds `limit` API pages.
/// A page transaction rewrites every index leaf it touches, and the `updated_at` indexes take
/// inserts all over, so fewer, larger transactions write each hot leaf once rather than once
/// per page. Waiting pages exist only when the database is the slower side, so a fast writer
/// still commits page by page. Stops at a broken page and returns its error, for after the
/// pages before it have committed.
pub(super) fn gather<E>(
    rx: &mut tokio::sync::mpsc::Receiver<Prepared<E>>,
    mut write: PageWrite,
    mut total: Option<u64>,
    limit: usize,
) -> (PageWrite, Option<u64>, Option<E>) {
    while write.pages < limit {
        match rx.try_recv() {
            Ok(Ok((next, next_total))) => {
                write = merge(write, next);
                total = next_total.or(total);
            }
            Ok(Err(e)) => return (write, total, Some(e)),
            Err(_) => break,
        }
    }
    (write, total, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Checkpoint, SideWrite};

    /// An API page at `offset` with one side-loaded entity (no records: counts are enough).
    fn page(offset: i64) -> PageWrite {
        PageWrite {
            entity: "Person".into(),
            records: Vec::new(),
            quarantined: Vec::new(),
            checkpoint: Checkpoint {
                cursor_parent: None,
                next_offset: Some(offset + 100),
                done: false,
            },
            fetched: 100,
            pages: 1,
            side: vec![SideWrite {
                entity: "Email".into(),
                records: Vec::new(),
                quarantined: Vec::new(),
                fetched: 7,
            }],
        }
    }

    #[tokio::test]
    async fn waiting_pages_merge_up_to_the_limit_and_the_last_checkpoint_wins() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Prepared<String>>(8);
        for o in [100, 200, 300, 400, 500] {
            tx.send(Ok((page(o), Some(o as u64)))).await.unwrap();
        }
        let (w, total, broken) = gather(&mut rx, page(0), None, 4);
        assert!(broken.is_none());
        assert_eq!((w.pages, w.fetched), (4, 400));
        assert_eq!(w.checkpoint.next_offset, Some(400));
        assert_eq!(total, Some(300));
        assert_eq!(w.side.len(), 1);
        assert_eq!(w.side[0].fetched, 28);
        // The rest waits for the next transaction.
        let (w, total, _) = gather(&mut rx, page(1000), None, 4);
        assert_eq!((w.pages, total), (3, Some(500)));
        assert_eq!(w.checkpoint.next_offset, Some(600));
    }

    #[tokio::test]
    async fn nothing_waiting_commits_the_page_alone() {
        let (_tx, mut rx) = tokio::sync::mpsc::channel::<Prepared<String>>(8);
        let (w, total, broken) = gather(&mut rx, page(0), Some(9), 4);
        assert_eq!((w.pages, total, broken), (1, Some(9), None));
    }

    #[tokio::test]
    async fn a_broken_page_stops_the_group_after_the_pages_before_it() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Prepared<String>>(8);
        tx.send(Ok((page(100), None))).await.unwrap();
        tx.send(Err("page 200 is broken".into())).await.unwrap();
        tx.send(Ok((page(300), None))).await.unwrap();
        let (w, _, broken) = gather(&mut rx, page(0), None, 4);
        assert_eq!(w.pages, 2);
        assert_eq!(w.checkpoint.next_offset, Some(200));
        assert_eq!(broken.as_deref(), Some("page 200 is broken"));
    }
}
