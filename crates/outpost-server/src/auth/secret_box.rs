//! Encryption of secrets at rest (TOTP secrets) with AES-256-GCM under a key derived from the
//! server's secret key. The user id is the associated data, so a ciphertext copied to another
//! user's row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use aes_gcm::Aes256Gcm;
use anyhow::anyhow;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secret_key::SecretKey;

const NONCE_BYTES: usize = 12;

fn cipher(key: &SecretKey) -> anyhow::Result<Aes256Gcm> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.bytes()).map_err(|error| anyhow!("invalid HMAC key: {error}"))?;
    mac.update(b"outpost secret encryption\0");
    let derived = mac.finalize().into_bytes();
    Aes256Gcm::new_from_slice(&derived).map_err(|error| anyhow!("invalid AES key: {error}"))
}

/// Encrypts `plaintext` for the user; returns base64 of nonce and ciphertext.
pub fn seal(key: &SecretKey, user_id: &str, plaintext: &[u8]) -> anyhow::Result<String> {
    let mut nonce_bytes = [0_u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce_bytes);
    let nonce = Nonce::<Aes256Gcm>::try_from(&nonce_bytes[..]).map_err(|_| anyhow!("invalid nonce length"))?;

    let ciphertext = cipher(key)?
        .encrypt(&nonce, Payload { msg: plaintext, aad: user_id.as_bytes() })
        .map_err(|_| anyhow!("encryption failed"))?;

    let mut sealed = nonce_bytes.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(STANDARD.encode(sealed))
}

/// Decrypts what [`seal`] produced for the same user.
pub fn open(key: &SecretKey, user_id: &str, sealed: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = STANDARD.decode(sealed).map_err(|error| anyhow!("sealed secret is not base64: {error}"))?;
    if bytes.len() <= NONCE_BYTES {
        return Err(anyhow!("sealed secret is too short"));
    }
    let (nonce_bytes, ciphertext) = bytes.split_at(NONCE_BYTES);
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce_bytes).map_err(|_| anyhow!("invalid nonce length"))?;

    cipher(key)?
        .decrypt(&nonce, Payload { msg: ciphertext, aad: user_id.as_bytes() })
        .map_err(|_| anyhow!("sealed secret does not decrypt for user {user_id}: wrong key, wrong user or altered data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let key = SecretKey::generate();
        let sealed = seal(&key, "user-1", b"totp secret bytes").unwrap();
        assert_eq!(open(&key, "user-1", &sealed).unwrap(), b"totp secret bytes");
    }

    #[test]
    fn sealed_secret_fails_for_other_user() {
        let key = SecretKey::generate();
        let sealed = seal(&key, "user-1", b"totp secret bytes").unwrap();
        assert!(open(&key, "user-2", &sealed).is_err());
    }

    #[test]
    fn sealed_secret_fails_under_other_key() {
        let sealed = seal(&SecretKey::generate(), "user-1", b"totp secret bytes").unwrap();
        assert!(open(&SecretKey::generate(), "user-1", &sealed).is_err());
    }

    #[test]
    fn sealing_twice_differs() {
        let key = SecretKey::generate();
        assert_ne!(seal(&key, "user-1", b"same").unwrap(), seal(&key, "user-1", b"same").unwrap());
    }
}
