//! Credentials: Personal Access Tokens and OAuth 2 with rotating refresh tokens.
//!
//! An [`OAuth`] handle owns one organisation's tokens. Refresh happens when fewer than 60 s
//! remain or after a 401, under the handle's async mutex and the store's refresh lock
//! ([`TokenStore::lock_refresh`]) so that neither concurrent tasks nor other handles or
//! processes sharing the store ever send the same (rotating) refresh token twice, and the
//! rotated token is saved to the [`TokenStore`] before the new access token is handed out.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::token::{TokenSet, TokenStore};

/// How requests authenticate.
#[derive(Clone)]
pub enum Auth {
    /// No credentials (tests only).
    None,
    /// A Personal Access Token: HTTP Basic `app_id:secret`.
    Basic {
        /// The application id.
        app_id: String,
        /// The secret.
        secret: SecretString,
    },
    /// A fixed OAuth 2 access token, never refreshed.
    Bearer(SecretString),
    /// OAuth 2 with refresh through a token store.
    OAuth(OAuth),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { app_id, .. } => write!(
                f,
                "Auth::Basic {{ app_id: {app_id:?}, secret: [REDACTED] }}"
            ),
            Auth::Bearer(_) => f.write_str("Auth::Bearer([REDACTED])"),
            Auth::OAuth(o) => write!(f, "Auth::OAuth({o:?})"),
        }
    }
}

impl Auth {
    /// A Personal Access Token.
    pub fn pat(app_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Auth::Basic {
            app_id: app_id.into(),
            secret: SecretString::from(secret.into()),
        }
    }
}

/// One organisation's OAuth 2 credentials; clones share tokens and the refresh lock.
///
/// Share one per organisation between clients where possible. Refresh is single-flight per
/// organisation among every user of the store, even across separate handles and processes,
/// as far as the store's [`TokenStore::lock_refresh`] reaches (the default: this process), and
/// the store is re-read under that lock before each refresh, so a token another handle already
/// rotated is adopted instead of being sent again.
#[derive(Clone)]
pub struct OAuth {
    inner: Arc<Inner>,
}

struct Inner {
    org: String,
    client_id: String,
    client_secret: SecretString,
    token_url: Option<String>,
    store: Arc<dyn TokenStore>,
    margin: chrono::Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tokens: Option<TokenSet>,
    /// Rotated tokens the store has not accepted yet: never hand them out before it does.
    unsaved: bool,
    /// A refresh token the server rejected; it is never sent again.
    rejected: Option<SecretString>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("org", &self.inner.org)
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("store", &self.inner.store)
            .finish()
    }
}

/// PCO's token endpoint answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// RFC 6749 error body.
#[derive(Deserialize, Default)]
struct OAuthErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl OAuth {
    /// Credentials of organisation `org` (the store key) for OAuth client `client_id`.
    pub fn new(
        org: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        let org = org.into();
        Self {
            inner: Arc::new(Inner {
                org,
                client_id: client_id.into(),
                client_secret: SecretString::from(client_secret.into()),
                token_url: None,
                store,
                margin: chrono::Duration::seconds(60),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Uses `url` as the token endpoint instead of `{base_url}/oauth/token`.
    pub fn with_token_url(self, url: impl Into<String>) -> Self {
        self.rebuild(|i| i.token_url = Some(url.into()))
    }

    /// Refreshes when fewer than `margin` remain (default 60 s).
    pub fn with_refresh_margin(self, margin: Duration) -> Self {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
        self.rebuild(|i| i.margin = margin)
    }

    fn rebuild(self, f: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                org: shared.org.clone(),
                client_id: shared.client_id.clone(),
                client_secret: shared.client_secret.clone(),
                token_url: shared.token_url.clone(),
                store: shared.store.clone(),
                margin: shared.margin,
                state: Mutex::new(State::default()),
            },
        };
        f(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The organisation (token store key).
    pub fn org(&self) -> &str {
        &self.inner.org
    }

    fn auth_err(&self, reason: impl Into<String>) -> Error {
        Error::Auth {
            org: self.inner.org.clone(),
            reason: reason.into(),
        }
    }

    fn store_err(&self, source: crate::error::StoreError) -> Error {
        Error::TokenStore {
            org: self.inner.org.clone(),
            source,
        }
    }

    /// A valid access token, refreshing first if it expires within the margin.
    pub(crate) async fn access_token(&self, ctx: &RefreshCtx<'_>) -> Result<SecretString, Error> {
        let mut state = self.inner.state.lock().await;
        self.settle(&mut state).await?;
        let expiring = match &state.tokens {
            Some(t) => t.expires_within(self.inner.margin),
            None => return Err(self.auth_err("no tokens stored; the organisation must connect")),
        };
        if expiring {
            self.refresh(&mut state, ctx, None).await?;
        }
        Ok(state
            .tokens
            .as_ref()
            .map(|t| t.access_token.clone())
            .expect("tokens present"))
    }

    /// The API rejected `used` with 401: refresh unless another task already replaced it.
    pub(crate) async fn unauthorized(
        &self,
        ctx: &RefreshCtx<'_>,
        used: &SecretString,
    ) -> Result<(), Error> {
        let mut state = self.inner.state.lock().await;
        self.settle(&mut state).await?;
        let current = state
            .tokens
            .as_ref()
            .map(|t| t.access_token.expose_secret());
        if current == Some(used.expose_secret()) {
            self.refresh(&mut state, ctx, Some(used)).await?;
        }
        Ok(())
    }

    /// Loads tokens on first use and retries a save that failed earlier.
    async fn settle(&self, state: &mut State) -> Result<(), Error> {
        if state.unsaved {
            let tokens = state.tokens.as_ref().expect("unsaved tokens present");
            let org = self.inner.org.as_str();
            self.inner
                .store
                .save(org, tokens)
                .await
                .map_err(|e| self.store_err(e))?;
            state.unsaved = false;
        }
        if state.tokens.is_none() {
            state.tokens = self
                .inner
                .store
                .load(&self.inner.org)
                .await
                .map_err(|e| self.store_err(e))?;
        }
        Ok(())
    }

    /// Refreshes under the state lock and the store's refresh lock (single flight). `stale` is
    /// the access token a 401 rejected, if that is why.
    async fn refresh(
        &self,
        state: &mut State,
        ctx: &RefreshCtx<'_>,
        stale: Option<&SecretString>,
    ) -> Result<(), Error> {
        let org = self.inner.org.as_str();
        let guard = self
            .inner
            .store
            .lock_refresh(org)
            .await
            .map_err(|e| self.store_err(e))?;
        let result = self.refresh_locked(state, ctx, stale).await;
        // Released only now: the save inside happened first, so the next holder re-reads the
        // rotated tokens instead of sending the burned refresh token.
        guard.release().await;
        result
    }

    /// The body of [`Self::refresh`], run while holding the store's refresh lock.
    async fn refresh_locked(
        &self,
        state: &mut State,
        ctx: &RefreshCtx<'_>,
        stale: Option<&SecretString>,
    ) -> Result<(), Error> {
        let org = self.inner.org.as_str();
        // Another handle or process may have rotated already: adopt its tokens rather than
        // sending a refresh token that is already burned.
        if let Some(stored) = self
            .inner
            .store
            .load(org)
            .await
            .map_err(|e| self.store_err(e))?
        {
            let newer = state
                .tokens
                .as_ref()
                .is_none_or(|t| !t.same_refresh(&stored));
            let usable = !stored.expires_within(self.inner.margin)
                && stale.is_none_or(|s| s.expose_secret() != stored.access_token.expose_secret());
            if newer && usable {
                tracing::debug!(org, "adopted tokens rotated elsewhere");
                state.tokens = Some(stored);
                return Ok(());
            }
            if newer {
                state.tokens = Some(stored);
            }
        }
        let current = state
            .tokens
            .clone()
            .ok_or_else(|| self.auth_err("no tokens stored"))?;
        if state
            .rejected
            .as_ref()
            .is_some_and(|r| r.expose_secret() == current.refresh_token.expose_secret())
        {
            return Err(
                self.auth_err("refresh token was rejected before (invalid_grant); the organisation must reconnect")
            );
        }
        let fresh = self.call_token_endpoint(ctx, &current, state).await?;
        // Persist before use: a rotated token we lose forces a manual reconnect.
        state.tokens = Some(fresh);
        state.unsaved = true;
        let tokens = state.tokens.as_ref().expect("just set");
        self.inner
            .store
            .save(org, tokens)
            .await
            .map_err(|e| self.store_err(e))?;
        state.unsaved = false;
        tracing::debug!(org, expires_at = %tokens.expires_at, "access token refreshed");
        Ok(())
    }

    async fn call_token_endpoint(
        &self,
        ctx: &RefreshCtx<'_>,
        current: &TokenSet,
        state: &mut State,
    ) -> Result<TokenSet, Error> {
        let url = match &self.inner.token_url {
            Some(u) => u.clone(),
            None => format!("{}/oauth/token", ctx.base_url),
        };
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", current.refresh_token.expose_secret()),
            ("client_id", self.inner.client_id.as_str()),
            ("client_secret", self.inner.client_secret.expose_secret()),
        ];
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent_at = Utc::now();
            let span = tracing::debug_span!("oauth.refresh", org = %self.inner.org, attempt, status = tracing::field::Empty);
            let result = (ctx.http.post(&url).timeout(ctx.timeout).form(&form).send())
                .instrument(span.clone())
                .await;
            let retry = |why: String| {
                if attempt < ctx.retry.max_attempts {
                    tracing::warn!(parent: &span, reason = %why, "token refresh failed; retrying");
                    Ok(ctx.retry.backoff(attempt))
                } else {
                    Err(self.auth_err(format!(
                        "token endpoint failed after {attempt} attempts: {why}"
                    )))
                }
            };
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    tokio::time::sleep(retry(e.without_url().to_string())?).await;
                    continue;
                }
            };
            let status = response.status();
            span.record("status", status.as_u16());
            let body = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    tokio::time::sleep(retry(e.without_url().to_string())?).await;
                    continue;
                }
            };
            if status.is_server_error() || status.as_u16() == 429 {
                tokio::time::sleep(retry(format!("status {status}"))?).await;
                continue;
            }
            if !status.is_success() {
                let err: OAuthErrorBody = serde_json::from_slice(&body).unwrap_or_default();
                if err.error == "invalid_grant" {
                    state.rejected = Some(current.refresh_token.clone());
                }
                let detail = err
                    .error_description
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                return Err(self.auth_err(format!(
                    "token endpoint answered {status}: {}{detail}; the organisation must reconnect",
                    if err.error.is_empty() {
                        "no error code"
                    } else {
                        &err.error
                    }
                )));
            }
            let answer: TokenResponse = serde_json::from_slice(&body)
                .map_err(|e| self.auth_err(format!("unreadable token endpoint answer: {e}")))?;
            let expires_in = answer.expires_in.unwrap_or(7200);
            return Ok(TokenSet {
                access_token: SecretString::from(answer.access_token),
                // A non-rotating server keeps the old refresh token valid.
                refresh_token: answer
                    .refresh_token
                    .map(SecretString::from)
                    .unwrap_or_else(|| current.refresh_token.clone()),
                expires_at: sent_at + chrono::Duration::seconds(expires_in),
            });
        }
    }
}

/// What a refresh borrows from the client.
pub(crate) struct RefreshCtx<'a> {
    pub http: &'a reqwest::Client,
    pub base_url: &'a str,
    pub timeout: Duration,
    pub retry: &'a RetryPolicy,
}
