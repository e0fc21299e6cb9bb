"""Checks `customer-export schema` with a real JSON Schema validator (jsonschema, draft 2020-12),
as an editor's yaml-language-server would use it: every shipped pipeline and every `init` starter
validates against it, and bad pipelines (an unknown key, a wrong format, …) are rejected.

    python .ci/check_schema.py ./target/debug/customer-export
"""
import json
import pathlib
import re
import subprocess
import sys

import jsonschema
import yaml

binary = sys.argv[1]
root = pathlib.Path(__file__).resolve().parent.parent


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1: `2025-01-01` becomes a date and `yes` a boolean. customer-export and
    yaml-language-server read YAML 1.2, where both are text; so do we."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(text):
    return yaml.load(text, Loader=Yaml12Loader)


def errors(document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def cli(*args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True, cwd=root).stdout


schema = json.loads(cli("schema"))
assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", schema.get("$schema")
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
vendors = schema["$defs"]["source"]["allOf"][0]["else"]["properties"]["vendor"]["enum"]
assert vendors, "the schema names no vendor"

# Every shipped pipeline, and the starter `init` writes for each vendor and for two together.
good = {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.glob("pipelines/**/*.yaml"))}
assert len(good) >= 4, good.keys()
for vendor in vendors:
    good[f"init {vendor}"] = cli("init", vendor)
good["init crayon adobe_vipmp"] = cli("init", "crayon", "adobe_vipmp")
demo_text = (root / "pipelines/demo.yaml").read_text(encoding="utf-8")
good["a sandbox with its data"] = demo_text.replace("sandbox: true", "sandbox: {customers: 5000, seed: 7, faults: 0.05}")
good["an output with its own transform, a path per vendor"] = demo_text.replace(
    "  fields: canonical",
    "  fields:\n    id: {crayon: Id, adobe_vipmp: customerId, path: customer_id}\n    name: customer_name",
).replace("customers.parquet", "customers.parquet\n    transform: {fields: all, arrays: json}")
failed = False
for name, text in good.items():
    for error in errors(load(text)):
        failed = True
        print(f"{name}: {'/'.join(map(str, error.absolute_path))}: {error.message}", file=sys.stderr)
assert not failed, "a shipped pipeline or a starter does not validate against the schema"

# Bad pipelines: each must be rejected.
demo = (root / "pipelines/demo.yaml").read_text(encoding="utf-8")
bad = {
    "an unknown top-level key": demo + "colour: blue\n",
    "an unknown format": demo.replace("format: ndjson", "format: xml"),
    "an unknown vendor": demo.replace("vendor: valomnia", "vendor: valomnia2"),
    "a key another vendor takes": demo.replace("vendor: c3", "vendor: c3\n    reseller_id: x"),
    "a misspelt common key": demo.replace("page_size: 500", "page_sise: 500"),
    "an unknown filter": demo.replace("organizationId: 4703", "organizationId: 4703\n      colour: blue"),
    "a filter of the wrong type": demo.replace("organizationId: 4703", "organizationId: many"),
    "a required filter missing": demo.replace("organizationId: 4703", "search: x"),
    "page_size for a vendor without paging": demo.replace("vendor: c3", "vendor: c3\n    page_size: 10"),
    "page_size above the vendor's maximum": demo.replace("page_size: 200", "page_size: 5000"),
    "a boolean that is not one": demo.replace("sandbox: true", "sandbox: maybe"),
    "csv options on a parquet output": demo.replace(
        "customers.parquet", "customers.parquet\n    csv: {bom: true}"
    ),
    "an unknown transform choice": demo.replace("arrays: explode", "arrays: flatten"),
    "no outputs": demo.split("outputs:")[0],
    "an unknown sandbox key": demo.replace("sandbox: true", "sandbox: {customer: 5}"),
    "a fault share over 1": demo.replace("sandbox: true", "sandbox: {faults: 2}"),
    "an unknown key in an output's transform": demo.replace(
        "customers.parquet", "customers.parquet\n    transform: {feilds: all}"
    ),
}
for what, text in bad.items():
    assert text != demo or what == "no outputs", f"{what}: the replacement did not apply"
    found = errors(load(text))
    assert found, f"{what}: accepted by the schema"
    print(f"rejected, {what}: {found[0].message[:100]}")

# ${VAR} stands for a number or a boolean, and only a whole ${VAR} does.
var = demo.replace("page_size: 200", "page_size: ${PAGE}").replace("sandbox: true", "sandbox: ${SANDBOX}")
assert not errors(load(var)), errors(load(var))
assert errors(load(demo.replace("page_size: 200", "page_size: x${PAGE}")))

print(f"the schema validates {len(good)} pipelines ({', '.join(good)}) and rejects {len(bad)} bad ones")
