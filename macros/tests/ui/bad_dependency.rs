use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(relationships(
    arrangement(target = "Arrangement", dependency = "strong"),
    author(dependency = "soft"),
))]
struct Song {}

fn main() {}
