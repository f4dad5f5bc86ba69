#!/usr/bin/env python3
"""Validates Kubernetes objects rendered by `helm template` offline, without an API server.

  check_rendered_objects.py --kube-version 1.37.0 --crd CRD.yaml... [--keda-scalers DIR] RENDERED.yaml...

- Built-in kinds: against the Kubernetes API schemas that the kubernetes-validate package ships,
  in strict mode (an unknown field is an error, as the API server's strict field validation).
- Custom resources (KEDA's ScaledObject and TriggerAuthentication, the Prometheus operator's
  ServiceMonitor): against the openAPIV3Schema of the served version in the CRD files given,
  with jsonschema; fields that the schema does not declare are errors too (unless the schema says
  x-kubernetes-preserve-unknown-fields), since the API server would drop them silently.
- KEDA triggers (--keda-scalers: pkg/scalers of KEDA's source): each trigger's metadata keys must
  be ones its scaler reads from trigger metadata (the `keda:"name=…"` struct tags), integer and
  boolean fields must parse, enum fields must hold one of their values. The CRD types the metadata
  as a map of strings, so without this a misspelt key (listlength) would be ignored.
Prints one line per object; exits 1 if any is invalid, 2 on bad usage.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml


def load_objects(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    yield path, doc


def close_objects(schema):
    """A copy of an OpenAPI v3 schema where objects reject undeclared properties."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # metadata is ObjectMeta (the API server's, not the CRD's): only an object here.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


def load_crds(paths):
    """{(apiVersion, kind): schema} for every served version of every CRD given."""
    crds = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
                for version in doc["spec"]["versions"]:
                    if version.get("served"):
                        schema = version["schema"]["openAPIV3Schema"]
                        crds[(f"{group}/{version['name']}", kind)] = close_objects(schema)
    return crds


TAG = re.compile(r'^\s*\w+\s+(\S+)\s+`keda:"([^"]*)"`', re.M)


def scaler_fields(source):
    """{metadata key: (go type, enum values or None)} of the trigger-metadata fields of a scaler."""
    fields = {}
    for go_type, tag in TAG.findall(source):
        parts = dict(p.strip().split("=", 1) for p in tag.split(",") if "=" in p)
        if "triggerMetadata" not in parts.get("order", ""):
            continue
        enum = parts["enum"].split(";") if "enum" in parts else None
        for name in parts["name"].split(";"):
            fields[name.strip()] = (go_type, enum)
    return fields


def check_trigger(trigger, scalers_dir):
    kind = trigger.get("type", "")
    source = Path(scalers_dir) / f"{kind.replace('-', '_')}_scaler.go"
    if not source.is_file():
        return [f"trigger type {kind!r}: no scaler source {source.name} in {scalers_dir}"]
    fields = scaler_fields(source.read_text(encoding="utf-8"))
    errors = []
    for key, value in (trigger.get("metadata") or {}).items():
        if key not in fields:
            errors.append(f"{kind} trigger: metadata key {key!r} is not one the scaler reads "
                          f"(known: {', '.join(sorted(fields))})")
            continue
        go_type, enum = fields[key]
        text = str(value)
        if go_type in ("int", "int64") and not re.fullmatch(r"-?[0-9]+", text):
            errors.append(f"{kind} trigger: {key}={text!r} is not an integer")
        elif go_type == "bool" and text.lower() not in ("true", "false"):
            errors.append(f"{kind} trigger: {key}={text!r} is not true or false")
        elif enum and text not in enum:
            errors.append(f"{kind} trigger: {key}={text!r} is not one of {enum}")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kube-version", required=True)
    parser.add_argument("--crd", action="append", default=[], help="CRD YAML file (repeatable)")
    parser.add_argument("--keda-scalers", help="pkg/scalers of KEDA's source")
    parser.add_argument("rendered", nargs="+")
    args = parser.parse_args()
    crds = load_crds(args.crd)
    bad = 0
    count = 0
    for path, obj in load_objects(args.rendered):
        count += 1
        api, kind = obj.get("apiVersion", "?"), obj.get("kind", "?")
        name = f"{Path(path).name}: {kind} {obj.get('metadata', {}).get('name', '?')} ({api})"
        errors = []
        if (api, kind) in crds:
            validator = jsonschema.Draft7Validator(crds[(api, kind)])
            errors = [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                      for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))]
            if kind in ("ScaledObject", "ScaledJob") and args.keda_scalers:
                for trigger in obj.get("spec", {}).get("triggers", []):
                    errors += check_trigger(trigger, args.keda_scalers)
        else:
            try:
                kubernetes_validate.validate(obj, args.kube_version, strict=True)
            except kubernetes_validate.ValidationError as e:  # a jsonschema.ValidationError (the first one)
                where = ".".join(map(str, e.absolute_path)) or "(root)"
                errors = [f"{where}: {e.message}"]
            except kubernetes_validate.SchemaNotFoundError:
                errors = [f"no schema for {kind} {api} in Kubernetes {args.kube_version} nor in the CRDs given"]
            except Exception as e:  # an unsupported version, an unreadable schema: say so, per object
                errors = [f"cannot validate: {type(e).__name__}: {e}"]
        if errors:
            bad += 1
            print(f"INVALID {name}")
            for e in errors:
                print(f"    {e}")
        else:
            print(f"ok      {name}")
    if count == 0:
        print("no objects rendered", file=sys.stderr)
        return 1
    print(f"{count - bad} of {count} objects valid (Kubernetes {args.kube_version} schemas, strict)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
