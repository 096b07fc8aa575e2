//! The workshop's server: one route, port 3030, and a clean exit on SIGTERM
//! so that `docker stop` does not have to wait for its timeout and kill it.

use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// 0.0.0.0, not 127.0.0.1: inside a container, only an address on every
/// interface is reachable through a published port.
const ADDR: &str = "0.0.0.0:3030";

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(|| async { "Hello from a multi-stage build!\n" }));
    let listener = TcpListener::bind(ADDR).await?;
    println!("listening on {ADDR}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    println!("shut down cleanly");
    Ok(())
}

/// Resolves on SIGTERM (what `docker stop` sends) or Ctrl-C (a terminal run).
async fn shutdown() {
    let mut term =
        signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
