//! The `oss-emulator` command: parse flags, print the listening line first, serve until SIGINT/SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use oss_emulator::{prepare, serve, Command, Config};

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(Command::Run(c)) => c,
        Ok(Command::Help) => {
            println!("{}", oss_emulator::config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("oss-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    oss_emulator::datafile::tune_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_name("oss-emulator")
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("oss-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(*config));
    // Open connections are cut here; their uncommitted writes roll back.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oss-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> std::io::Result<()> {
    let bind = SocketAddr::new(config.bind, config.port);
    // The temporary data directory (when no --data-dir) is removed when `_temp` drops at exit.
    let (state, _temp, data_dir) = prepare(config)?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    // Best effort: a reader that closed our stdout after the first line must not stop the server.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}");
    // The control plane's token, on a line of its own so that scripts can read it (see emulator/README.md).
    let _ = writeln!(out, "control token: {}", state.config.control_token);
    let _ = writeln!(
        out,
        "bucket {} (also: {}), region {}, access key id {}, data dir {}",
        state.config.bucket,
        if state.config.extra_buckets.is_empty() {
            "none".to_owned()
        } else {
            state.config.extra_buckets.join(", ")
        },
        state.config.region,
        state.config.access_key_id,
        data_dir.display()
    );
    let _ = out.flush();
    drop(out);
    serve(listener, state, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
