//! Authentication: Personal Access Tokens (HTTP Basic) and OAuth 2 (authorization code and
//! rotating refresh tokens with reuse detection).

use base64::Engine;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Default Personal Access Token application id.
pub const DEFAULT_APP_ID: &str = "sim-app-id";
/// Default Personal Access Token secret.
pub const DEFAULT_SECRET: &str = "sim-secret";
/// Default OAuth client id.
pub const DEFAULT_CLIENT_ID: &str = "sim-client-id";
/// Default OAuth client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "sim-client-secret";

/// Credentials the simulator accepts.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Personal Access Tokens as `(application_id, secret)`.
    pub pats: Vec<(String, String)>,
    /// OAuth clients as `(client_id, client_secret)`.
    pub clients: Vec<(String, String)>,
    /// Lifetime of OAuth access tokens.
    pub token_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            pats: vec![(DEFAULT_APP_ID.into(), DEFAULT_SECRET.into())],
            clients: vec![(DEFAULT_CLIENT_ID.into(), DEFAULT_CLIENT_SECRET.into())],
            token_ttl: Duration::from_secs(7200),
        }
    }
}

/// Counters tests can assert on.
#[derive(Debug, Default)]
pub struct AuthStats {
    /// Access tokens issued.
    pub tokens_issued: AtomicU64,
    /// Refresh tokens presented a second time (rejected with `invalid_grant`).
    pub refresh_reuse: AtomicU64,
    /// Requests made with an expired access token.
    pub expired_token_uses: AtomicU64,
    /// Requests rejected with 401.
    pub unauthorized: AtomicU64,
}

#[derive(Default)]
struct OAuthState {
    codes: HashMap<String, String>,
    access: HashMap<String, (String, Instant)>,
    refresh: HashMap<String, (String, bool)>,
}

/// The authenticator.
pub struct Auth {
    cfg: AuthConfig,
    state: Mutex<OAuthState>,
    /// Counters.
    pub stats: AuthStats,
}

/// An OAuth token-endpoint failure: HTTP status and RFC 6749 error body.
pub type OAuthError = (u16, Value);

fn token() -> String {
    let mut b = [0u8; 24];
    rand::rng().fill(&mut b);
    hex::encode(b)
}

fn oauth_err(status: u16, error: &str, desc: &str) -> OAuthError {
    (status, json!({"error": error, "error_description": desc}))
}

impl Auth {
    /// An authenticator with the given credentials.
    pub fn new(cfg: AuthConfig) -> Self {
        Auth {
            cfg,
            state: Mutex::default(),
            stats: AuthStats::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OAuthState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Check an `Authorization` header; returns the credential key used for rate limiting.
    pub fn authenticate(&self, header: Option<&str>) -> Result<String, String> {
        let r = self.check(header);
        if r.is_err() {
            self.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    fn check(&self, header: Option<&str>) -> Result<String, String> {
        let h = header.ok_or("Missing authentication credentials")?;
        if let Some(b) = h.strip_prefix("Basic ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .map_err(|_| "Malformed HTTP Basic credentials")?;
            let raw = String::from_utf8_lossy(&raw);
            let (id, secret) = raw
                .split_once(':')
                .ok_or("Malformed HTTP Basic credentials")?;
            if self.cfg.pats.iter().any(|(a, s)| a == id && s == secret) {
                return Ok(format!("pat:{id}"));
            }
            return Err("Invalid application id or secret".into());
        }
        if let Some(t) = h.strip_prefix("Bearer ") {
            let st = self.lock();
            let (client, exp) = st.access.get(t.trim()).ok_or("Invalid access token")?;
            if Instant::now() >= *exp {
                self.stats
                    .expired_token_uses
                    .fetch_add(1, Ordering::Relaxed);
                return Err("The access token expired".into());
            }
            return Ok(format!("oauth:{client}"));
        }
        Err("Unsupported authorization scheme".into())
    }

    /// Issue an authorization code for a client (what the consent screen would do).
    pub fn issue_code(&self, client_id: &str) -> Option<String> {
        if !self.cfg.clients.iter().any(|(c, _)| c == client_id) {
            return None;
        }
        let code = token();
        self.lock()
            .codes
            .insert(code.clone(), client_id.to_string());
        Some(code)
    }

    /// `POST /oauth/token` with form or JSON parameters.
    pub fn token_endpoint(&self, p: &HashMap<String, String>) -> Result<Value, OAuthError> {
        let client = p.get("client_id").map(String::as_str).unwrap_or("");
        let secret = p.get("client_secret").map(String::as_str).unwrap_or("");
        if !self
            .cfg
            .clients
            .iter()
            .any(|(c, s)| c == client && s == secret)
        {
            return Err(oauth_err(
                401,
                "invalid_client",
                "Client authentication failed",
            ));
        }
        let mut st = self.lock();
        match p.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = p.get("code").map(String::as_str).unwrap_or("");
                match st.codes.remove(code) {
                    Some(c) if c == client => {}
                    _ => {
                        return Err(oauth_err(
                            400,
                            "invalid_grant",
                            "The authorization code is invalid",
                        ));
                    }
                }
            }
            Some("refresh_token") => {
                let rt = p.get("refresh_token").map(String::as_str).unwrap_or("");
                match st.refresh.get_mut(rt) {
                    Some((c, used)) if c == client && !*used => *used = true,
                    Some((_, true)) => {
                        self.stats.refresh_reuse.fetch_add(1, Ordering::Relaxed);
                        return Err(oauth_err(
                            400,
                            "invalid_grant",
                            "The refresh token was already used",
                        ));
                    }
                    _ => {
                        return Err(oauth_err(
                            400,
                            "invalid_grant",
                            "The refresh token is invalid",
                        ));
                    }
                }
            }
            _ => {
                return Err(oauth_err(
                    400,
                    "unsupported_grant_type",
                    "Unsupported grant_type",
                ));
            }
        }
        let (access, refresh) = (token(), token());
        st.access.insert(
            access.clone(),
            (client.to_string(), Instant::now() + self.cfg.token_ttl),
        );
        st.refresh
            .insert(refresh.clone(), (client.to_string(), false));
        self.stats.tokens_issued.fetch_add(1, Ordering::Relaxed);
        Ok(json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.cfg.token_ttl.as_secs(),
            "refresh_token": refresh,
            "scope": "people groups calendar webhooks",
            "created_at": chrono::Utc::now().timestamp(),
        }))
    }
}
