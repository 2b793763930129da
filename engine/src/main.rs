//! The `tributary` command line.

#[cfg(not(target_env = "msvc"))]
mod allocator;
mod cli;

fn main() -> std::process::ExitCode {
    #[cfg(not(target_env = "msvc"))]
    allocator::limit_c_arenas();
    cli::main()
}
