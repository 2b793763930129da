//! The client against small scripted axum servers on loopback: auth, pacing, retries, paging.

mod auth;
mod common;
mod paging;
mod rate;
mod retry;
