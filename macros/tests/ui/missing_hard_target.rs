// `Address` depends hard on `Person`, which this manifest does not list.
tributary_macros::entity_manifest! {
    static MANIFEST = {
        adapter: "partial",
        base_url: "https://api.example.org",
        entities: [tributary_pco::Campus, tributary_pco::Address],
    };
}

fn main() {
    let _ = &MANIFEST;
}
