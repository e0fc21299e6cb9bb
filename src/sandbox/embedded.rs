//! `run --sandbox` (or `sandbox: true`): the sandbox started in-process on a loopback port, with
//! every source of a plan pointed at it. The per-vendor credential mapping lives here, beside the
//! vendor emulations, so that the run itself knows nothing vendor-specific.

use tracing::info;

use super::{Sandbox, SandboxConfig};
use crate::pipeline::Plan;

/// Starts the embedded sandbox and points every source at it. Credentials the pipeline gives are
/// the ones the sandbox accepts; the sandbox's demo credentials fill in the rest.
pub async fn start_for(plan: &mut Plan) -> std::io::Result<Sandbox> {
    let mut config = SandboxConfig::default();
    let creds = &mut config.credentials;
    for source in &plan.sources {
        let a = &source.auth;
        match source.vendor.id {
            "c3" => {
                take(&mut creds.c3.tenant_id, &a.tenant_id);
                take(&mut creds.c3.client_id, &a.client_id);
                take(&mut creds.c3.client_secret, &a.client_secret);
                take(&mut creds.c3.resource, &a.resource);
            }
            "crayon" => {
                take(&mut creds.crayon.client_id, &a.client_id);
                take(&mut creds.crayon.client_secret, &a.client_secret);
                take(&mut creds.crayon.username, &a.username);
                take(&mut creds.crayon.password, &a.password);
            }
            "valomnia" => {
                take(&mut creds.valomnia.username, &a.username);
                take(&mut creds.valomnia.password, &a.password);
                take(&mut creds.valomnia.static_token, &a.token);
            }
            "appxite" => {
                take(&mut creds.appxite.client_id, &a.client_id);
                take(&mut creds.appxite.client_secret, &a.client_secret);
                take(&mut creds.appxite.subscription_key, &a.subscription_key);
            }
            "adobe_vipmp" => {
                take(&mut creds.adobe_vipmp.client_id, &a.client_id);
                take(&mut creds.adobe_vipmp.client_secret, &a.client_secret);
                take(&mut creds.adobe_vipmp.reseller_id, &source.reseller_id);
            }
            _ => {}
        }
    }
    let sandbox = Sandbox::start(config).await?;
    let creds = sandbox.config().credentials.clone();
    let url = |text: String| url::Url::parse(&text).ok();
    for source in &mut plan.sources {
        let id = source.vendor.id;
        source.base_url = url(sandbox.base_url(id));
        source.auth.token_url = sandbox.token_url(id).and_then(url);
        source.allow_insecure_http = true;
        let a = &mut source.auth;
        match id {
            "c3" if a.token.is_none() => {
                a.tenant_id = Some(creds.c3.tenant_id.clone());
                a.client_id = Some(creds.c3.client_id.clone());
                a.client_secret = Some(creds.c3.client_secret.clone());
                a.resource = Some(creds.c3.resource.clone());
            }
            "crayon" => {
                a.client_id = Some(creds.crayon.client_id.clone());
                a.client_secret = Some(creds.crayon.client_secret.clone());
                a.username = Some(creds.crayon.username.clone());
                a.password = Some(creds.crayon.password.clone());
            }
            "valomnia" if a.token.is_none() => {
                a.username = Some(creds.valomnia.username.clone());
                a.password = Some(creds.valomnia.password.clone());
            }
            "appxite" => {
                a.client_id = Some(creds.appxite.client_id.clone());
                a.client_secret = Some(creds.appxite.client_secret.clone());
                a.subscription_key = Some(creds.appxite.subscription_key.clone());
                if source.organization_ids.is_empty() {
                    source.organization_ids = vec![super::appxite::DISTRIBUTOR_ID.into()];
                }
                source
                    .referer
                    .get_or_insert_with(|| "https://sandbox.customer-export.local".into());
            }
            "adobe_vipmp" => {
                a.client_id = Some(creds.adobe_vipmp.client_id.clone());
                a.client_secret = Some(creds.adobe_vipmp.client_secret.clone());
                source
                    .reseller_id
                    .get_or_insert_with(|| creds.adobe_vipmp.reseller_id.clone());
            }
            _ => {}
        }
    }
    info!(addr = %sandbox.addr(), "Sandbox started; every source runs against it.");
    Ok(sandbox)
}

/// Overwrites a sandbox default with the pipeline's value, when it gives one.
fn take<T: Clone>(slot: &mut T, given: &Option<T>) {
    if let Some(value) = given {
        *slot = value.clone();
    }
}
