use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(relationships(
    arrangement(target = "Arrangement", dependency = "hard"),
    author(target = "Person", dependency = "strong"),
))]
struct Song {}

fn main() {}
