//! The `tributary` command line.

#[cfg(not(target_env = "msvc"))]
mod allocator;
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
