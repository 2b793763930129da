use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
enum Song {
    Hymn,
}

fn main() {}
