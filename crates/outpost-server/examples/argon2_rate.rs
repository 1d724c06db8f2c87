//! Measures how many argon2id password verifications per second this machine does with the
//! parameters of the server's `PasswordHasher` (m=19456 KiB, t=2, p=1), for bench/run.sh.
//!
//! Each thread verifies the same stored hash in a loop, on a plain OS thread with no async
//! runtime, parsing the PHC string on every call as the server does. With `--threads 1` the
//! result is the single-thread rate that the sign-in goal is scaled from.
//!
//! Usage: `argon2_rate [--seconds S] [--threads N]` (defaults: 5 seconds, 1 thread).
//! The last line of output is `threads=N verifications=V seconds=S verifications_per_second=R`.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, Version};
use outpost_domain::Password;
use outpost_server::auth::password_hashing::{ITERATIONS, MEMORY_KIB, PARALLELISM, PasswordHasher, Verification};

const PASSWORD: &str = "copper kettle river lantern";

struct Options {
    seconds: f64,
    threads: usize,
}

/// Result of one thread's loop.
struct ThreadCount {
    verifications: u64,
    elapsed: Duration,
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options { seconds: 5.0, threads: 1 };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let value = arguments.next().with_context(|| format!("missing value after {flag}"))?;
        match flag.as_str() {
            "--seconds" => {
                options.seconds = value.parse().with_context(|| format!("invalid --seconds {value:?}: expected a number such as 5"))?;
            }
            "--threads" => {
                options.threads = value.parse().with_context(|| format!("invalid --threads {value:?}: expected a whole number such as 1"))?;
            }
            _ => bail!("unknown option {flag:?}; the options are --seconds S and --threads N"),
        }
    }
    if !(options.seconds > 0.0 && options.seconds.is_finite()) || options.threads == 0 {
        bail!("--seconds must be a positive number and --threads at least 1");
    }
    Ok(options)
}

/// Hashes the password with the server's own hasher and checks that it verifies, so the
/// loop below runs on exactly the parameters the server stores.
fn stored_hash() -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let hasher = PasswordHasher::new()?;
        let password = Password::normalize(PASSWORD);
        let hash = hasher.hash(&password).await?;
        match hasher.verify(&password, Some(&hash)).await? {
            Verification::Match { needs_rehash: false } => Ok(hash),
            other => Err(anyhow!("the server's hasher returned {other:?} for its own fresh hash")),
        }
    })
}

fn verify_until(deadline: Instant, hash: &str) -> anyhow::Result<ThreadCount> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|error| anyhow!("invalid argon2 parameters: {error}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let password = Password::normalize(PASSWORD);

    let started = Instant::now();
    let mut verifications = 0;
    while Instant::now() < deadline {
        let parsed = PasswordHash::new(hash).map_err(|error| anyhow!("stored hash is malformed: {error}"))?;
        argon2
            .verify_password(password.expose().as_bytes(), &parsed)
            .map_err(|error| anyhow!("verification failed: {error}"))?;
        verifications += 1;
    }
    Ok(ThreadCount { verifications, elapsed: started.elapsed() })
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let options = parse_options()?;
    let hash = stored_hash()?;
    println!("argon2id m={MEMORY_KIB} KiB, t={ITERATIONS}, p={PARALLELISM}: verifying for {} s on {} thread(s)", options.seconds, options.threads);

    let deadline = Instant::now() + Duration::from_secs_f64(options.seconds);
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.threads).map(|_| scope.spawn(|| verify_until(deadline, &hash))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().map_err(|_| anyhow!("a verification thread panicked"))?)
            .collect::<anyhow::Result<Vec<ThreadCount>>>()
    })?;

    // Each thread stops after the verification that crosses the deadline, so each rate uses
    // that thread's own elapsed time, and the threads' rates add up.
    let verifications: u64 = counts.iter().map(|count| count.verifications).sum();
    let rate: f64 = counts.iter().map(|count| count.verifications as f64 / count.elapsed.as_secs_f64()).sum();
    let longest = counts.iter().map(|count| count.elapsed).max().unwrap_or_default();
    println!(
        "threads={} verifications={verifications} seconds={:.3} verifications_per_second={rate:.2}",
        options.threads,
        longest.as_secs_f64()
    );
    Ok(())
}
