//! Which page transactions may run beside each other on PostgreSQL.
//!
//! A page's records are written while the pages before it commit (see
//! `EntityWorkflow::pages`). Two transactions that write the same record would wait for each
//! other's row locks while the later one also waits for the earlier one's commit, so a page
//! that shares a record with any page still in flight waits until they have all committed.

use std::collections::{HashSet, VecDeque};

use crate::store::PageWrite;

/// Page transactions in flight at once on PostgreSQL.
///
/// Two left a fifth of both cores idle while pages were written (each transaction waits on
/// round trips: the fence, each `COPY`, the commit). The first 50,000-people sync into
/// PostgreSQL, interleaved runs of one build (medians): 2 → 2.26–2.34 s, 3 → 2.11–2.20 s,
/// 4 → 2.07–2.14 s, 6 → 2.09–2.22 s; with 4 the cores were busy 88 % of the page phase
/// instead of 78 %. Each page in flight holds a connection and its records (peak RSS 31 →
/// 33 MiB).
pub(super) const PG_PAGES_IN_FLIGHT: usize = 4;

/// (entity, remote id) pairs.
pub(super) type RecordKeys = HashSet<(String, String)>;

/// Every (entity, remote id) a page writes, side-loaded and quarantined records included.
pub(super) fn record_keys(write: &PageWrite) -> RecordKeys {
    let own = (write.entity.as_str(), &write.records, &write.quarantined);
    let side = write
        .side
        .iter()
        .map(|s| (s.entity.as_str(), &s.records, &s.quarantined));
    std::iter::once(own)
        .chain(side)
        .flat_map(|(entity, records, quarantined)| {
            let ids = records.iter().map(|r| &r.external_id);
            ids.chain(quarantined.iter().map(|q| &q.external_id))
                .map(move |id| (entity.to_owned(), id.clone()))
        })
        .collect()
}

/// The records of the pages that may still be in flight: with at most `depth` at once, a
/// new page can only run beside the last `depth - 1` sent.
#[derive(Debug)]
pub(super) struct InFlight {
    depth: usize,
    recent: VecDeque<RecordKeys>,
}

impl InFlight {
    /// No page in flight yet; at most `depth` at once (at least 1).
    pub(super) fn new(depth: usize) -> Self {
        InFlight {
            depth: depth.max(1),
            recent: VecDeque::new(),
        }
    }

    /// Whether a page writing `keys` shares no record with a page that may be in flight.
    pub(super) fn admits(&self, keys: &RecordKeys) -> bool {
        self.recent.iter().all(|before| before.is_disjoint(keys))
    }

    /// Every page sent has committed.
    pub(super) fn clear(&mut self) {
        self.recent.clear();
    }

    /// A page writing `keys` was sent to commit.
    pub(super) fn push(&mut self, keys: RecordKeys) {
        self.recent.push_back(keys);
        while self.recent.len() >= self.depth {
            self.recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ids: &[&str]) -> RecordKeys {
        ids.iter()
            .map(|id| ("Person".to_owned(), (*id).to_owned()))
            .collect()
    }

    #[test]
    fn a_page_waits_for_any_page_in_flight_that_shares_a_record() {
        let mut pages = InFlight::new(4);
        assert!(pages.admits(&keys(&["1"])));
        pages.push(keys(&["1", "2"]));
        pages.push(keys(&["3"]));
        pages.push(keys(&["4"]));
        // Three pages may be in flight: a record of any of them, not only the last, blocks.
        assert!(!pages.admits(&keys(&["2"])));
        assert!(!pages.admits(&keys(&["3", "9"])));
        assert!(pages.admits(&keys(&["5"])));
        // The same id of another entity is another record.
        let address: RecordKeys = [("Address".to_owned(), "2".to_owned())].into();
        assert!(pages.admits(&address));
        // A fourth page sent: the first can no longer be in flight beside a new one.
        pages.push(keys(&["5"]));
        assert!(pages.admits(&keys(&["1", "2"])));
        assert!(!pages.admits(&keys(&["3"])));
        pages.clear();
        assert!(pages.admits(&keys(&["3", "4", "5"])));
    }

    #[test]
    fn one_at_a_time_remembers_nothing() {
        let mut pages = InFlight::new(1);
        pages.push(keys(&["1"]));
        assert!(pages.admits(&keys(&["1"])));
        let mut two = InFlight::new(2);
        two.push(keys(&["1"]));
        assert!(!two.admits(&keys(&["1"])));
        two.push(keys(&["2"]));
        assert!(two.admits(&keys(&["1"])));
    }
}
