use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = infraverify::cli::Cli::parse();
    match infraverify::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Policy diagnostics carry their own "error:" lines and source snippets.
            if e.downcast_ref::<infraverify::policy::Diagnostics>()
                .is_some()
            {
                eprintln!("{e}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(infraverify::app::EXIT_INVALID)
        }
    }
}
