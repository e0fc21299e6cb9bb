//! `customer-export run`: extract → transform → load for each pipeline.

use std::process::ExitCode;

use crate::cli::RunArgs;

pub fn main(args: RunArgs) -> ExitCode {
    for path in &args.pipelines {
        if let Err(e) = crate::pipeline::load(path, args.sandbox, crate::pipeline::EnvMode::Strict)
        {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    eprintln!("error: the extract stage is not built yet");
    ExitCode::from(1)
}
