//! Shared server state: settings, store, accepted credentials, the shifted clock, armed faults, request log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::config::Config;
use crate::faults::Faults;
use crate::network::Network;
use crate::store::Store;
use crate::versions::Versions;

/// One accepted key pair, with its STS token when it has one. Never serialised: the control plane
/// lists ids only.
#[derive(Clone)]
pub struct Credential {
    /// The access key id.
    pub access_key_id: String,
    /// The secret (never logged, never dumped).
    pub access_key_secret: String,
    /// The STS token requests with this key must carry.
    pub sts_token: Option<String>,
    /// Set by the control plane: the token is expired.
    pub expired: bool,
    /// When the token expires by itself, unix seconds of the server clock.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("sts", &self.sts_token.is_some())
            .field("expired", &self.expired)
            .finish_non_exhaustive()
    }
}

/// One line of the request log the control plane serves.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// `x-oss-request-id`.
    pub request_id: String,
    /// HTTP method.
    pub method: String,
    /// The operation (`append`, `put`, `get`, ...).
    pub op: String,
    /// Bucket, when addressed.
    pub bucket: Option<String>,
    /// Key, when addressed.
    pub key: Option<String>,
    /// The `position` query value of an append.
    pub position: Option<String>,
    /// The response status; 0 when the connection was closed without one.
    pub status: u16,
    /// The error code, when there was one.
    pub code: Option<String>,
    /// The fault that hit this request.
    pub fault: Option<String>,
    /// For a CORS preflight (`key` stays empty): the key of the request it precedes.
    pub preflight_key: Option<String>,
}

/// Everything the request handlers share.
#[derive(Debug)]
pub struct AppState {
    /// Settings from the command line.
    pub config: Config,
    /// The objects.
    pub store: Store,
    /// Accepted credentials.
    pub credentials: RwLock<Vec<Credential>>,
    /// Milliseconds added to the real clock.
    pub clock_offset_ms: AtomicI64,
    /// Armed faults.
    pub faults: Mutex<Faults>,
    /// Recent requests, oldest first.
    pub log: Mutex<VecDeque<LogEntry>>,
    /// The buckets' versioning status and version ids.
    pub versions: Versions,
    /// The modelled latency and uplink rate.
    pub network: std::sync::Arc<Network>,
    ids: AtomicU64,
    id_seed: u64,
}

/// How many requests the log keeps.
const LOG_CAPACITY: usize = 2000;

impl AppState {
    /// State for `config` over `store`.
    pub fn new(config: Config, store: Store) -> Self {
        let creds = vec![Self::initial_credential(&config)];
        let network = std::sync::Arc::new(Network::new(config.latency_ms, config.upload_rate));
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            versions: Versions::new(config.versioning),
            config,
            store,
            credentials: RwLock::new(creds),
            clock_offset_ms: AtomicI64::new(0),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(VecDeque::new()),
            network,
            ids: AtomicU64::new(1),
            id_seed: seed,
        }
    }

    fn initial_credential(config: &Config) -> Credential {
        Credential {
            access_key_id: config.access_key_id.clone(),
            access_key_secret: config.access_key_secret.clone(),
            sts_token: config.sts_token.clone(),
            expired: false,
            expires_at: None,
        }
    }

    /// Puts credentials, clock, faults, log and versioning back to how they were at start (objects are kept).
    pub fn reset_runtime(&self) {
        *self.credentials.write().unwrap_or_else(|p| p.into_inner()) =
            vec![Self::initial_credential(&self.config)];
        self.clock_offset_ms.store(0, Ordering::Relaxed);
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = Faults::default();
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.versions.reset();
        self.network
            .set(Some(self.config.latency_ms), Some(self.config.upload_rate));
    }

    /// The server's notion of now, in unix milliseconds (the real clock plus the shift).
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        real + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// A fresh OSS-style request id: 24 upper-case hex digits.
    pub fn request_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let secs = (self.now_ms() / 1000) as u32;
        let mixed = (self.id_seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).rotate_left(17) ^ n;
        format!("{secs:08X}{mixed:016X}")
    }

    /// Records a finished request.
    pub fn record(&self, entry: LogEntry) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }
}
