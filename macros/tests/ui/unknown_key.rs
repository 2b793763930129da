use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(name = "Song", jsontype = "songs")]
struct Song {}

fn main() {}
