//! A local HTTP server that speaks Twilio's Messages API (create and list), with faults a
//! test can switch on: 5xx, 429 with `Retry-After`, Twilio error codes, slow answers, and a
//! message created whose answer is lost.
//!
//! ```no_run
//! # async fn demo() {
//! let twilio = rappel_twilio_fake::FakeTwilio::start().await;
//! twilio.set_fault(rappel_twilio_fake::Fault::Code(21211));
//! // point the channel at twilio.base_url() with twilio.account_sid() / twilio.auth_token()
//! assert!(twilio.created().is_empty());
//! # }
//! ```
#![warn(missing_docs)]

mod faults;
mod routes;
mod segments;

pub use faults::{Fault, error_response, status_for_code};
pub use segments::num_segments;

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// One request the fake received, whatever its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `POST` or `GET`.
    pub method: String,
    /// The path, e.g. `/2010-04-01/Accounts/AC…/Messages.json`.
    pub path: String,
    /// The decoded query parameters, in order (`DateSent>` for `DateSent>=…`).
    pub query: Vec<(String, String)>,
    /// The decoded form fields, in order (empty for `GET`).
    pub form: Vec<(String, String)>,
    /// The user of the Basic `Authorization` header (account SID or API key), if any.
    pub auth_user: Option<String>,
}

impl Recorded {
    /// The first value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The form field names, in order.
    pub fn field_names(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// A message the fake created (including those whose answer was then lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedMessage {
    /// `SM` + 32 hex digits.
    pub sid: String,
    /// The `To` field.
    pub to: String,
    /// The `From` field, if given.
    pub from: Option<String>,
    /// The `MessagingServiceSid` field, if given.
    pub messaging_service_sid: Option<String>,
    /// The `Body` field, if given.
    pub body: Option<String>,
    /// The `ContentSid` field, if given.
    pub content_sid: Option<String>,
    /// The `ContentVariables` field (a JSON string), if given.
    pub content_variables: Option<String>,
    /// The `StatusCallback` field, if given.
    pub status_callback: Option<String>,
    /// Segments, by a simple GSM-7 / UCS-2 count of the body.
    pub num_segments: u32,
    /// When it was created (the fake's clock, see [`FakeTwilio::pin_clock`]).
    pub date_created: DateTime<Utc>,
}

/// Everything the server shares between requests.
pub(crate) struct Shared {
    pub(crate) account_sid: String,
    pub(crate) auth_token: String,
    pub(crate) api_key: String,
    pub(crate) api_key_secret: String,
    state: Mutex<State>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) requests: Vec<Recorded>,
    pub(crate) created: Vec<CreatedMessage>,
    pub(crate) fault: Option<Fault>,
    pub(crate) fault_for: HashMap<String, Option<Fault>>,
    pub(crate) list_fault: Option<Fault>,
    pub(crate) clock: Option<DateTime<Utc>>,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the record from the next assertion.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running fake Twilio on `127.0.0.1`. Dropping it stops the server.
pub struct FakeTwilio {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runner: Runner,
}

enum Runner {
    /// Spawned on the caller's runtime.
    Task(tokio::task::JoinHandle<()>),
    /// Its own runtime on a thread, for synchronous tests.
    Thread {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl Drop for Runner {
    fn drop(&mut self) {
        match self {
            Runner::Task(task) => task.abort(),
            Runner::Thread { stop, thread } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

impl std::fmt::Debug for FakeTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilio")
            .field("base_url", &self.base_url())
            .field("account_sid", &self.shared.account_sid)
            .finish_non_exhaustive()
    }
}

impl FakeTwilio {
    /// Starts the server on the current tokio runtime, on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let shared = new_shared();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake Twilio could not bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound socket has an address");
        let app = routes::router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            _runner: Runner::Task(task),
        }
    }

    /// Starts the server on its own runtime and thread, for synchronous tests (for instance
    /// ones that run the `rappel` binary).
    pub fn start_in_background() -> Self {
        let shared = new_shared();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = routes::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("fake-twilio".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the fake Twilio could not start a tokio runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("the fake Twilio could not bind 127.0.0.1:0");
                    let _ = addr_tx.send(listener.local_addr().expect("bound socket has an address"));
                    tokio::spawn(async move {
                        let _ = axum::serve(listener, app).await;
                    });
                    let _ = stop_rx.await;
                });
                // Dropping the runtime cancels hanging handlers too.
            })
            .expect("the fake Twilio could not start its thread");
        let addr = addr_rx.recv().expect("the fake Twilio thread died before binding");
        Self {
            addr,
            shared,
            _runner: Runner::Thread {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
        }
    }

    /// `http://127.0.0.1:PORT`, to use as the channel's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The account SID (`AC` + 32 hex digits) the fake accepts.
    pub fn account_sid(&self) -> &str {
        &self.shared.account_sid
    }

    /// The auth token that goes with [`FakeTwilio::account_sid`].
    pub fn auth_token(&self) -> &str {
        &self.shared.auth_token
    }

    /// An API key SID (`SK` + 32 hex digits) the fake also accepts, with
    /// [`FakeTwilio::api_key_secret`].
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// The secret of [`FakeTwilio::api_key`].
    pub fn api_key_secret(&self) -> &str {
        &self.shared.api_key_secret
    }

    /// The path of the Messages resource: `/2010-04-01/Accounts/AC…/Messages.json`.
    pub fn messages_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}/Messages.json", self.shared.account_sid)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.state().requests.clone()
    }

    /// Every message created so far, in order, including those whose answer was lost.
    pub fn created(&self) -> Vec<CreatedMessage> {
        self.shared.state().created.clone()
    }

    /// Forgets the recorded requests and created messages (faults stay).
    pub fn reset_records(&self) {
        let mut state = self.shared.state();
        state.requests.clear();
        state.created.clear();
    }

    /// Applies `fault` to every following create request (until cleared, or counted down
    /// with [`Fault::FailTimes`]).
    pub fn set_fault(&self, fault: Fault) {
        self.shared.state().fault = Some(fault);
    }

    /// Applies `fault` to create requests whose `To` is `to` (`+221…` or `whatsapp:+221…`),
    /// before the general fault. Other recipients are not affected.
    pub fn fault_for(&self, to: &str, fault: Fault) {
        self.shared.state().fault_for.insert(to.to_string(), Some(fault));
    }

    /// Applies `fault` to list (`GET`) requests. Only refusing faults and `Slow` apply.
    pub fn set_list_fault(&self, fault: Fault) {
        self.shared.state().list_fault = Some(fault);
    }

    /// Removes every fault (general, per recipient and list).
    pub fn clear_fault(&self) {
        let mut state = self.shared.state();
        state.fault = None;
        state.fault_for.clear();
        state.list_fault = None;
    }

    /// Stamps new messages with `at` instead of the system clock (for tests that run at a
    /// given `--now`); `None` goes back to the system clock.
    pub fn pin_clock(&self, at: Option<DateTime<Utc>>) {
        self.shared.state().clock = at;
    }
}

fn new_shared() -> Arc<Shared> {
    Arc::new(Shared {
        account_sid: format!("AC{}", random_hex()),
        auth_token: random_hex(),
        api_key: format!("SK{}", random_hex()),
        api_key_secret: random_hex(),
        state: Mutex::new(State::default()),
    })
}

/// 32 hex digits, different for each call (no cryptographic quality needed).
pub(crate) fn random_hex() -> String {
    let half = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("{:016x}{:016x}", half(), half())
}
