use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(relationships(address(target = "Address", dependency = "hard")))]
struct Person {}

#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(relationships(person(target = "Person", dependency = "hard")))]
struct Address {}

tributary_macros::entity_manifest! {
    static MANIFEST = {
        adapter: "cycle",
        base_url: "https://api.example.org",
        entities: [Person, Address],
    };
}

fn main() {
    let _ = &MANIFEST;
}
