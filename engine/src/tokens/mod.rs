//! API credentials per organisation and adapter, encrypted at rest with XChaCha20-Poly1305.
//!
//! The key comes from configuration (`TRIBUTARY_TOKEN_KEY`, 32 bytes in base64); the
//! organisation and adapter are the associated data, so a ciphertext copied to another row
//! does not decrypt. Secrets are never printed: [`Credential`]'s `Debug` redacts them.
//!
//! OAuth credentials ([`Credential::OAuth`]) are refreshed through [`DbTokenStore`], the
//! client's [`TokenStore`](tributary_core::TokenStore) on this table: rotated refresh tokens
//! are saved back encrypted, and refreshes are single-flight across processes (a lease on the
//! row, see [`db`]).

pub mod db;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use tributary_core::{Auth, TokenSet};

pub use db::DbTokenStore;

use crate::error::EngineError;
use crate::store::{Store, now_ms};

/// A 256-bit encryption key.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

impl TokenKey {
    /// Decodes a base64 key of 32 bytes.
    pub fn from_base64(s: &str) -> Result<TokenKey, EngineError> {
        let bytes = B64
            .decode(s.trim())
            .map_err(|_| EngineError::Credentials("token key is not base64".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| EngineError::Credentials("token key must be 32 bytes".into()))?;
        Ok(TokenKey(key))
    }

    /// A fresh random key.
    pub fn generate() -> TokenKey {
        TokenKey(rand::random())
    }

    /// The key in base64.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// A short public fingerprint, stored with each row to tell keys apart.
    pub fn id(&self) -> String {
        hex::encode(&Sha256::digest(self.0)[..4])
    }
}

/// Credentials for an adapter's API.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A Personal Access Token (HTTP Basic).
    Basic {
        /// The application id.
        app_id: String,
        /// The secret.
        secret: String,
    },
    /// An OAuth access token, with its refresh token.
    Bearer {
        /// The access token.
        access_token: String,
        /// The refresh token.
        #[serde(default)]
        refresh_token: Option<String>,
    },
    /// An OAuth 2 client with the organisation's current (rotating) tokens, refreshed and
    /// saved back through [`DbTokenStore`].
    #[serde(rename = "oauth")]
    OAuth {
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: String,
        /// The current access token (empty when only a refresh token was given).
        access_token: String,
        /// The current refresh token; each refresh replaces it.
        refresh_token: String,
        /// When the access token expires.
        expires_at: DateTime<Utc>,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { app_id, .. } => {
                write!(
                    f,
                    "Credential::Basic {{ app_id: {app_id:?}, secret: [REDACTED] }}"
                )
            }
            Credential::Bearer { .. } => f.write_str("Credential::Bearer([REDACTED])"),
            Credential::OAuth {
                client_id,
                expires_at,
                ..
            } => write!(
                f,
                "Credential::OAuth {{ client_id: {client_id:?}, client_secret: [REDACTED], \
                 tokens: [REDACTED], expires_at: {expires_at} }}"
            ),
        }
    }
}

impl Credential {
    /// OAuth credentials for client `client_id` from a refresh token alone (e.g. the result of
    /// connecting an organisation elsewhere): the access token counts as expired, so the
    /// first request refreshes.
    pub fn oauth(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Credential {
        Credential::OAuth {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            access_token: String::new(),
            refresh_token: refresh_token.into(),
            expires_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The token set of OAuth credentials.
    pub fn token_set(&self) -> Option<TokenSet> {
        match self {
            Credential::OAuth {
                access_token,
                refresh_token,
                expires_at,
                ..
            } => Some(TokenSet::new(
                access_token.clone(),
                refresh_token.clone(),
                *expires_at,
            )),
            _ => None,
        }
    }

    /// The client authentication for these credentials.
    ///
    /// OAuth credentials give their current access token as a fixed bearer token, which is
    /// never refreshed: use [`DbTokenStore::auth`] to refresh them and persist rotations.
    pub fn auth(&self) -> Auth {
        match self {
            Credential::Basic { app_id, secret } => Auth::Basic {
                app_id: app_id.clone(),
                secret: SecretString::from(secret.clone()),
            },
            Credential::Bearer { access_token, .. } | Credential::OAuth { access_token, .. } => {
                Auth::Bearer(SecretString::from(access_token.clone()))
            }
        }
    }
}

fn aad(org: &str, adapter: &str) -> Vec<u8> {
    format!("tributary-token\0{org}\0{adapter}").into_bytes()
}

/// A sealed credential: base64 nonce and ciphertext, as stored.
struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// Encrypts `credential` for the row of `org` and `adapter`.
fn seal(
    key: &TokenKey,
    org: &str,
    adapter: &str,
    credential: &Credential,
) -> Result<Sealed, EngineError> {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let nonce_bytes: [u8; 24] = rand::random();
    let plain = SecretString::from(
        serde_json::to_string(credential).map_err(|e| EngineError::Credentials(e.to_string()))?,
    );
    let aad = aad(org, adapter);
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce_bytes),
            Payload {
                msg: plain.expose_secret().as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| EngineError::Credentials("encryption failed".into()))?;
    Ok(Sealed {
        nonce: B64.encode(nonce_bytes),
        ciphertext: B64.encode(ciphertext),
    })
}

/// Decrypts the stored row of `org` and `adapter` (its `key_id`, `nonce`, `ciphertext`).
fn open(
    key: &TokenKey,
    org: &str,
    adapter: &str,
    key_id: &str,
    nonce: &str,
    ciphertext: &str,
) -> Result<Credential, EngineError> {
    if key_id != key.id() {
        return Err(EngineError::Credentials(format!(
            "stored credentials of {org}/{adapter} were encrypted with key {key_id}, not {}",
            key.id()
        )));
    }
    let bad = |what: &str| EngineError::Credentials(format!("stored credentials: {what}"));
    let nonce = B64.decode(nonce).map_err(|_| bad("bad nonce"))?;
    let ciphertext = B64.decode(ciphertext).map_err(|_| bad("bad ciphertext"))?;
    if nonce.len() != 24 {
        return Err(bad("bad nonce"));
    }
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad(org, adapter),
            },
        )
        .map_err(|_| bad("do not decrypt (wrong key or tampered)"))?;
    serde_json::from_slice(&plain).map_err(|_| bad("not a credential"))
}

/// Stores `credential` for `org` and `adapter`, replacing the previous one.
pub async fn put(
    store: &Store,
    key: &TokenKey,
    org: &str,
    adapter: &str,
    credential: &Credential,
) -> Result<(), EngineError> {
    let on_conflict = "DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce, \
                       ciphertext = excluded.ciphertext, updated_ms = excluded.updated_ms";
    insert(store, key, org, adapter, credential, on_conflict).await?;
    Ok(())
}

/// Stores `credential` for `org` and `adapter` unless a credential is stored already; true when
/// it was stored. Concurrent callers cannot overwrite each other (nor a token another process
/// has rotated since): the insert is conditional in the database.
pub async fn put_if_absent(
    store: &Store,
    key: &TokenKey,
    org: &str,
    adapter: &str,
    credential: &Credential,
) -> Result<bool, EngineError> {
    Ok(insert(store, key, org, adapter, credential, "DO NOTHING").await? == 1)
}

/// Seals `credential` and inserts its row; `on_conflict` says what an existing row gets.
/// Returns the rows written.
async fn insert(
    store: &Store,
    key: &TokenKey,
    org: &str,
    adapter: &str,
    credential: &Credential,
    on_conflict: &'static str,
) -> Result<u64, EngineError> {
    let sealed = seal(key, org, adapter, credential)?;
    let q = format!(
        "INSERT INTO tokens (org_id, adapter, key_id, nonce, ciphertext, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, adapter) {on_conflict}"
    );
    let written = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(org.to_owned())
        .bind(adapter.to_owned())
        .bind(key.id())
        .bind(sealed.nonce)
        .bind(sealed.ciphertext)
        .bind(now_ms())
        .execute(store.pool())
        .await?
        .rows_affected();
    Ok(written)
}

/// The credential stored for `org` and `adapter`, if any.
pub async fn get(
    store: &Store,
    key: &TokenKey,
    org: &str,
    adapter: &str,
) -> Result<Option<Credential>, EngineError> {
    let row = sqlx::query(
        "SELECT key_id, nonce, ciphertext FROM tokens WHERE org_id = $1 AND adapter = $2",
    )
    .bind(org.to_owned())
    .bind(adapter.to_owned())
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (key_id, nonce, ciphertext): (String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    open(key, org, adapter, &key_id, &nonce, &ciphertext).map(Some)
}
