//! argon2id password hashing off the async workers, capped at one hash per core.

use std::sync::Arc;

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
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
}

impl PasswordHasher {
    /// Builds a hasher whose concurrent hashes are capped at the number of cores.
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|error| anyhow!("invalid argon2 parameters: {error}"))?;
        let dummy_hash = hash_blocking(&params, "outpost dummy password for unknown usernames")?;
        Ok(Self { permits: Arc::new(Semaphore::new(cores)), params, dummy_hash: Arc::new(dummy_hash) })
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let params = self.params.clone();
        let password = password.clone();
        self.run_blocking(move || hash_blocking(&params, password.expose())).await
    }

    /// Verifies against `stored`, or against the dummy hash when `stored` is `None`, in which
    /// case the result is always a mismatch.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> anyhow::Result<Verification> {
        let is_dummy = stored.is_none();
        let stored = stored.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        let params = self.params.clone();
        let password = password.clone();

        let verification = self.run_blocking(move || verify_blocking(&params, password.expose(), &stored)).await?;
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

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> anyhow::Result<String> {
    let hash = argon2(params)
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow!("argon2 hashing failed: {error}"))?;
    Ok(hash.to_string())
}

fn verify_blocking(params: &Params, password: &str, stored: &str) -> anyhow::Result<Verification> {
    let parsed = PasswordHash::new(stored).map_err(|error| anyhow!("stored password hash is malformed: {error}"))?;

    if argon2(params).verify_password(password.as_bytes(), &parsed).is_err() {
        return Ok(Verification::Mismatch);
    }

    let stored_params = Params::try_from(&parsed).ok();
    let is_argon2id = parsed.algorithm.as_str() == "argon2id";
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
        let old_hash = hash_blocking(&weak, "copper kettle river lantern")?;
        let verification = hasher.verify(&Password::normalize("copper kettle river lantern"), Some(&old_hash)).await?;
        assert_eq!(verification, Verification::Match { needs_rehash: true });
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
