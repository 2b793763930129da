//! The simulator: builder, shared state, mutations (with cascades and webhooks), churn, and the
//! running handle tests use.

use crate::auth::{Auth, AuthConfig};
use crate::faults::FaultConfig;
use crate::generate::{OrgSpec, generate};
use crate::jsonapi::{Included, Renderer};
use crate::ratelimit::{RateLimitConfig, RateLimiter};
use crate::schema::{RelKind, Schema};
use crate::store::{Change, Org, StoreError};
use crate::webhooks::{Delivery, WebhookConfig, WebhookStats, spawn_delivery};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

/// Request counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// API requests received (admin and OAuth excluded).
    pub requests: AtomicU64,
    /// Requests rejected because they were over the rate-limit budget.
    pub over_limit: AtomicU64,
    /// Requests answered with an injected fault.
    pub faults: AtomicU64,
}

/// A snapshot of every counter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// API requests received.
    pub requests: u64,
    /// Requests beyond the rate limit (answered 429). "No request over budget" means 0.
    pub over_limit: u64,
    /// Requests answered with an injected fault.
    pub faults: u64,
    /// Requests rejected with 401.
    pub unauthorized: u64,
    /// OAuth access tokens issued.
    pub tokens_issued: u64,
    /// Reused refresh tokens presented.
    pub refresh_reuse: u64,
    /// Requests made with an expired access token.
    pub expired_token_uses: u64,
    /// Webhook deliveries acknowledged.
    pub webhooks_delivered: u64,
    /// Webhook attempts that failed.
    pub webhook_failed_attempts: u64,
    /// Mutations applied (admin, API writes, churn).
    pub mutations: u64,
}

/// State shared by the server tasks and the handle.
pub struct Shared {
    pub(crate) org: RwLock<Org>,
    pub(crate) auth: Auth,
    pub(crate) limiter: RateLimiter,
    pub(crate) faults: FaultConfig,
    pub(crate) seed: u64,
    pub(crate) counters: Counters,
    pub(crate) webhook_cfg: WebhookConfig,
    pub(crate) webhook_stats: Arc<WebhookStats>,
    pub(crate) http: reqwest::Client,
    pub(crate) base: RwLock<String>,
    pub(crate) mutations: AtomicU64,
    pub(crate) churn_rng: Mutex<StdRng>,
}

/// Configures and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    people: usize,
    seed: u64,
    port: u16,
    rate: RateLimitConfig,
    auth: AuthConfig,
    faults: FaultConfig,
    webhooks: WebhookConfig,
    churn_per_sec: f64,
    schema: Option<Arc<Schema>>,
    spec_dir: Option<std::path::PathBuf>,
}

/// Entry point: `Simulator::builder()`.
pub struct Simulator;

impl Simulator {
    /// A builder with defaults: 100 people, seed 1, PCO's rate limits, default credentials.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            people: 100,
            seed: 1,
            port: 0,
            rate: RateLimitConfig::default(),
            auth: AuthConfig::default(),
            faults: FaultConfig::default(),
            webhooks: WebhookConfig::default(),
            churn_per_sec: 0.0,
            schema: None,
            spec_dir: None,
        }
    }
}

impl SimulatorBuilder {
    /// Number of people to generate.
    pub fn people(mut self, n: usize) -> Self {
        self.people = n;
        self
    }
    /// Seed for data, faults and churn.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Loopback port (0 = any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Rate-limit settings.
    pub fn rate_limit(mut self, cfg: RateLimitConfig) -> Self {
        self.rate = cfg;
        self
    }
    /// Disable rate limiting (headers are still sent).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate.enabled = false;
        self
    }
    /// Accepted credentials and token lifetime.
    pub fn auth(mut self, cfg: AuthConfig) -> Self {
        self.auth = cfg;
        self
    }
    /// OAuth access-token lifetime.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.auth.token_ttl = ttl;
        self
    }
    /// Fault injection.
    pub fn faults(mut self, cfg: FaultConfig) -> Self {
        self.faults = cfg;
        self
    }
    /// Webhook delivery settings.
    pub fn webhooks(mut self, cfg: WebhookConfig) -> Self {
        self.webhooks = cfg;
        self
    }
    /// Apply this many random mutations per second in the background (0 = off).
    pub fn churn(mut self, per_sec: f64) -> Self {
        self.churn_per_sec = per_sec;
        self
    }
    /// Serve a routing table built elsewhere (e.g. [`Schema::from_ir`]).
    pub fn schema(mut self, schema: Arc<Schema>) -> Self {
        self.schema = Some(schema);
        self
    }
    /// Serve what a spec directory (`manifest.yaml` + `openapi/*.yaml`) describes instead of
    /// this workspace's `specs/pco`.
    pub fn spec_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.spec_dir = Some(dir.into());
        self
    }

    /// Generate the organisation, bind `127.0.0.1:port` and serve.
    pub async fn start(self) -> std::io::Result<RunningSim> {
        let schema = match (self.schema, &self.spec_dir) {
            (Some(s), _) => s,
            (None, Some(dir)) => {
                Arc::new(Schema::from_spec_dir(dir).map_err(std::io::Error::other)?)
            }
            (None, None) => default_schema().map_err(std::io::Error::other)?,
        };
        let org = generate(
            schema,
            &OrgSpec {
                people: self.people,
                seed: self.seed,
            },
        );
        let shared = Arc::new(Shared {
            org: RwLock::new(org),
            auth: Auth::new(self.auth),
            limiter: RateLimiter::new(self.rate),
            faults: self.faults,
            seed: self.seed,
            counters: Counters::default(),
            webhook_cfg: self.webhooks,
            webhook_stats: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(std::io::Error::other)?,
            base: RwLock::new(String::new()),
            mutations: AtomicU64::new(0),
            churn_rng: Mutex::new(StdRng::seed_from_u64(self.seed.wrapping_add(0xC0FFEE))),
        });
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await?;
        let addr = listener.local_addr()?;
        *shared.base.write().unwrap_or_else(|e| e.into_inner()) = format!("http://{addr}");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = crate::server::router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        });
        let churn = (self.churn_per_sec > 0.0).then(|| {
            let s = shared.clone();
            let every = Duration::from_secs_f64(1.0 / self.churn_per_sec);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    s.churn(1);
                }
            })
        });
        Ok(RunningSim {
            shared,
            addr,
            shutdown: Some(tx),
            task,
            churn,
        })
    }
}

/// A running simulator.
pub struct RunningSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    churn: Option<tokio::task::JoinHandle<()>>,
}

impl RunningSim {
    /// `http://127.0.0.1:PORT` (no trailing slash); pass it as the client's API base.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Read access to the ground truth.
    pub fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.shared.read()
    }
    /// Counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }
    /// Create a record (JSON attributes, to-one relations by id); fires webhooks.
    pub fn create(
        &self,
        table: &str,
        attrs: Map<String, Value>,
        rels: HashMap<String, Option<u64>>,
    ) -> Result<u64, StoreError> {
        self.shared.create(table, &attrs, &rels).map(|c| c.id)
    }
    /// Update a record; `updated_at` advances; fires webhooks.
    pub fn update(
        &self,
        table: &str,
        id: u64,
        attrs: Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.shared
            .update(table, id, &attrs, &HashMap::new())
            .map(|_| ())
    }
    /// Delete a record and its dependents; fires webhooks.
    pub fn delete(&self, table: &str, id: u64) -> Result<(), StoreError> {
        self.shared.delete(table, id).map(|_| ())
    }
    /// Apply `n` random mutations (deterministic under the seed).
    pub fn churn(&self, n: usize) -> Vec<Change> {
        self.shared.churn(n)
    }
    /// Issue an OAuth authorization code for a client.
    pub fn authorization_code(&self, client_id: &str) -> Option<String> {
        self.shared.auth.issue_code(client_id)
    }
    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(c) = self.churn.take() {
            c.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(c) = self.churn.take() {
            c.abort();
        }
        self.task.abort();
    }
}

/// The schema of this workspace's `specs/pco`, resolved once per process.
pub fn default_schema() -> Result<Arc<Schema>, crate::schema::SchemaError> {
    static DEFAULT: std::sync::OnceLock<Arc<Schema>> = std::sync::OnceLock::new();
    if let Some(s) = DEFAULT.get() {
        return Ok(s.clone());
    }
    let s = Arc::new(Schema::load_default()?);
    Ok(DEFAULT.get_or_init(|| s).clone())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Shared {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn base(&self) -> String {
        self.base.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn stats(&self) -> Stats {
        let a = &self.auth.stats;
        let l = |x: &AtomicU64| x.load(Ordering::Relaxed);
        Stats {
            requests: l(&self.counters.requests),
            over_limit: l(&self.counters.over_limit),
            faults: l(&self.counters.faults),
            unauthorized: l(&a.unauthorized),
            tokens_issued: l(&a.tokens_issued),
            refresh_reuse: l(&a.refresh_reuse),
            expired_token_uses: l(&a.expired_token_uses),
            webhooks_delivered: l(&self.webhook_stats.delivered),
            webhook_failed_attempts: l(&self.webhook_stats.failed_attempts),
            mutations: l(&self.mutations),
        }
    }

    /// Render `{"data": resource}` for webhooks and write responses.
    pub(crate) fn document(&self, org: &Org, table: &str, id: u64) -> Option<Value> {
        let ti = org.schema.index(table)?;
        let rec = org.table_at(ti).get(id)?;
        let base = self.base();
        let r = Renderer { org, base: &base };
        Some(json!({"data": r.resource(ti, rec, &[], &mut Included::default(), false)}))
    }

    pub(crate) fn create(
        &self,
        table: &str,
        attrs: &Map<String, Value>,
        rels: &HashMap<String, Option<u64>>,
    ) -> Result<Change, StoreError> {
        let mut org = self.write();
        let c = org.create(table, attrs, rels, now())?;
        let doc = self.document(&org, table, c.id);
        drop(org);
        self.notify(&c, doc);
        Ok(c)
    }

    pub(crate) fn update(
        &self,
        table: &str,
        id: u64,
        attrs: &Map<String, Value>,
        rels: &HashMap<String, Option<u64>>,
    ) -> Result<Change, StoreError> {
        let mut org = self.write();
        let c = org.update(table, id, attrs, rels, now())?;
        let doc = self.document(&org, table, id);
        drop(org);
        self.notify(&c, doc);
        Ok(c)
    }

    /// Delete a record and, recursively, every record whose to-one relation points at it.
    pub(crate) fn delete(&self, table: &str, id: u64) -> Result<Vec<Change>, StoreError> {
        let mut org = self.write();
        org.table(table)
            .and_then(|t| t.get(id))
            .ok_or_else(|| StoreError::NotFound(table.into(), id))?;
        let mut stack = vec![(table.to_string(), id)];
        let mut order = Vec::new();
        while let Some((t, id)) = stack.pop() {
            if order.contains(&(t.clone(), id)) {
                continue;
            }
            for dep in &org.schema.tables {
                for r in &dep.relations {
                    if let RelKind::One { slot } = r.kind
                        && r.target == t
                        && let Some(dt) = org.table(&dep.name)
                    {
                        for did in dt.referencing(slot, id) {
                            stack.push((dep.name.clone(), *did));
                        }
                    }
                }
            }
            order.push((t, id));
        }
        let mut out = Vec::new();
        for (t, id) in order {
            let doc = self.document(&org, &t, id);
            let c = org.delete(&t, id)?;
            out.push((c, doc));
        }
        drop(org);
        let mut changes = Vec::new();
        for (c, doc) in out {
            self.notify(&c, doc);
            changes.push(c);
        }
        Ok(changes)
    }

    fn notify(&self, c: &Change, doc: Option<Value>) {
        self.mutations.fetch_add(1, Ordering::Relaxed);
        let Some(doc) = doc else { return };
        let org = self.read();
        let Some(t) = org.schema.table(&c.table) else {
            return;
        };
        let name = format!(
            "{}.v2.events.{}.{}",
            t.module,
            snake(&t.wire_type),
            c.action
        );
        let Some(subs) = org.table("WebhookSubscription") else {
            return;
        };
        let s = &subs.schema;
        for rec in subs.records() {
            let get = |n: &str| {
                rec.get(s, n)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let active = !matches!(rec.get(s, "active"), Some(crate::value::Val::Bool(false)));
            if active && get("name") == name {
                let d = Delivery {
                    url: get("url"),
                    secret: get("authenticity_secret"),
                    name: name.clone(),
                    resource: doc.clone(),
                    org_id: org.org_id,
                };
                let id = format!("{:032x}", rand::rng().random::<u128>());
                spawn_delivery(
                    self.http.clone(),
                    self.webhook_cfg.clone(),
                    self.webhook_stats.clone(),
                    d,
                    id,
                );
            }
        }
    }

    /// Apply `n` random mutations to people and their contact data.
    pub(crate) fn churn(&self, n: usize) -> Vec<Change> {
        let mut out = Vec::new();
        for _ in 0..n {
            let (kind, pick, word) = {
                let mut rng = self.churn_rng.lock().unwrap_or_else(|e| e.into_inner());
                (
                    rng.random_range(0..10u32),
                    rng.random::<u64>(),
                    rng.random_range(0..1000u32),
                )
            };
            let nth = |table: &str| {
                let org = self.read();
                let recs = org.table(table).map(|t| t.records()).unwrap_or(&[]);
                (!recs.is_empty()).then(|| recs[(pick % recs.len() as u64) as usize].id)
            };
            let res = match kind {
                0..=5 => nth("Person").map(|id| {
                    let mut m = Map::new();
                    m.insert("nickname".into(), Value::from(format!("Nick{word}")));
                    self.update("Person", id, &m, &HashMap::new())
                        .map(|c| vec![c])
                }),
                6 => nth("Email").map(|id| {
                    let mut m = Map::new();
                    m.insert(
                        "address".into(),
                        Value::from(format!("changed{word}.{id}@example.com")),
                    );
                    self.update("Email", id, &m, &HashMap::new())
                        .map(|c| vec![c])
                }),
                7 | 8 => {
                    let mut m = Map::new();
                    m.insert("first_name".into(), Value::from("New"));
                    m.insert("last_name".into(), Value::from(format!("Person{word}")));
                    m.insert("name".into(), Value::from(format!("New Person{word}")));
                    m.insert("status".into(), Value::from("active"));
                    Some(self.create("Person", &m, &HashMap::new()).and_then(|c| {
                        let mut e = Map::new();
                        e.insert(
                            "address".into(),
                            Value::from(format!("new{word}.{}@example.com", c.id)),
                        );
                        e.insert("primary".into(), Value::from(true));
                        e.insert("location".into(), Value::from("Home"));
                        let rels = HashMap::from([("person".to_string(), Some(c.id))]);
                        let e = self.create("Email", &e, &rels)?;
                        Ok(vec![c, e])
                    }))
                }
                _ => nth("Person").map(|id| self.delete("Person", id)),
            };
            if let Some(Ok(c)) = res {
                out.extend(c);
            }
        }
        out
    }
}

/// `PhoneNumber` -> `phone_number`.
pub(crate) fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}
