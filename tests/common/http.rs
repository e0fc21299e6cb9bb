//! Plain HTTP helpers for the tests that talk to the sandbox as any client would (no connector
//! code): a client that follows no redirect, and a `send` that retries what a client retries.
//! Included with `#[path = "common/http.rs"] mod http;`.

#![allow(dead_code)]

use std::future::Future;

use customer_export::sandbox::SandboxConfig;
use reqwest::{Client, StatusCode};
use serde_json::Value;

pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

pub fn config(customers: u64) -> SandboxConfig {
    SandboxConfig {
        customers,
        ..SandboxConfig::default()
    }
}

pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Sends a request up to `attempts` times, retrying on transport or body errors, 429 and 5xx.
pub async fn send<F, Fut>(
    attempts: u32,
    mut request: F,
) -> (StatusCode, Value, reqwest::header::HeaderMap)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::Response, reqwest::Error>>,
{
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        let response = match request().await {
            Ok(r) => r,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        if retryable && attempt < attempts {
            last_error = format!("HTTP {status}");
            continue;
        }
        let parsed = if body.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_slice::<Value>(&body)
        };
        let Ok(value) = parsed else {
            last_error = format!("HTTP {status}: body is not JSON");
            continue;
        };
        return (status, value, headers);
    }
    panic!("request failed after {attempts} attempts: {last_error}");
}
