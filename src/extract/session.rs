//! One source's conversation with its vendor: the rate limiter, the token cache, and every request
//! with its retries.
//!
//! Retries cover what a retry can fix — transport errors and timeouts, dropped connections,
//! truncated or unparsable bodies, 408, 429 and 5xx — bounded by attempts and total time. A 429
//! honours `Retry-After` (seconds or an HTTP date) and pauses the whole source, so concurrent
//! requests slow down together instead of storming, and afterwards keep a gap that each 429
//! widens and each success narrows ([`Pace`]); other waits back off exponentially with jitter.
//! A 401 gets a new token; a token that should have passed refused after a renewal fails the
//! source. One should pass when it is inside its announced lifetime or — a token without one —
//! when it was fetched for that request and is younger than a token of the source already
//! accepted: a fetched token that then waited out a pause may have lapsed before it went out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use backon::BackoffBuilder;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::Limits;
use super::auth::{AuthFailure, Http, Reply, Token};
use super::connector::{Connector, Next, Page, PageRequest, VendorError, untrusted};
use super::error::ExtractError;
use super::pace::Pace;
use super::page::{RecordReader, read_page};
use super::progress::SourceProgress;

/// What one attempt came to.
pub(super) enum Attempt<T> {
    Done(T),
    Retry {
        reason: String,
        after: Option<Duration>,
        rate_limited: bool,
    },
    Unauthorized(String),
    Fail(ExtractError),
}

/// The first gap a 429 opens between requests when the source has no rate limit of its own.
const DEFAULT_GAP: Duration = Duration::from_millis(50);

/// The least a body's buffer starts at.
const MIN_BODY_CAPACITY: usize = 16 * 1024;

pub struct Session {
    pub name: String,
    client: reqwest::Client,
    connector: Arc<dyn Connector>,
    limiter: Option<DefaultDirectRateLimiter>,
    token: Mutex<Option<Token>>,
    limits: Limits,
    /// The bytes of all response bodies of the source being read at once.
    body_budget: Arc<BodyBudget>,
    progress: SourceProgress,
    /// After a 429 every request of the source waits until then.
    paused_until: std::sync::Mutex<Option<Instant>>,
    /// The gap 429s open between requests, beyond the rate limit.
    pace: Pace,
    /// The greatest age at which a token of the source has been accepted (`None`: none yet):
    /// its tokens live at least that long.
    proven_lifetime: std::sync::Mutex<Option<Duration>>,
    /// The length of the last body read whole: the next body's buffer starts at about that size
    /// rather than doubling its way up from a few KiB (each doubling a copy, and fresh pages the
    /// kernel must fault in). A size that really arrived, so never more than the cap allows.
    body_hint: AtomicUsize,
}

impl Session {
    pub fn new(
        name: &str,
        limits: &Limits,
        client: reqwest::Client,
        connector: Arc<dyn Connector>,
        progress: SourceProgress,
    ) -> Session {
        let period = limits.rate_limit.map(|rate| rate.per / rate.count.get());
        let limiter = period.and_then(|p| Quota::with_period(p).map(RateLimiter::direct));
        Session {
            name: name.to_string(),
            client,
            connector,
            limiter,
            token: Mutex::new(None),
            limits: limits.clone(),
            body_budget: Arc::new(BodyBudget {
                used: AtomicUsize::new(0),
                limit: limits.max_body_bytes,
                spare: Default::default(),
            }),
            progress,
            paused_until: std::sync::Mutex::new(None),
            pace: Pace::new(period.unwrap_or(DEFAULT_GAP)),
            proven_lifetime: std::sync::Mutex::new(None),
            body_hint: AtomicUsize::new(MIN_BODY_CAPACITY),
        }
    }

    pub fn progress(&self) -> &SourceProgress {
        &self.progress
    }

    /// What the pipeline allows this source.
    /// The vendor's side of the conversation.
    pub fn connector(&self) -> &dyn Connector {
        &*self.connector
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Fetches page `index` and reads its records through `reader`, retrying as the policy allows.
    pub async fn fetch_page<R: RecordReader>(
        &self,
        index: u64,
        after: Option<&Next>,
        reader: &R,
    ) -> Result<Page<R::Record>, ExtractError> {
        self.fetch(index, after, &mut WholePage { reader }).await
    }

    /// Fetches page `index`, its reply read by `reading`, retrying as the policy allows.
    pub(super) async fn fetch<H: ReadReply>(
        &self,
        index: u64,
        after: Option<&Next>,
        reading: &mut H,
    ) -> Result<H::Out, ExtractError> {
        let request = self.connector.page_request(index, after);
        let url = redacted(&request.url);
        let mut budget = Budget::new(self, &url);
        let mut reauthenticated = false;
        loop {
            budget.attempt += 1;
            let (token, fetched) = self.turn_with_token().await?;
            let builder = self.list_request(&request, &token);
            let sent = Instant::now();
            let outcome = match self.start(builder).await {
                Err(failure) => self.send_failed(failure, &url),
                Ok(started) => reading.read(self, index, started, &url).await,
            };
            match outcome {
                Attempt::Done(page) => {
                    self.pace.succeeded();
                    self.token_accepted(&token, sent);
                    return Ok(page);
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Unauthorized(detail) => {
                    // A token that should pass, refused after an earlier renewal: the credentials
                    // (or their rights) are refused. Any other may have lapsed while the request
                    // waited or backed off: it is renewed, the first time for free, later times
                    // for an attempt each.
                    let out_of_attempts = budget.attempt >= self.limits.max_attempts;
                    let should_pass = self.should_pass(&token, fetched);
                    if !self.connector.auth().renewable()
                        || (reauthenticated && (should_pass || out_of_attempts))
                    {
                        return Err(
                            self.auth_error(&url, format!("{detail}; check the credentials"))
                        );
                    }
                    if !reauthenticated {
                        budget.attempt -= 1;
                    }
                    reauthenticated = true;
                    debug!(source = %self.name, url = %url, "Token refused; authenticating again.");
                    self.forget_token(&token).await;
                }
                Attempt::Retry {
                    reason,
                    after,
                    rate_limited,
                } => budget.wait(&reason, after, rate_limited).await?,
            }
        }
    }

    /// Whether a refused token should have been accepted, so that renewing it cannot help. One
    /// inside its announced lifetime should. One without a lifetime should only if this request
    /// fetched it (an older one may have lapsed at the vendor's) and, once a token of the source
    /// has been accepted, only if it is provably younger than that one was: a token fetched and
    /// then held back by a pause (another request's 429) can lapse before it goes out.
    fn should_pass(&self, token: &Token, fetched: bool) -> bool {
        if token.refresh_at.is_some() {
            return token.is_fresh();
        }
        let proven = *self
            .proven_lifetime
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        fetched && proven.is_none_or(|proven| token.age_at_most() < proven)
    }

    /// Notes that `token`, sent at `sent`, was accepted: the source's tokens live at least as
    /// long as it had lived then.
    fn token_accepted(&self, token: &Token, sent: Instant) {
        let age = token.age_at_least(sent);
        let mut proven = self
            .proven_lifetime
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if proven.is_none_or(|p| p < age) {
            *proven = Some(age);
        }
    }

    /// Every request of the source waits until `until` (after a 429).
    fn pause_until(&self, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    fn list_request(&self, request: &PageRequest, token: &Token) -> RequestBuilder {
        let mut headers = HeaderMap::new();
        self.connector.headers(&mut headers);
        for (name, value) in &request.headers {
            headers.insert(name.clone(), value.clone());
        }
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .query(&request.query)
            .headers(headers)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(json) = &request.json {
            builder = builder.json(json);
        }
        self.connector.auth().apply(builder, token)
    }

    fn classify_page<R: RecordReader>(
        &self,
        index: u64,
        mut reply: Reply,
        url: &str,
        reader: &R,
    ) -> Attempt<Page<R::Record>> {
        let status = reply.status;
        if status.is_success() {
            let page = read_page(&reply.body, self.connector.records_at(), reader).and_then(
                |(mut envelope, records)| {
                    envelope.headers = std::mem::take(&mut reply.headers);
                    let info = self.connector.read_page(index, &envelope)?;
                    Ok(Page { records, info })
                },
            );
            return match page {
                Ok(page) => Attempt::Done(page),
                Err(vendor) if vendor.retryable == Some(false) => {
                    Attempt::Fail(self.vendor_error(url, status, vendor))
                }
                Err(vendor) => retry(format!("unusable {status} response: {vendor}")),
            };
        }
        self.classify_unsuccessful(&reply, url)
    }

    /// What a reply that is not a success means, from its status, headers and the vendor's error
    /// body.
    pub(super) fn classify_unsuccessful<T>(&self, reply: &Reply, url: &str) -> Attempt<T> {
        let vendor = self.connector.parse_error(&reply.body);
        self.classify_failure(reply.status, &reply.headers, vendor, url)
    }

    /// What a failed send means: a transport failure is retried, a body over the cap is not.
    pub(super) fn send_failed<T>(&self, failure: SendFailure, url: &str) -> Attempt<T> {
        match failure {
            SendFailure::Transport(reason) => retry(reason),
            SendFailure::TooLarge(detail) => Attempt::Fail(self.too_large(url, detail)),
        }
    }

    fn classify_failure<T>(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        vendor: VendorError,
        url: &str,
    ) -> Attempt<T> {
        if self.connector.auth().is_refusal(status) {
            return Attempt::Unauthorized(format!("{} {vendor}", status.as_u16()));
        }
        match status.as_u16() {
            429 => Attempt::Retry {
                reason: format!("429 {vendor}"),
                after: retry_after(headers),
                rate_limited: true,
            },
            code if self.connector.retries(code) => Attempt::Retry {
                reason: format!("{status} {vendor}"),
                after: retry_after(headers),
                rate_limited: false,
            },
            300..=399 => Attempt::Fail(ExtractError::Redirect {
                source_name: self.name.clone(),
                url: url.to_string(),
                location: headers
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .map_or("?".into(), untrusted),
            }),
            _ => Attempt::Fail(self.vendor_error(url, status, vendor)),
        }
    }

    pub(super) fn vendor_error(
        &self,
        url: &str,
        status: StatusCode,
        vendor: VendorError,
    ) -> ExtractError {
        ExtractError::Vendor {
            source_name: self.name.clone(),
            url: url.to_string(),
            status: status.as_u16(),
            vendor,
        }
    }

    /// Sends one request under the rate limiter and reads its body; `Err` is a retryable
    /// transport failure (connection refused or dropped, timeout, truncated body).
    pub(super) async fn exchange(&self, builder: RequestBuilder) -> Result<Reply, SendFailure> {
        self.wait_for_turn().await;
        self.send(builder).await
    }

    /// [`Session::exchange`] for a request that has had its turn already.
    async fn send(&self, builder: RequestBuilder) -> Result<Reply, SendFailure> {
        let started = self.start(builder).await?;
        self.read_body(started).await
    }

    /// Sends a request that has had its turn; the reply's status and headers, its body to come.
    async fn start(&self, builder: RequestBuilder) -> Result<Started, SendFailure> {
        self.progress.request();
        let mut response = builder
            .timeout(self.limits.timeout)
            .send()
            .await
            .map_err(SendFailure::transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let cap = self.limits.max_body_bytes;
        // A declared length is a claim, not a reason to allocate: refuse one over the cap at once,
        // and let the buffer grow with what really arrives.
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(SendFailure::over_cap(cap));
        }
        Ok(Started {
            status,
            headers,
            response,
        })
    }

    /// Reads a started reply's whole body, within the cap and the source's in-flight budget.
    pub(super) async fn read_body(&self, started: Started) -> Result<Reply, SendFailure> {
        let Started {
            status,
            headers,
            mut response,
        } = started;
        let cap = self.limits.max_body_bytes;
        let mut reservation = Reservation::new(&self.body_budget);
        let hint = self.body_hint.load(Relaxed);
        let mut body = reservation.spare_buffer();
        body.reserve(hint.clamp(MIN_BODY_CAPACITY, cap.max(MIN_BODY_CAPACITY)));
        // Chunks come decompressed, so the cap holds for what a gzip body expands to.
        while let Some(chunk) = response.chunk().await.map_err(SendFailure::transport)? {
            self.progress.received(chunk.len() as u64);
            let len = body.len() + chunk.len();
            if len > cap {
                return Err(SendFailure::over_cap(cap));
            }
            if !reservation.grow(len) {
                return Err(SendFailure::TooLarge(format!(
                    "the responses in flight together are larger than {cap} bytes; lower `concurrency`, or"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        // A little over the last length, so a page a few bytes longer still fits.
        self.body_hint.store(body.len() + body.len() / 16, Relaxed);
        Ok(Reply {
            status,
            headers,
            body,
            _budget: reservation,
        })
    }

    async fn wait_for_turn(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(at) if at > Instant::now() => tokio::time::sleep_until(at).await,
                _ => break,
            }
        }
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        self.pace.turn().await;
    }

    /// Waits for a request's turn and gives the token to send with it. Taken after the turn, not
    /// before: a token near its end could lapse while the request waits. A token fetched now
    /// used that turn, so the request waits for the next; if the token went stale meanwhile (a
    /// long pause after 429s), another is fetched, a few times at most. `true`: fetched now.
    async fn turn_with_token(&self) -> Result<(Token, bool), ExtractError> {
        let mut tries = 0;
        loop {
            tries += 1;
            self.wait_for_turn().await;
            let (token, fetched) = self.token().await?;
            if !fetched {
                return Ok((token, false));
            }
            self.wait_for_turn().await;
            if token.is_fresh() || tries == 3 {
                return Ok((token, true));
            }
        }
    }

    /// The current token, fetching one when there is none or it is about to expire; `true` when
    /// it was fetched now.
    async fn token(&self) -> Result<(Token, bool), ExtractError> {
        let auth = self.connector.auth();
        if !auth.renewable() {
            // A token given in the pipeline: nothing to fetch, cache or count.
            return self.fetch_token().await.map(|token| (token, false));
        }
        // Held across the fetch so that concurrent pages wait for one token, not one each.
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.is_fresh()) {
            return Ok((token.clone(), false));
        }
        let token = self.fetch_token().await?;
        self.progress.token_issued();
        *cached = Some(token.clone());
        Ok((token, true))
    }

    /// Drops the cached token if it is still the one a request was refused with (another
    /// request may have replaced it already).
    async fn forget_token(&self, used: &Token) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == used.value) {
            *cached = None;
        }
    }

    /// Obtains a token through the source's auth flow, retrying as the limits allow.
    async fn fetch_token(&self) -> Result<Token, ExtractError> {
        let auth = self.connector.auth();
        let url = auth.endpoint().map(redacted).unwrap_or_default();
        let mut budget = Budget::new(self, &url);
        let http = Http { session: self };
        loop {
            budget.attempt += 1;
            // The vendor issues the token during this try: the token's age is counted from here.
            let asked_at = Instant::now();
            match auth.obtain(&http).await {
                Ok(token) => return Ok(Token { asked_at, ..token }),
                Err(AuthFailure::Refused(detail)) => return Err(self.auth_error(&url, detail)),
                Err(AuthFailure::TooLarge(detail)) => return Err(self.too_large(&url, detail)),
                Err(AuthFailure::Redirected(location)) => {
                    return Err(ExtractError::Redirect {
                        source_name: self.name.clone(),
                        url,
                        location,
                    });
                }
                Err(AuthFailure::Retry {
                    reason,
                    after,
                    rate_limited,
                }) => budget.wait(&reason, after, rate_limited).await?,
            }
        }
    }

    fn too_large(&self, url: &str, detail: String) -> ExtractError {
        ExtractError::TooLarge {
            source_name: self.name.clone(),
            url: url.to_string(),
            detail,
        }
    }

    fn auth_error(&self, url: &str, detail: String) -> ExtractError {
        ExtractError::Auth {
            source_name: self.name.clone(),
            url: url.to_string(),
            detail,
        }
    }
}

/// Why a request got no reply to read.
/// A reply whose status and headers have come, its body not yet read.
pub(super) struct Started {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub response: reqwest::Response,
}

/// How [`Session::fetch`] reads a reply: whole, as a page ([`WholePage`]), or as it arrives.
pub(super) trait ReadReply {
    type Out;
    fn read<'s>(
        &'s mut self,
        session: &'s Session,
        index: u64,
        started: Started,
        url: &'s str,
    ) -> impl Future<Output = Attempt<Self::Out>> + Send + 's;
}

/// A page's reply read whole, then its records through the reader.
struct WholePage<'r, R> {
    reader: &'r R,
}

impl<R: RecordReader> ReadReply for WholePage<'_, R> {
    type Out = Page<R::Record>;

    async fn read(
        &mut self,
        session: &Session,
        index: u64,
        started: Started,
        url: &str,
    ) -> Attempt<Self::Out> {
        match session.read_body(started).await {
            Err(failure) => session.send_failed(failure, url),
            Ok(reply) => session.classify_page(index, reply, url, self.reader),
        }
    }
}

pub(super) enum SendFailure {
    /// The transport failed (refused, dropped, timed out, cut off): worth another try.
    Transport(String),
    /// The body is over the cap, or the bodies in flight together are: another try would only
    /// download it again.
    TooLarge(String),
}

impl SendFailure {
    pub(super) fn transport(e: reqwest::Error) -> SendFailure {
        SendFailure::Transport(describe(&e))
    }

    /// A body past the source's cap of `cap` bytes.
    pub(super) fn over_cap(cap: usize) -> SendFailure {
        SendFailure::TooLarge(format!("the response is larger than {cap} bytes"))
    }
}

/// The bytes a source may hold in response bodies at once, whatever its concurrency: a few
/// hostile pages expanding towards the cap together cannot multiply the memory it allows.
struct BodyBudget {
    used: AtomicUsize,
    limit: usize,
    /// Buffers of bodies already read, emptied, for the next bodies: a page's buffer is reused
    /// rather than freed and allocated again, which (a body's buffer being mapped on its own and
    /// handed back to the system when freed, see [`crate::allocator`]) would cost the kernel a
    /// page fault for every 4 KiB of every page.
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
}

/// The most emptied body buffers a source keeps for reuse, and the largest one it keeps: two
/// pages' worth (a page's buffer is wanted again as soon as the next request is answered), little
/// enough for five sources at once to stay within the memory bound; an unusually large body's
/// buffer goes back to the system.
const SPARE_BODIES: usize = 2;
const SPARE_BODY_BYTES: usize = 1024 * 1024;

/// One body's share of the budget, given back when the body is dropped.
pub(super) struct Reservation {
    budget: Arc<BodyBudget>,
    held: usize,
}

impl Reservation {
    fn new(budget: &Arc<BodyBudget>) -> Reservation {
        Reservation {
            budget: budget.clone(),
            held: 0,
        }
    }

    /// Grows the share to `bytes`; false (the share unchanged) when the budget has no room.
    fn grow(&mut self, bytes: usize) -> bool {
        let more = bytes.saturating_sub(self.held);
        let before = self.budget.used.fetch_add(more, Relaxed);
        if before + more > self.budget.limit {
            self.budget.used.fetch_sub(more, Relaxed);
            return false;
        }
        self.held += more;
        true
    }
}

impl Reservation {
    /// An emptied buffer of an earlier body, or a new one.
    fn spare_buffer(&self) -> Vec<u8> {
        let mut spare = self.budget.spare.lock().unwrap_or_else(|p| p.into_inner());
        spare.pop().unwrap_or_default()
    }

    /// Keeps a body's buffer for a later body, if there is room for it.
    pub(super) fn give_back(&self, mut body: Vec<u8>) {
        if body.capacity() == 0 || body.capacity() > SPARE_BODY_BYTES {
            return;
        }
        body.clear();
        let mut spare = self.budget.spare.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < SPARE_BODIES {
            spare.push(body);
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.held, Relaxed);
    }
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.held)
    }
}

/// The retry budget of one request: its attempts, its time, its backoff.
struct Budget<'a> {
    session: &'a Session,
    url: &'a str,
    attempt: u32,
    started: Instant,
    backoff: backon::ExponentialBackoff,
}

impl<'a> Budget<'a> {
    fn new(session: &'a Session, url: &'a str) -> Self {
        Budget {
            session,
            url,
            attempt: 0,
            started: Instant::now(),
            backoff: backoff(),
        }
    }

    /// Sleeps before the next attempt — `Retry-After` when the server gave one, else the
    /// backoff — or fails when the attempts or the time are spent.
    async fn wait(
        &mut self,
        reason: &str,
        after: Option<Duration>,
        rate_limited: bool,
    ) -> Result<(), ExtractError> {
        let session = self.session;
        let delay = after.unwrap_or_else(|| self.backoff.next().unwrap_or(Duration::from_secs(30)));
        let elapsed = self.started.elapsed();
        if self.attempt >= session.limits.max_attempts || elapsed + delay > session.limits.max_retry
        {
            return Err(ExtractError::RetriesExhausted {
                source_name: session.name.clone(),
                url: self.url.to_string(),
                attempts: self.attempt,
                seconds: elapsed.as_secs_f64(),
                last: reason.to_string(),
            });
        }
        if rate_limited {
            session.progress.rate_limited();
            session.pace.throttled();
            session.pause_until(Instant::now() + delay);
            warn!(source = %session.name, retry_after_s = delay.as_secs_f64(), "Rate limited; slowing down.");
        }
        session.progress.retried();
        debug!(source = %session.name, url = %self.url, attempt = self.attempt, delay_ms = delay.as_millis() as u64, reason = %reason, "Retrying.");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

pub(super) fn retry<T>(reason: String) -> Attempt<T> {
    Attempt::Retry {
        reason,
        after: None,
        rate_limited: false,
    }
}

/// Exponential backoff with full jitter: 250 ms doubling up to 30 s.
fn backoff() -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(30))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

/// `Retry-After` as seconds or an HTTP date, capped at 10 minutes.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = match value.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        Ok(_) => return None,
        Err(_) => {
            let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
            let now = jiff::Timestamp::now();
            Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.min(Duration::from_secs(600)))
}

/// A URL for logs and errors: no userinfo, no query (filters may be sensitive; secrets never go
/// in URLs, but a user-supplied base_url could carry credentials).
pub fn redacted(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// A transport error in one line, without the request (whose body may hold credentials).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the response body was cut off"
    } else if error.is_request() {
        "the request failed"
    } else {
        "transport error"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", untrusted(&detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_retry_after_in_both_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(5);
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&later)
            .unwrap();
        h.insert(RETRY_AFTER, date.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(5) && d >= Duration::from_secs(3),
            "{d:?}"
        );
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn bodies_in_flight_share_one_budget() {
        let budget = Arc::new(BodyBudget {
            used: AtomicUsize::new(0),
            limit: 100,
            spare: Default::default(),
        });
        let mut first = Reservation::new(&budget);
        let mut second = Reservation::new(&budget);
        assert!(first.grow(40) && first.grow(60));
        assert!(!second.grow(50), "60 + 50 is over 100");
        assert!(second.grow(40));
        drop(first);
        assert!(second.grow(90), "the first body's share came back");
        drop(second);
        assert_eq!(budget.used.load(Relaxed), 0);
    }

    #[test]
    fn a_body_buffer_is_reused_unless_too_large_or_too_many() {
        let budget = Arc::new(BodyBudget {
            used: AtomicUsize::new(0),
            limit: usize::MAX,
            spare: Default::default(),
        });
        let reservation = Reservation::new(&budget);
        assert_eq!(reservation.spare_buffer().capacity(), 0, "none kept yet");
        let mut body = Vec::with_capacity(200_000);
        body.extend_from_slice(b"{\"customers\": []}");
        let at = body.as_ptr();
        reservation.give_back(body);
        let reused = reservation.spare_buffer();
        assert!(reused.is_empty() && reused.capacity() >= 200_000);
        assert_eq!(reused.as_ptr(), at, "the same buffer");

        reservation.give_back(Vec::with_capacity(SPARE_BODY_BYTES + 1));
        assert_eq!(
            reservation.spare_buffer().capacity(),
            0,
            "too large to keep"
        );
        for _ in 0..SPARE_BODIES + 3 {
            reservation.give_back(Vec::with_capacity(1000));
        }
        let kept = std::iter::from_fn(|| Some(reservation.spare_buffer()))
            .take_while(|b| b.capacity() > 0)
            .count();
        assert_eq!(kept, SPARE_BODIES);
    }

    #[test]
    fn redacts_userinfo_and_query() {
        let url = url::Url::parse("https://user:pw@host/path?key=v").unwrap();
        assert_eq!(redacted(&url), "https://host/path");
    }
}
