#![deny(missing_docs)]
//! The generator's fixture specs, compiled. If the generator emits code that does not build, or
//! that warns, this crate fails `cargo build` / `cargo clippy -- -D warnings`.

/// `codegen/tests/fixtures/kitchen_sink`: keywords, enums, unions, allOf, 3.1 type arrays.
pub mod kitchen_sink {
    include!(concat!(env!("OUT_DIR"), "/kitchen_sink.rs"));
}

/// `codegen/tests/fixtures/openapi30`: an OpenAPI 3.0 document.
pub mod openapi30 {
    include!(concat!(env!("OUT_DIR"), "/openapi30.rs"));
}
