//! Measures how many argon2id password verifications per second this machine does with the
//! parameters of the server's `PasswordHasher` (m=19456 KiB, t=2, p=1), for bench/run.sh.
//!
//! Three modes:
//! - raw (the default): each of `--threads` plain OS threads verifies the same stored hash in
//!   a loop with the argon2 crate, parsing the PHC string on every call as the server does.
//!   With `--threads 1` the result is the single-thread rate that the sign-in goal is scaled
//!   from.
//! - hasher (`--hasher-callers N`): N tasks on a multi-thread tokio runtime, as `outpost
//!   serve` builds it, call `PasswordHasher::verify` in a loop. This is the server's own code
//!   path (semaphore, `spawn_blocking`) without HTTP or the database.
//! - pooled (`--pooled-callers N`): like hasher, with the same semaphore and `spawn_blocking`,
//!   but each verification borrows its 19 MiB of argon2 memory from a pool of one buffer per
//!   core instead of allocating it. It measures what reusing that memory would gain; the
//!   server does not do this.
//!
//! Usage: `argon2_rate [--seconds S] [--threads N | --hasher-callers N | --pooled-callers N]`
//! (defaults: 5 seconds, raw mode on 1 thread). The last line of output is
//! `mode=M workers=N verifications=V seconds=S verifications_per_second=R minor_faults_per_verification=F`,
//! where F comes from /proc/self/stat and is absent where that file is missing.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use outpost_domain::Password;
use outpost_server::auth::password_hashing::{ITERATIONS, MEMORY_KIB, PARALLELISM, PasswordHasher, Verification};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;

const PASSWORD: &str = "copper kettle river lantern";

#[derive(Clone, Copy)]
enum Mode {
    Raw { threads: usize },
    Hasher { callers: usize },
    Pooled { callers: usize },
}

struct Options {
    seconds: f64,
    mode: Mode,
}

/// Verifications done by one thread or task, and the time from the start until its last
/// verification finished.
struct WorkerCount {
    verifications: u64,
    elapsed: Duration,
}

fn parse_count(flag: &str, value: &str) -> anyhow::Result<usize> {
    let count: usize = value.parse().with_context(|| format!("invalid {flag} {value:?}: expected a whole number such as 1"))?;
    if count == 0 {
        bail!("{flag} must be at least 1");
    }
    Ok(count)
}

fn parse_options() -> anyhow::Result<Options> {
    let mut options = Options { seconds: 5.0, mode: Mode::Raw { threads: 1 } };
    let mut arguments = std::env::args().skip(1);
    while let Some(flag) = arguments.next() {
        let value = arguments.next().with_context(|| format!("missing value after {flag}"))?;
        match flag.as_str() {
            "--seconds" => {
                options.seconds = value.parse().with_context(|| format!("invalid --seconds {value:?}: expected a number such as 5"))?;
            }
            "--threads" => options.mode = Mode::Raw { threads: parse_count(&flag, &value)? },
            "--hasher-callers" => options.mode = Mode::Hasher { callers: parse_count(&flag, &value)? },
            "--pooled-callers" => options.mode = Mode::Pooled { callers: parse_count(&flag, &value)? },
            _ => bail!("unknown option {flag:?}; the options are --seconds S, --threads N, --hasher-callers N and --pooled-callers N"),
        }
    }
    if !(options.seconds > 0.0 && options.seconds.is_finite()) {
        bail!("--seconds must be a positive number, not {}", options.seconds);
    }
    Ok(options)
}

/// Hashes the password with the server's own hasher and checks that it verifies, so every
/// mode runs on exactly the parameters the server stores.
async fn stored_hash(hasher: &PasswordHasher) -> anyhow::Result<String> {
    let password = Password::normalize(PASSWORD);
    let hash = hasher.hash(&password).await?;
    match hasher.verify(&password, Some(&hash)).await? {
        Verification::Match { needs_rehash: false } => Ok(hash),
        other => Err(anyhow!("the server's hasher returned {other:?} for its own fresh hash")),
    }
}

fn server_argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|error| anyhow!("invalid argon2 parameters: {error}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn verify_raw_until(started: Instant, deadline: Instant, hash: &str) -> anyhow::Result<WorkerCount> {
    let argon2 = server_argon2()?;
    let password = Password::normalize(PASSWORD);

    let mut verifications = 0;
    while Instant::now() < deadline {
        let parsed = PasswordHash::new(hash).map_err(|error| anyhow!("stored hash is malformed: {error}"))?;
        argon2
            .verify_password(password.expose().as_bytes(), &parsed)
            .map_err(|error| anyhow!("verification failed: {error}"))?;
        verifications += 1;
    }
    Ok(WorkerCount { verifications, elapsed: started.elapsed() })
}

fn measure_raw(threads: usize, deadline: Instant, started: Instant, hash: &str) -> anyhow::Result<Vec<WorkerCount>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(|| verify_raw_until(started, deadline, hash))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().map_err(|_| anyhow!("a verification thread panicked"))?)
            .collect()
    })
}

async fn verify_with_hasher_until(hasher: PasswordHasher, started: Instant, deadline: Instant, hash: String) -> anyhow::Result<WorkerCount> {
    let password = Password::normalize(PASSWORD);
    let mut verifications = 0;
    while Instant::now() < deadline {
        match hasher.verify(&password, Some(&hash)).await? {
            Verification::Match { .. } => verifications += 1,
            Verification::Mismatch => bail!("PasswordHasher::verify returned a mismatch for the right password"),
        }
    }
    Ok(WorkerCount { verifications, elapsed: started.elapsed() })
}

async fn measure_hasher(hasher: &PasswordHasher, callers: usize, deadline: Instant, started: Instant, hash: &str) -> anyhow::Result<Vec<WorkerCount>> {
    let tasks: Vec<_> = (0..callers)
        .map(|_| tokio::spawn(verify_with_hasher_until(hasher.clone(), started, deadline, hash.to_owned())))
        .collect();
    let mut counts = Vec::with_capacity(callers);
    for task in tasks {
        counts.push(task.await.context("a verification task failed")??);
    }
    Ok(counts)
}

/// Argon2 working memory reused across verifications: one buffer per permit of the
/// semaphore that the callers share, so a caller holding a permit always finds a buffer.
struct MemoryPool {
    permits: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl MemoryPool {
    fn new(size: usize) -> anyhow::Result<Self> {
        let blocks = server_argon2()?.params().block_count();
        let buffers = (0..size).map(|_| vec![Block::default(); blocks]).collect();
        Ok(Self { permits: Semaphore::new(size), buffers: Mutex::new(buffers) })
    }
}

/// Verifies `password` against the PHC string `stored` in the caller's `memory`: the
/// computation of `verify_password` without its allocation. Only hashes made with the
/// server's parameters are accepted, because `memory` is sized for them.
fn verify_with_memory(password: &Password, stored: &str, memory: &mut [Block]) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|error| anyhow!("stored hash is malformed: {error}"))?;
    let params = Params::try_from(&parsed).map_err(|error| anyhow!("stored hash has invalid argon2 parameters: {error}"))?;
    if (params.m_cost(), params.t_cost(), params.p_cost()) != (MEMORY_KIB, ITERATIONS, PARALLELISM) || parsed.algorithm.as_str() != "argon2id" {
        bail!("the pooled mode verifies only argon2id hashes with m={MEMORY_KIB}, t={ITERATIONS}, p={PARALLELISM}");
    }
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        bail!("stored hash has no salt or no output");
    };

    let mut output = vec![0_u8; expected.len()];
    server_argon2()?
        .hash_password_into_with_memory(password.expose().as_bytes(), salt, &mut output, memory)
        .map_err(|error| anyhow!("argon2 hashing failed: {error}"))?;
    Ok(bool::from(output.as_slice().ct_eq(expected.as_bytes())))
}

async fn verify_pooled(pool: &Arc<MemoryPool>, password: &Password, stored: &str) -> anyhow::Result<bool> {
    let _permit = pool.permits.acquire().await.context("memory pool semaphore closed")?;
    let pool = Arc::clone(pool);
    let password = password.clone();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || {
        let memory = pool.buffers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let Some(mut memory) = memory else {
            bail!("memory pool is empty although a permit was held");
        };
        let verified = verify_with_memory(&password, &stored, &mut memory);
        pool.buffers.lock().unwrap_or_else(PoisonError::into_inner).push(memory);
        verified
    })
    .await
    .context("verification task failed")?
}

async fn verify_pooled_until(pool: Arc<MemoryPool>, started: Instant, deadline: Instant, hash: String) -> anyhow::Result<WorkerCount> {
    let password = Password::normalize(PASSWORD);
    let mut verifications = 0;
    while Instant::now() < deadline {
        if !verify_pooled(&pool, &password, &hash).await? {
            bail!("pooled verification returned a mismatch for the right password");
        }
        verifications += 1;
    }
    Ok(WorkerCount { verifications, elapsed: started.elapsed() })
}

async fn measure_pooled(callers: usize, deadline: Instant, started: Instant, hash: &str) -> anyhow::Result<Vec<WorkerCount>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let pool = Arc::new(MemoryPool::new(cores)?);
    let tasks: Vec<_> = (0..callers)
        .map(|_| tokio::spawn(verify_pooled_until(Arc::clone(&pool), started, deadline, hash.to_owned())))
        .collect();
    let mut counts = Vec::with_capacity(callers);
    for task in tasks {
        counts.push(task.await.context("a verification task failed")??);
    }
    Ok(counts)
}

/// Reads the process's minor page faults so far (field 10 of /proc/self/stat), or `None`
/// where the file is missing or unreadable.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name in field 2 may contain spaces, so count fields after its ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(7)?.parse().ok()
}

fn run() -> anyhow::Result<()> {
    let options = parse_options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let hasher = runtime.block_on(async { PasswordHasher::new() })?;
    let hash = runtime.block_on(stored_hash(&hasher))?;

    let (mode_name, workers) = match options.mode {
        Mode::Raw { threads } => ("raw", threads),
        Mode::Hasher { callers } => ("hasher", callers),
        Mode::Pooled { callers } => ("pooled", callers),
    };
    println!(
        "argon2id m={MEMORY_KIB} KiB, t={ITERATIONS}, p={PARALLELISM}: verifying for {} s, mode {mode_name}, {workers} thread(s) or caller(s)",
        options.seconds
    );

    let faults_before = minor_faults();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(options.seconds);
    let counts = match options.mode {
        Mode::Raw { threads } => measure_raw(threads, deadline, started, &hash)?,
        Mode::Hasher { callers } => runtime.block_on(measure_hasher(&hasher, callers, deadline, started, &hash))?,
        Mode::Pooled { callers } => runtime.block_on(measure_pooled(callers, deadline, started, &hash))?,
    };
    let faults_after = minor_faults();

    // Each worker stops after the verification that crosses the deadline. Raw threads run
    // in parallel without sharing, so their own rates add up. Hasher and pooled callers
    // share permits, so their total counts over the longest elapsed time.
    let verifications: u64 = counts.iter().map(|count| count.verifications).sum();
    let longest = counts.iter().map(|count| count.elapsed).max().unwrap_or_default();
    let rate = match options.mode {
        Mode::Raw { .. } => counts.iter().map(|count| count.verifications as f64 / count.elapsed.as_secs_f64()).sum(),
        Mode::Hasher { .. } | Mode::Pooled { .. } => verifications as f64 / longest.as_secs_f64(),
    };
    let faults = match (faults_before, faults_after) {
        (Some(before), Some(after)) if verifications > 0 => format!(" minor_faults_per_verification={}", (after - before) / verifications),
        _ => String::new(),
    };
    println!(
        "mode={mode_name} workers={workers} verifications={verifications} seconds={:.3} verifications_per_second={rate:.2}{faults}",
        longest.as_secs_f64()
    );
    Ok(())
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
