//! The server's secret key: 32 random bytes in a file outside the database. It keys CSRF
//! tokens now and encrypts secrets at rest later, so every instance must share it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct SecretKey([u8; KEY_BYTES]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut bytes = [0_u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// A digest that identifies the key without revealing it, kept in the database so an
    /// instance with another key is detected.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"outpost secret key fingerprint\0");
        hasher.update(self.0);
        hex::encode(hasher.finalize())
    }

    /// Reads the key from `configured`, or from `secret.key` in the data directory, which
    /// is created with mode 0600 when missing. A configured file must exist.
    pub fn load_or_create(configured: Option<&Path>, data_dir: &Path) -> anyhow::Result<(Self, PathBuf)> {
        if let Some(path) = configured {
            let key = read_key(path)?;
            return Ok((key, path.to_owned()));
        }

        let path = data_dir.join("secret.key");
        if path.exists() {
            let key = read_key(&path)?;
            return Ok((key, path));
        }

        let key = Self::generate();
        write_new_key(&path, &key)?;
        tracing::info!(path = %path.display(), "created a new secret key");
        Ok((key, path))
    }
}

fn read_key(path: &Path) -> anyhow::Result<SecretKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the secret key file {}", path.display()))?;
    let bytes = STANDARD
        .decode(text.trim())
        .with_context(|| format!("secret key file {} is not base64", path.display()))?;
    let Ok(array) = <[u8; KEY_BYTES]>::try_from(bytes.as_slice()) else {
        bail!("secret key file {} must hold 32 bytes in base64; it holds {}", path.display(), bytes.len());
    };
    Ok(SecretKey(array))
}

fn write_new_key(path: &Path, key: &SecretKey) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }

    let mut file = options
        .open(path)
        .with_context(|| format!("failed to create the secret key file {}", path.display()))?;
    writeln!(file, "{}", STANDARD.encode(key.0))
        .with_context(|| format!("failed to write the secret key file {}", path.display()))?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_key() {
        let key = SecretKey([7; KEY_BYTES]);
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn created_key_file_is_private_and_reloads() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("outpost-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;

        let (created, path) = SecretKey::load_or_create(None, &dir)?;
        let (reloaded, _) = SecretKey::load_or_create(None, &dir)?;
        assert_eq!(created.fingerprint(), reloaded.fingerprint());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
