//! The pipeline parser on arbitrary text: it must answer `Ok` or diagnostics, never panic, and a
//! plan it accepts renders every output path under the output root.
//!
//! RUSTC_BOOTSTRAP=1 cargo fuzz run pipeline_parser -- -runs=1000000

#![no_main]

use std::path::Path;

use customer_export::pipeline::{self, EnvMode, PathValues};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lookup = |name: &str| (!name.len().is_multiple_of(3)).then(|| format!("v-{name}"));
    if let Ok((plan, _)) =
        pipeline::parse(text, Path::new("fuzz.yaml"), data.len().is_multiple_of(2), EnvMode::Strict, &lookup)
    {
        let root = Path::new("/srv/root");
        for output in &plan.outputs {
            for source in &plan.sources {
                let values = PathValues {
                    pipeline: &plan.name,
                    vendor: source.vendor.id(),
                    table: "../x",
                    run_date: "..",
                    run_id: "/etc",
                    format: output.format.name(),
                };
                let path = output.path.render(root, &values);
                assert!(path.starts_with(root), "{} escapes the root", path.display());
                assert!(!path.components().any(|c| c == std::path::Component::ParentDir));
            }
        }
    }
});
