use std::process::ExitCode;

fn main() -> ExitCode {
    passkey_pilot::cli::main()
}
