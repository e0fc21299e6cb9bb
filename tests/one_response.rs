//! C3's list comes whole in one response; it is read as it arrives. A tiny axum server on
//! 127.0.0.1 plays C3: its records reach the run while the body is still being sent (the second
//! half held back), and a body broken off half-way, after records were handed on, is fetched
//! again with every customer coming out once, in order — or, when the list changed in between,
//! fails the source rather than lose or repeat a customer.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::routing::get;
use customer_export::extract::{self, ExtractError, Extracted, SourceProgress, ValueReader};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// More than the batches the list is handed on in (1,000 records), several times over.
const RECORDS: usize = 5000;

fn body() -> Bytes {
    list(0..RECORDS)
}

/// The list of customers `ids` in C3's envelope.
fn list(ids: std::ops::Range<usize>) -> Bytes {
    let data: Vec<Value> = ids
        .map(|i| json!({"Id": format!("c{i:05}"), "Name": format!("Customer {i}"), "Zip": "06000"}))
        .collect();
    let envelope =
        json!({"OperationType": null, "Status": "Success", "Data": data, "ErrorMessage": null});
    Bytes::from(serde_json::to_vec(&envelope).unwrap())
}

/// What the server does with each request, in turn.
enum Reply {
    /// The first half, then the rest once released.
    Held(oneshot::Receiver<()>),
    /// The first half, then the connection broken once released.
    Broken(oneshot::Receiver<()>),
    Whole,
    /// Another body, whole.
    Other(Bytes),
}

struct Server {
    body: Bytes,
    replies: Mutex<Vec<Reply>>,
    served: AtomicUsize,
}

async fn customers(State(server): State<Arc<Server>>) -> Body {
    server.served.fetch_add(1, Ordering::SeqCst);
    let reply = {
        let mut replies = server.replies.lock().unwrap();
        if replies.is_empty() {
            Reply::Whole
        } else {
            replies.remove(0)
        }
    };
    let half = server.body.len() / 2;
    let (first, second) = (server.body.slice(..half), server.body.slice(half..));
    let first = stream::once(async move { Ok::<_, std::io::Error>(first) });
    match reply {
        Reply::Whole => Body::from(server.body.clone()),
        Reply::Other(body) => Body::from(body),
        Reply::Held(release) => Body::from_stream(first.chain(stream::once(async move {
            let _ = release.await;
            Ok(second)
        }))),
        Reply::Broken(release) => Body::from_stream(first.chain(stream::once(async move {
            let _ = release.await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "broken off half-way",
            ))
        }))),
    }
}

/// Serves `replies` (then whole bodies); extracts the C3 source from it: the records as they
/// arrive (each batch handed to `on_batch`), the extraction's end, and how many lists were served.
async fn extract_from(
    replies: Vec<Reply>,
    on_batch: impl Fn(usize) + Send + 'static,
) -> (Vec<Value>, Result<Extracted, ExtractError>, usize) {
    let server = Arc::new(Server {
        body: body(),
        replies: Mutex::new(replies),
        served: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/api/activecustomers/v5", get(customers))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let text = format!(
        "name: c3\nsources:\n  - vendor: c3\n    base_url: http://{addr}\n    auth:\n      token: static-test-token\n    max_attempts: 3\noutputs:\n  - format: ndjson\n    path: out/customers.ndjson\n"
    );
    let source = common::plan(&text, &[]).sources.remove(0);
    let progress = SourceProgress::new(&source.name, None);
    let session = common::session(&source, progress);
    let reader = Arc::new(ValueReader { record_key: "Id" });
    let (tx, mut rx) = mpsc::channel::<Vec<Value>>(4);
    let extraction = tokio::spawn(extract::extract(session, source.page_size, reader, tx));
    let mut records = Vec::new();
    while let Some(batch) = rx.recv().await {
        records.extend(batch);
        on_batch(records.len());
    }
    let extracted = extraction.await.unwrap();
    (records, extracted, server.served.load(Ordering::SeqCst))
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

fn all_ids() -> Vec<String> {
    (0..RECORDS).map(|i| format!("c{i:05}")).collect()
}

/// Sends `()` on the first call only.
fn once(release: oneshot::Sender<()>) -> impl Fn(usize) + Send + 'static {
    let release = Mutex::new(Some(release));
    move |_records| {
        if let Some(release) = release.lock().unwrap().take() {
            let _ = release.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_reach_the_run_while_the_body_is_still_sent() {
    // The second half is released only once records of the first have reached the run: were
    // the body read whole first, the extraction would wait for ever (the timeout below says so).
    let (release, released) = oneshot::channel();
    let run = extract_from(vec![Reply::Held(released)], once(release));
    let (records, extracted, served) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("records of the first half reach the run before the second half is sent");
    extracted.expect("the list is read");
    assert!(ids(&records) == all_ids(), "{} records", records.len());
    assert_eq!(served, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_broken_half_way_is_fetched_again_without_repeats() {
    // The body breaks once records of its first half have reached the run.
    let (release, released) = oneshot::channel();
    let run = extract_from(vec![Reply::Broken(released)], once(release));
    let (records, extracted, served) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the extraction ends");
    let extracted = extracted.expect("the list is read on the second try");
    assert_eq!(served, 2, "fetched again");
    let got = ids(&records);
    assert!(
        got == all_ids(),
        "every customer once, in order: {} records, {} distinct",
        got.len(),
        got.iter().collect::<std::collections::HashSet<_>>().len()
    );
    assert_eq!(extracted.counts.records, RECORDS as u64);
    assert!(
        extracted.counts.duplicates > 0,
        "records of the broken body were handed on before it broke: {:?}",
        extracted.counts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_changed_before_it_is_read_again_fails_the_source() {
    // The body breaks once records have reached the run; the list read again has lost its
    // first customer, so its first records are not the ones handed on already: passing over as
    // many would drop a customer never handed on.
    let (release, released) = oneshot::channel();
    let replies = vec![Reply::Broken(released), Reply::Other(list(1..RECORDS))];
    let run = extract_from(replies, once(release));
    let (records, extracted, served) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the extraction ends");
    assert_eq!(served, 2, "fetched again");
    let error = extracted
        .expect_err("a changed list fails the source")
        .to_string();
    assert!(error.contains("the list changed"), "{error}");
    let got = ids(&records);
    let distinct = got.iter().collect::<std::collections::HashSet<_>>().len();
    assert_eq!(distinct, got.len(), "no customer handed on twice");
}
