//! The helpers for a first pipeline, through the binary: `completions SHELL`, `schema` (the JSON
//! Schema of pipeline files; a real validator checks it in CI, `.ci/check_schema.py`) and
//! `init VENDOR…` (a starter that `validate` accepts).

use std::path::Path;
use std::process::{Command, Output};

use customer_export::vendors;
use serde_json::Value;

fn customer_export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

mod completions {
    use super::*;

    #[test]
    fn bash_and_zsh_scripts_name_the_commands() {
        for shell in ["bash", "zsh"] {
            let out = customer_export(&["completions", shell]);
            assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
            let script = stdout(&out);
            assert!(script.len() > 1000, "{shell}: {script}");
            for command in ["run", "validate", "init", "schema"] {
                assert!(script.contains(command), "{shell} lacks {command}");
            }
        }
    }

    #[test]
    fn fish_powershell_and_elvish_are_produced_too() {
        for shell in ["fish", "powershell", "elvish"] {
            let out = customer_export(&["completions", shell]);
            assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
            assert!(stdout(&out).contains("validate"), "{shell}");
        }
    }

    #[test]
    fn an_unknown_shell_is_bad_usage_naming_the_allowed_ones() {
        let out = customer_export(&["completions", "tcsh"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("bash"), "{}", stderr(&out));
    }
}

mod schema {
    use super::*;

    fn schema() -> Value {
        let out = customer_export(&["schema"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).expect("the schema is JSON")
    }

    fn yaml(path: &Path) -> Value {
        let text = std::fs::read_to_string(path).unwrap();
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn keys(object: &Value) -> Vec<&str> {
        object.as_object().map_or(Vec::new(), |o| {
            o.keys().map(String::as_str).collect::<Vec<_>>()
        })
    }

    #[test]
    fn is_draft_2020_12_json_with_every_vendor() {
        let schema = schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["additionalProperties"], false);
        let enumerated = &schema["$defs"]["source"]["allOf"][0]["else"]["properties"]["vendor"];
        assert_eq!(enumerated["enum"], serde_json::json!(vendors::ids()));
        for id in vendors::ids() {
            let branch = &schema["$defs"][format!("source_{id}")];
            assert_eq!(branch["additionalProperties"], false, "{id}");
        }
    }

    /// A structural look at the shipped pipelines; the full validation is `.ci/check_schema.py`.
    #[test]
    fn every_key_of_the_shipped_pipelines_is_in_the_schema() {
        let schema = schema();
        let defs = &schema["$defs"];
        let formats = &defs["output"]["properties"]["format"]["anyOf"][0]["enum"];
        let files = ["demo.yaml", "nightly-example.yaml", "examples/pax8.yaml"];
        for file in files.map(|f| Path::new("pipelines").join(f)) {
            let pipeline = yaml(&Path::new(env!("CARGO_MANIFEST_DIR")).join(&file));
            let top = keys(&schema["properties"]);
            for key in keys(&pipeline) {
                assert!(top.contains(&key), "{}: {key}", file.display());
            }
            for source in pipeline["sources"].as_array().unwrap() {
                let branch = match source["vendor"].as_str() {
                    Some(id) if source.get("definition").is_none() => &defs[format!("source_{id}")],
                    _ => &defs["declared_source"],
                };
                let allowed = keys(&branch["properties"]);
                for key in keys(source) {
                    assert!(allowed.contains(&key), "{}: {key}", file.display());
                }
            }
            for output in pipeline["outputs"].as_array().unwrap() {
                let format = &output["format"];
                assert!(formats.as_array().unwrap().contains(format), "{format}");
            }
        }
    }
}

mod init {
    use super::*;

    fn init_validates(vendors: &[&str]) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipeline.yaml");
        let file_arg = file.to_str().unwrap();
        let mut args = vec!["init"];
        args.extend(vendors);
        args.extend(["--output", file_arg]);
        let out = customer_export(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let out = customer_export(&["validate", file_arg]);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{vendors:?}: {}\n{text}",
            stderr(&out)
        );
        // Unset variables are the only thing `validate` has to say.
        for line in stderr(&out).lines() {
            assert!(line.contains("is not set here"), "{line}");
        }
    }

    #[test]
    fn every_vendors_starter_validates() {
        for id in vendors::ids() {
            init_validates(&[id]);
        }
    }

    #[test]
    fn crayon_and_adobe_together_validate() {
        init_validates(&["crayon", "adobe_vipmp"]);
    }

    #[test]
    fn the_starter_goes_to_stdout_with_the_schema_modeline_and_placeholders() {
        let out = customer_export(&["init", "crayon", "adobe_vipmp"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.starts_with("# yaml-language-server: $schema=./pipeline.schema.json\n"),
            "{text}"
        );
        for expected in [
            "client_secret: ${CRAYON_CLIENT_SECRET}",
            "organizationId: ${CRAYON_ORGANIZATION_ID}",
            "reseller_id: ${ADOBE_VIPMP_RESELLER_ID}",
            "# token_url: ${ADOBE_VIPMP_TOKEN_URL}",
            "format: parquet",
            "all-vendors.csv",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
    }

    #[test]
    fn an_unknown_vendor_exits_2_naming_the_allowed_ones() {
        let out = customer_export(&["init", "crayon", "adobe"]);
        assert_eq!(out.status.code(), Some(2));
        let message = stderr(&out);
        assert!(message.contains("\"adobe\""), "{message}");
        assert!(message.contains(&vendors::ids().join(", ")), "{message}");
        assert!(stdout(&out).is_empty());
    }

    #[test]
    fn an_existing_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipeline.yaml");
        std::fs::write(&file, "mine\n").unwrap();
        let out = customer_export(&["init", "c3", "--output", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
    }
}
