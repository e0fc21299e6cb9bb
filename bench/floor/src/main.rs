//! `floor BASE_URL TOKEN TOTAL PAGE_SIZE CONCURRENCY`: fetches every page of
//! `{BASE_URL}/api/v1.0/customers?max=PAGE_SIZE&offset=…` with `CONCURRENCY` requests in flight,
//! reads each body to the end and discards it. No parsing, no writing: what any exporter must pay
//! at least. Prints `pages bytes seconds` on stdout.

use std::time::Instant;

use futures_util::{StreamExt, stream};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: floor BASE_URL TOKEN TOTAL PAGE_SIZE CONCURRENCY");
        std::process::exit(2);
    }
    let base = args[1].trim_end_matches('/').to_string();
    let token = args[2].clone();
    let total: u64 = args[3].parse().expect("TOTAL");
    let page_size: u64 = args[4].parse().expect("PAGE_SIZE");
    let concurrency: usize = args[5].parse().expect("CONCURRENCY");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .expect("client");
    let started = Instant::now();
    let pages = total.div_ceil(page_size).max(1);
    let mut fetched = stream::iter(0..pages)
        .map(|page| {
            let client = client.clone();
            let url = format!(
                "{base}/api/v1.0/customers?max={page_size}&offset={}",
                page * page_size
            );
            let token = token.clone();
            async move {
                let mut response = client
                    .get(url)
                    .bearer_auth(token)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .expect("request");
                assert!(response.status().is_success(), "{}", response.status());
                let mut bytes = 0u64;
                while let Some(chunk) = response.chunk().await.expect("body") {
                    bytes += chunk.len() as u64;
                }
                bytes
            }
        })
        .buffered(concurrency.max(1));
    let mut bytes = 0u64;
    while let Some(n) = fetched.next().await {
        bytes += n;
    }
    println!(
        "{pages} {bytes} {:.3}",
        started.elapsed().as_secs_f64()
    );
}
