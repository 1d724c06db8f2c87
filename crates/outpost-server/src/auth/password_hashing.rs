//! argon2id password hashing off the async workers, capped at one hash per core.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use std::sync::Mutex;

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;
use outpost_domain::Password;
use tokio::sync::Semaphore;

/// OWASP's argon2id parameters (Password Storage Cheat Sheet, 2024): 19 MiB, 2 passes, 1 lane.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match { needs_rehash: bool },
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    params: Params,
    /// Verified against when a username has no account, so unknown usernames cost the same.
    dummy_hash: Arc<String>,
    /// argon2's 19 MiB working memory, one buffer per permit, reused across hashes: allocating
    /// it for every hash cost about a thousand page faults each.
    memory: Arc<MemoryPool>,
}

/// Reusable argon2 working memory for the server's parameters.
struct MemoryPool {
    block_count: usize,
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl MemoryPool {
    fn take(&self, block_count: usize) -> Vec<Block> {
        if block_count == self.block_count
            && let Some(buffer) = self.buffers.lock().ok().and_then(|mut buffers| buffers.pop())
        {
            return buffer;
        }
        vec![Block::default(); block_count]
    }

    fn give_back(&self, buffer: Vec<Block>) {
        if buffer.len() == self.block_count
            && let Ok(mut buffers) = self.buffers.lock()
        {
            buffers.push(buffer);
        }
    }
}

impl PasswordHasher {
    /// Builds a hasher whose concurrent hashes are capped at the number of cores.
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|error| anyhow!("invalid argon2 parameters: {error}"))?;
        let memory = Arc::new(MemoryPool { block_count: params.block_count(), buffers: Mutex::new(Vec::new()) });
        let dummy_hash = hash_blocking(&params, &memory, "outpost dummy password for unknown usernames")?;
        Ok(Self { permits: Arc::new(Semaphore::new(cores)), params, dummy_hash: Arc::new(dummy_hash), memory })
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        let memory = self.memory.clone();
        let password = password.clone();
        self.run_blocking(move || hash_blocking(&params, &memory, password.expose())).await
    }

    /// Verifies against `stored`, or against the dummy hash when `stored` is `None`, in which
    /// case the result is always a mismatch.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> anyhow::Result<Verification> {
        let is_dummy = stored.is_none();
        let stored = stored.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        let params = self.params.clone();
        let memory = self.memory.clone();
        let password = password.clone();

        let verification = self.run_blocking(move || verify_blocking(&params, &memory, password.expose(), &stored)).await?;
        if is_dummy { Ok(Verification::Mismatch) } else { Ok(verification) }
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("password hashing semaphore closed")?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .context("password hashing task failed")?
    }
}

/// Runs argon2id with memory from the pool.
fn argon2id_into(params: &Params, memory: &MemoryPool, password: &str, salt: &[u8], out: &mut [u8]) -> anyhow::Result<()> {
    let mut buffer = memory.take(params.block_count());
    let result = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        out,
        &mut buffer,
    );
    memory.give_back(buffer);
    result.map_err(|error| anyhow!("argon2 hashing failed: {error}"))
}

/// Hashes with a new 128-bit salt and returns the PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`, base64 without padding).
fn hash_blocking(params: &Params, memory: &MemoryPool, password: &str) -> anyhow::Result<String> {
    let mut salt = [0_u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0_u8; 32];
    argon2id_into(params, memory, password, &salt, &mut out)?;

    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn verify_blocking(params: &Params, memory: &MemoryPool, password: &str, stored: &str) -> anyhow::Result<Verification> {
    let parsed = PasswordHash::new(stored).map_err(|error| anyhow!("stored password hash is malformed: {error}"))?;
    let is_argon2id = parsed.algorithm.as_str() == "argon2id" && parsed.version.is_none_or(|version| version == 19);
    let stored_params = Params::try_from(&parsed).ok();

    let matches = match (is_argon2id, &stored_params, &parsed.salt, &parsed.hash) {
        (true, Some(stored_params), Some(salt), Some(expected)) => {
            let mut out = vec![0_u8; expected.as_bytes().len()];
            argon2id_into(stored_params, memory, password, salt, &mut out)?;
            bool::from(out.as_slice().ct_eq(expected.as_bytes()))
        }
        // Other algorithms and versions go through the argon2 crate's own verifier.
        _ => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
    };
    if !matches {
        return Ok(Verification::Mismatch);
    }

    let needs_rehash = !is_argon2id
        || stored_params.is_none_or(|stored| {
            stored.m_cost() != params.m_cost() || stored.t_cost() != params.t_cost() || stored.p_cost() != params.p_cost()
        });
    Ok(Verification::Match { needs_rehash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify_matches() -> anyhow::Result<()> {
        let hasher = PasswordHasher::new()?;
        let password = Password::normalize("copper kettle river lantern");
        let hash = hasher.hash(&password).await?;

        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(hasher.verify(&password, Some(&hash)).await?, Verification::Match { needs_rehash: false });
        Ok(())
    }

    #[tokio::test]
    async fn wrong_password_mismatches() -> anyhow::Result<()> {
        let hasher = PasswordHasher::new()?;
        let hash = hasher.hash(&Password::normalize("copper kettle river lantern")).await?;
        let verification = hasher.verify(&Password::normalize("copper kettle river lanterns"), Some(&hash)).await?;
        assert_eq!(verification, Verification::Mismatch);
        Ok(())
    }

    #[tokio::test]
    async fn weaker_parameters_need_rehash() -> anyhow::Result<()> {
        let hasher = PasswordHasher::new()?;
        let weak = Params::new(8 * 1024, 1, 1, None).map_err(|error| anyhow!("{error}"))?;
        let pool = MemoryPool { block_count: weak.block_count(), buffers: Mutex::new(Vec::new()) };
        let old_hash = hash_blocking(&weak, &pool, "copper kettle river lantern")?;
        let verification = hasher.verify(&Password::normalize("copper kettle river lantern"), Some(&old_hash)).await?;
        assert_eq!(verification, Verification::Match { needs_rehash: true });
        Ok(())
    }

    #[tokio::test]
    async fn own_hash_verifies_with_argon2_crate() -> anyhow::Result<()> {
        use argon2::password_hash::PasswordVerifier;
        let hasher = PasswordHasher::new()?;
        let hash = hasher.hash(&Password::normalize("copper kettle river lantern")).await?;
        let parsed = PasswordHash::new(&hash).map_err(|error| anyhow!("{error}"))?;
        assert!(Argon2::default().verify_password(b"copper kettle river lantern", &parsed).is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn argon2_crate_hash_verifies_here() -> anyhow::Result<()> {
        use argon2::password_hash::PasswordHasher as _;
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|error| anyhow!("{error}"))?;
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(b"copper kettle river lantern").map_err(|error| anyhow!("{error}"))?.to_string();
        let hasher = PasswordHasher::new()?;
        let verification = hasher.verify(&Password::normalize("copper kettle river lantern"), Some(&hash)).await?;
        assert_eq!(verification, Verification::Match { needs_rehash: false });
        Ok(())
    }

    #[tokio::test]
    async fn unknown_user_never_matches() -> anyhow::Result<()> {
        let hasher = PasswordHasher::new()?;
        let verification = hasher.verify(&Password::normalize("outpost dummy password for unknown usernames"), None).await?;
        assert_eq!(verification, Verification::Mismatch);
        Ok(())
    }
}
