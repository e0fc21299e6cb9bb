//! `run --env-file`: `${VAR}`s from a dotenv file, the environment winning over it, and a file
//! that cannot be read is a usage error.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_customer-export");

const PIPELINE: &str = "name: ${CE_ENV_FILE_NAME}\nsandbox: true\nsources:\n  - vendor: valomnia\noutputs:\n  - format: csv\n    path: out/{pipeline}.csv\n";

#[test]
fn variables_come_from_the_env_file_unless_the_environment_sets_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), PIPELINE).unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# a comment\nCE_ENV_FILE_NAME=from-the-file\n",
    )
    .unwrap();
    let run = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["run", "p.yaml", "--dry-run", "--env-file", ".env"])
            .current_dir(dir.path())
            .env_remove("CE_ENV_FILE_NAME");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pipeline \"from-the-file\""), "{stdout}");

    let out = run(&[("CE_ENV_FILE_NAME", "from-the-environment")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("pipeline \"from-the-environment\""),
        "{stdout}"
    );
}

#[test]
fn an_env_file_that_cannot_be_read_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), PIPELINE).unwrap();
    let out = Command::new(BIN)
        .args(["run", "p.yaml", "--dry-run", "--env-file", "missing.env"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--env-file missing.env"), "{stderr}");
}
