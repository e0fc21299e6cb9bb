//! One vendor, one place. Every vendor in the plugin registry, and every vendor declared in a
//! shipped `vendors/*.yaml`, has an emulation in the sandbox's registry (and the reverse), and no code of the crate outside `src/vendors/` and `src/sandbox/`
//! names a vendor: so adding a vendor is one file in each of those folders and one registry line
//! in each (README, "Adding a vendor"), and the shared tests — extract, faults, token expiry, the
//! soak, secrets, outputs — take it up because they iterate the registries.

mod common;

use std::path::{Path, PathBuf};

use customer_export::{sandbox, vendors};

#[test]
fn every_vendor_has_an_emulation_and_every_emulation_a_vendor() {
    // The built-in vendors first, in the same order; then the shipped definitions (vendors/).
    let builtin = vendors::ids();
    let emulated = sandbox::ids();
    assert_eq!(
        builtin,
        emulated[..builtin.len()],
        "one emulation per built-in vendor, in order"
    );
    let mut declared: Vec<&str> = common::shipped().iter().map(|(v, _)| v.id()).collect();
    let mut rest = emulated[builtin.len()..].to_vec();
    declared.sort_unstable();
    rest.sort_unstable();
    assert_eq!(
        declared, rest,
        "one emulation per shipped definition, and no other"
    );
}

#[test]
fn every_vendor_declares_what_its_emulation_accepts() {
    for (vendor, emulator) in common::vendors() {
        let spec = vendor.spec();
        let demo = emulator.demo();
        for (key, _) in demo.accepted.iter().chain(demo.settings) {
            let declared = match key.strip_prefix("auth.") {
                Some(name) => spec.auth_key(name).is_some(),
                None => spec.setting(key).is_some(),
            };
            assert!(
                declared,
                "{}: the emulation needs `{key}`, which the vendor does not take",
                spec.id
            );
        }
        for (filter, _) in demo.filters {
            assert!(
                spec.filter(filter).is_some(),
                "{}: filter {filter}",
                spec.id
            );
        }
    }
}

#[test]
fn no_code_outside_the_vendor_homes_names_a_vendor() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let homes = [src.join("vendors"), src.join("sandbox")];
    let mut found = Vec::new();
    for file in rust_files(&src) {
        if homes.iter().any(|home| file.starts_with(home)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may pick a vendor to test with; the code may not.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or_default();
            for id in vendors::ids() {
                let named = [format!("\"{id}\""), format!("::{id}"), format!("{id}::")]
                    .iter()
                    .any(|form| line.contains(form.as_str()));
                if named {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "vendors named outside their homes:\n{}",
        found.join("\n")
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
