//! The engine counts a page's body as it arrives, whatever the vendor: a tiny axum server on
//! 127.0.0.1 sends one page in two halves and holds the second back, and the source's counter
//! shows the first half while the page is still unread, then the whole body.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::routing::get;
use customer_export::extract::{self, SourceProgress, ValueReader};
use customer_export::sandbox::{SandboxConfig, expected_records};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

const RECORDS: u64 = 12;

/// One page holding every record, so that the body is the only response of the source.
fn page_body() -> Vec<u8> {
    let config = SandboxConfig {
        customers: RECORDS,
        ..SandboxConfig::default()
    };
    let data = expected_records("valomnia", &config, &[]).unwrap();
    let paging = json!({"total": RECORDS, "offset": 0, "max": 50, "next": null});
    serde_json::to_vec(&json!({"data": data, "paging": paging})).unwrap()
}

/// What the server sends and when it may send the rest.
struct Halves {
    first: Bytes,
    second: Bytes,
    release: Mutex<Option<oneshot::Receiver<()>>>,
}

/// The first half at once; the second once the test releases it.
async fn customers(State(halves): State<Arc<Halves>>) -> Body {
    let release = halves.release.lock().unwrap().take();
    let first = halves.first.clone();
    let second = halves.second.clone();
    let rest = async move {
        if let Some(release) = release {
            let _ = release.await;
        }
        Ok::<_, std::io::Error>(second)
    };
    Body::from_stream(stream::once(async move { Ok(first) }).chain(stream::once(rest)))
}

async fn serve(halves: Arc<Halves>) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/api/v1.0/customers", get(customers))
        .with_state(halves);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn a_page_moves_the_byte_counter_as_its_body_arrives() {
    let body = page_body();
    let (first, second) = body.split_at(body.len() / 2);
    let (release, released) = oneshot::channel();
    let addr = serve(Arc::new(Halves {
        first: Bytes::copy_from_slice(first),
        second: Bytes::copy_from_slice(second),
        release: Mutex::new(Some(released)),
    }))
    .await;
    let text = format!(
        "name: bytes\nsources:\n  - vendor: valomnia\n    base_url: http://{addr}\n    auth:\n      token: static-test-token\n    page_size: 50\n    max_attempts: 1\noutputs:\n  - format: ndjson\n    path: out/customers.ndjson\n"
    );
    let source = common::plan(&text, &[]).sources.remove(0);
    let progress = SourceProgress::new(&source.name, None);
    let session = common::session(&source, progress.clone());
    let reader = Arc::new(ValueReader {
        record_key: source.vendor.spec().record.key,
    });
    let (tx, mut rx) = mpsc::channel::<Vec<Value>>(4);
    let extraction = tokio::spawn(extract::extract(session, source.page_size, reader, tx));

    // Waits (only against a hang) until the first half is counted: the body is still open.
    let first_half = async {
        while progress.counts().bytes < first.len() as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), first_half)
        .await
        .expect("the first half of the body is counted before the second is sent");
    let counts = progress.counts();
    assert_eq!(counts.bytes, first.len() as u64);
    assert_eq!((counts.pages, counts.records), (0, 0), "the page is unread");

    release.send(()).unwrap();
    let extracted = extraction.await.unwrap().expect("the page is read");
    let mut records = 0;
    while let Some(batch) = rx.recv().await {
        records += batch.len() as u64;
    }
    assert_eq!(records, RECORDS);
    assert_eq!(extracted.counts.bytes, body.len() as u64);
    assert_eq!(progress.counts().bytes, body.len() as u64);
}
