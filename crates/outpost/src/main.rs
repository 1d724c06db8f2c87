//! The `outpost` binary: the portal server and its operator commands.

mod admin;
mod cli;
mod logging;
mod serve;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The allocator. mimalloc serves the many small allocations of request handling from
/// per-thread pages, where glibc's allocator took locks shared by the worker threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let log_format = cli.log_format();
    logging::init(log_format);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };

    let is_server = matches!(cli.command, None | Some(Command::Serve(_)));
    let result = runtime.block_on(async {
        match cli.command {
            None => serve::run(cli.serve).await,
            Some(Command::Serve(args)) => serve::run(args).await,
            Some(Command::Migrate(args)) => serve::migrate(args).await,
            Some(Command::Admin(command)) => admin::run(command).await,
        }
    });

    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The server's log gets the error too; a command prints it once, for its user.
            if is_server {
                tracing::error!(error = format!("{error:#}"), "outpost stopped with an error");
            }
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
