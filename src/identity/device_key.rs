//! The device signing key: an Ed25519 key in a 0600 file next to the session.
//!
//! Created at first sign-in and registered with the broker under the approver's subject;
//! every decision this console sends is signed with it. The secret never leaves the file
//! (and never appears in `Debug` output); only the public half is sent.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::files::{self, FileError};
use crate::protocol::decision::{encode_public_key, generate_signing_key};
use crate::protocol::{KeyId, Timestamp};

/// Why the device key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path} is not a valid signoff device key ({detail})")]
    Corrupt { path: String, detail: String },
    #[error("could not generate a key: {0}")]
    Random(String),
}

/// This device's signing key.
#[derive(Clone)]
pub struct DeviceKey {
    signing: SigningKey,
    created_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    algorithm: String,
    secret_key: String,
    public_key: String,
    key_id: String,
    created_at: Timestamp,
}

impl DeviceKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        let signing = generate_signing_key().map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self::from_signing_key(signing))
    }

    pub fn from_signing_key(signing: SigningKey) -> Self {
        Self {
            signing,
            created_at: Timestamp::now(),
        }
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.signing.verifying_key())
    }

    /// Standard base64 of the public key, as `POST /v1/keys` takes it.
    pub fn public_key_b64(&self) -> String {
        encode_public_key(&self.signing.verifying_key())
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    /// Reads the key file; `None` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<Self>, KeyError> {
        let Some(bytes) = files::read_private(path)? else {
            return Ok(None);
        };
        let corrupt = |detail: String| KeyError::Corrupt {
            path: path.display().to_string(),
            detail,
        };
        let f: KeyFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if f.version != 1 || f.algorithm != "ed25519" {
            return Err(corrupt(format!("version {} / {}", f.version, f.algorithm)));
        }
        let secret = B64
            .decode(&f.secret_key)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| corrupt("secret key is not 32 bytes of base64".into()))?;
        let key = Self {
            signing: SigningKey::from_bytes(&secret),
            created_at: f.created_at,
        };
        if key.public_key_b64() != f.public_key {
            return Err(corrupt("public key does not match the secret key".into()));
        }
        Ok(Some(key))
    }

    /// Writes the key file (0600, atomically).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let f = KeyFile {
            version: 1,
            algorithm: "ed25519".into(),
            secret_key: B64.encode(self.signing.to_bytes()),
            public_key: self.public_key_b64(),
            key_id: self.key_id().0,
            created_at: self.created_at,
        };
        let bytes = serde_json::to_vec_pretty(&f).map_err(|e| KeyError::Corrupt {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        files::write_private(path, &bytes)?;
        Ok(())
    }

    /// The key in `path`, creating and saving one first when there is none. The flag says
    /// whether it was created now.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyError> {
        if let Some(k) = Self::load(path)? {
            return Ok((k, false));
        }
        let k = Self::generate()?;
        k.save(path)?;
        Ok((k, true))
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey")
            .field("key_id", &self.key_id())
            .field("secret", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn created_0600_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("device-key");
        let (k, created) = DeviceKey::load_or_create(&p).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = DeviceKey::load_or_create(&p).unwrap();
        assert!(!created);
        assert_eq!(again.key_id(), k.key_id());
        assert!(!format!("{k:?}").contains(&B64.encode(k.signing_key().to_bytes())));
    }

    #[test]
    fn world_readable_key_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("device-key");
        DeviceKey::generate().unwrap().save(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = DeviceKey::load(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
