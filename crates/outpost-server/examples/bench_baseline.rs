//! Baseline for bench/run.sh and bench/heartbeats.sh: an axum server with no middleware
//! whose `GET /healthz` and `POST /agent/v1/heartbeat` return 200 with an empty body. It runs on the same multi-thread tokio runtime as
//! `outpost serve`, so the gap between the two is the cost of Outpost's layers and handler.
//!
//! Usage: `bench_baseline [ADDRESS]` (default 127.0.0.1:0, a free loopback port). Prints
//! `listening on ADDRESS` on standard output once the socket is bound.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;

/// The allocator of `outpost serve`, so that the comparison measures Outpost's layers only.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let address_text = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let address: SocketAddr = match address_text.parse() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("error: invalid address {address_text:?}: {error}; pass IP:PORT such as 127.0.0.1:0");
            return std::process::ExitCode::FAILURE;
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };

    match runtime.block_on(serve(address)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(address: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);

    let router = Router::new().route("/healthz", get(|| async {})).route("/agent/v1/heartbeat", post(|| async {}));
    axum::serve(listener, router).await
}
