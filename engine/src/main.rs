//! The `tributary` command line (work in progress).

fn main() {}
