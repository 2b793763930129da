//! The process allocator: jemalloc with one arena and small thread caches.
//!
//! A sync allocates and frees a page of records at a time (JSON values, strings, bound
//! parameters): about a quarter of its CPU went to glibc's `malloc`/`free`. Measured at
//! 100,000 people, 4 entities → SQLite, one run each: glibc 16.0 s CPU / 38.1 MiB peak RSS;
//! jemalloc with its defaults 12.9 s / 52.4 MiB (an arena per CPU, each keeping its own free
//! pages); one arena and thread caches for sizes up to 1 KiB 13.0 s / 36.0 MiB. The thread
//! caches take most allocations without the arena's lock, so one arena costs no measurable
//! time. Freed pages go back to the system after about a second (`dirty_decay_ms:1000`,
//! `muzzy_decay_ms:0`) rather than jemalloc's 10 s: since pages are parsed, prepared and
//! written on different threads, freed pages piled up over a run, and peak RSS grew with the
//! organisation (100,000 people, two runs each: 36.6 and 37.6 MiB → 32.3 and 31.6 MiB; 10,000
//! people unchanged at about 29.5 MiB; the same time at 50,000). Returning them at once
//! (`dirty_decay_ms:0`) tripled the system time. `_RJEM_MALLOC_CONF` overrides these options
//! at run time.
//!
//! SQLite, a C library, allocates through the C library's `malloc` instead (its page cache,
//! statements, journals). glibc gives each thread that allocates its own arena, and the arena
//! of SQLite's worker thread kept growing with the database: peak anonymous memory 26.8 MiB at
//! 10,000 people, 34.7 MiB at 300,000. With one arena ([`limit_c_arenas`]) it was 26.4 and
//! 28.1 MiB at 300,000 (two runs), at no measurable cost in time.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this C string at start-up (`_rjem_` is the symbol prefix
/// tikv-jemallocator builds jemalloc with). A thin pointer, as C's `const char *`.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: Option<&'static u8> =
    Some(&b"narenas:1,tcache_max:1024,dirty_decay_ms:1000,muzzy_decay_ms:0\0"[0]);

/// Limits glibc's `malloc` to one arena (what `MALLOC_ARENA_MAX=1` does), before any thread
/// starts. Only C code allocates there (Rust goes to jemalloc), so one lock costs nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_c_arenas() {
    // SAFETY: `mallopt` only sets a tunable of glibc's allocator; it is called before any
    // other thread exists. A refusal (0) leaves glibc's default, which is still correct.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other C libraries: nothing to limit.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_c_arenas() {}
