use std::process::ExitCode;

// The webhook allocates a little per request on every core; mimalloc's per-thread heaps
// halve the allocator's share of CPU compared with glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    passkey_pilot::cli::main()
}
