//! PCO adapter (work in progress).
