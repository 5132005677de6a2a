#!/usr/bin/env python3
"""Generates Sources/KubeModel/Generated/ProtobufSchemaData.swift: the protobuf message layout of
the Kubernetes types we serve, so KubeProtobuf can decode kubectl's protobuf request bodies.

Source: the `generated.proto` files (and, for three facts the .proto files do not carry, the Go
struct tags next to them) of
    github.com/kubernetes/api           tag v0.33.0   (k8s.io/api, Kubernetes v1.33.0)
    github.com/kubernetes/apimachinery  tag v0.33.0   (k8s.io/apimachinery)
Nothing is copied but structure: message names, field numbers, names, labels and types.

From the Go struct tags (`json:"..." protobuf:"..."`) we take, per field number:
  - the JSON name when it differs from the proto name,
  - `inline`: the field's message is merged into its parent in JSON (Volume.volumeSource, ...),
  - `ptr`: the Go field is a pointer, so a zero value on the wire is meaningful (replicas: 0).
    Non-pointer fields are always written by the Go marshaller, zero or not; we drop their zero
    values, as decoding into Go structs makes them indistinguishable from "unset".
and which messages are Go slice types (`type Verbs []string`): they decode to JSON arrays.

Run (checkouts are NOT committed; any scratch directory works):
    mkdir -p /tmp/k8sproto/api /tmp/k8sproto/apimachinery
    git -C <kubernetes/api clone> archive v0.33.0 | tar -x -C /tmp/k8sproto/api
    git -C <kubernetes/apimachinery clone> archive v0.33.0 | tar -x -C /tmp/k8sproto/apimachinery
    python3 scripts/gen-protobuf-schema.py /tmp/k8sproto
"""
import json, os, re, sys

# Proto package -> apiVersion it is served as ("" for the shared apimachinery packages).
PACKAGES = {
    "k8s.io.api.core.v1": "v1",
    "k8s.io.api.apps.v1": "apps/v1",
    "k8s.io.api.autoscaling.v1": "autoscaling/v1",
    "k8s.io.api.autoscaling.v2": "autoscaling/v2",
    "k8s.io.api.networking.v1": "networking.k8s.io/v1",
    "k8s.io.api.coordination.v1": "coordination.k8s.io/v1",
    "k8s.io.api.discovery.v1": "discovery.k8s.io/v1",
    "k8s.io.api.policy.v1": "policy/v1",
    "k8s.io.api.authentication.v1": "authentication.k8s.io/v1",
    "k8s.io.api.rbac.v1": "rbac.authorization.k8s.io/v1",
    "k8s.io.api.authorization.v1": "authorization.k8s.io/v1",
    "k8s.io.api.certificates.v1": "certificates.k8s.io/v1",
    "k8s.io.api.batch.v1": "batch/v1",
    "k8s.io.api.scheduling.v1": "scheduling.k8s.io/v1",
    "k8s.io.api.storage.v1": "storage.k8s.io/v1",
    "k8s.io.api.admissionregistration.v1": "admissionregistration.k8s.io/v1",
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta.k8s.io/v1",
    "k8s.io.apimachinery.pkg.api.resource": "",
    "k8s.io.apimachinery.pkg.util.intstr": "",
    "k8s.io.apimachinery.pkg.runtime": "",
}
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"}

FIELD = re.compile(r"^(optional|repeated|required)\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP = re.compile(r"^map<\s*(\S+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return [re.sub(r"//.*", "", l).strip() for l in text.splitlines()]


def parse_proto(path):
    """Returns (package, go_package, {message: [(label, type, name, number, map_kv)]})."""
    package, go_package, messages, current, depth = None, None, {}, None, 0
    for line in strip_comments(open(path).read()):
        if not line:
            continue
        if m := re.match(r"^package\s+([\w.]+)\s*;", line):
            package = m.group(1)
        elif m := re.match(r'^option\s+go_package\s*=\s*"([^"]+)"', line):
            go_package = m.group(1)
        elif m := re.match(r"^message\s+(\w+)\s*\{(\s*\})?", line):
            if current is not None:
                sys.exit(f"{path}: nested message {m.group(1)} not supported")
            current = m.group(1)
            messages[current] = []
            if not m.group(2):
                depth = 1
        elif current is not None and line == "}":
            current, depth = None, 0
        elif current is not None and (m := MAP.match(line)):
            messages[current].append(("repeated", "map", m.group(3), int(m.group(4)), (m.group(1), m.group(2))))
        elif current is not None and (m := FIELD.match(line)):
            messages[current].append((m.group(1), m.group(2), m.group(3), int(m.group(4)), None))
        elif current is not None:
            sys.exit(f"{path}: cannot parse line in message {current}: {line}")
    return package, go_package, messages


def resolve(t, package, known):
    if t in SCALARS:
        return t
    full = t[1:] if t.startswith(".") else f"{package}.{t}"
    if full not in known:
        sys.exit(f"unresolved type {t} in {package}")
    return full


STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*\{")
SLICE = re.compile(r"^type\s+(\w+)\s+\[\](\w+)\s*$")
GOFIELD = re.compile(r"^\s*(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")


def go_facts(go_dir):
    """Per struct: {field number: {json, inline, ptr}}; plus the names of Go slice types."""
    structs, slices = {}, set()
    if not os.path.isdir(go_dir):
        sys.exit(f"missing Go sources {go_dir}")
    for fn in sorted(os.listdir(go_dir)):
        if not fn.endswith(".go") or fn.endswith("_test.go") or fn.startswith("zz_generated") or fn.endswith(".pb.go"):
            continue
        current = None
        for line in open(os.path.join(go_dir, fn)):
            if current is None:
                if (m := STRUCT.match(line)) and not line.rstrip().endswith("}"):  # not `struct{}`
                    current = structs.setdefault(m.group(1), {})
                elif m := SLICE.match(line):
                    slices.add(m.group(1))
                continue
            if line.startswith("}"):
                current = None
                continue
            m = GOFIELD.match(line)
            if not m or line.lstrip().startswith("//"):
                continue
            gotype, tag = m.group(2), m.group(3)
            pb = re.search(r'protobuf:"([^"]*)"', tag)
            if not pb or pb.group(1) == "-":
                continue
            parts = pb.group(1).split(",")
            js = re.search(r'json:"([^"]*)"', tag)
            jparts = js.group(1).split(",") if js else [""]
            current[int(parts[1])] = {"json": jparts[0], "inline": "inline" in jparts[1:], "ptr": gotype.startswith("*")}
    return structs, slices


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/k8sproto"
    parsed = []
    for dirpath, _, files in os.walk(root):
        if "generated.proto" in files:
            pkg, gopkg, msgs = parse_proto(os.path.join(dirpath, "generated.proto"))
            if pkg in PACKAGES:
                parsed.append((pkg, gopkg, msgs))
    if {p for p, _, _ in parsed} != set(PACKAGES):
        sys.exit(f"missing packages: {set(PACKAGES) - {p for p, _, _ in parsed}}")
    known = {f"{pkg}.{name}" for pkg, _, msgs in parsed for name in msgs}
    out, renamed = {}, 0
    for pkg, gopkg, msgs in sorted(parsed):
        # k8s.io/api/apps/v1 -> <root>/api/apps/v1
        rel = gopkg.removeprefix("k8s.io/")
        structs, slices = go_facts(os.path.join(root, rel))
        for name, fields in sorted(msgs.items()):
            facts = structs.get(name, {})
            if fields and name not in structs:
                print(f"  note: no Go struct for {pkg}.{name}")
            entry = {}
            for label, t, fname, num, kv in fields:
                f = {"n": fname}
                go = facts.get(num)
                if go and go["json"] not in ("", "-") and go["json"] != fname:
                    f["n"] = go["json"]
                    renamed += 1
                    print(f"  {pkg}.{name}.{fname} is {go['json']} in JSON")
                if label == "repeated" and kv is None:
                    f["r"] = 1
                if kv is not None:
                    f["k"] = resolve(kv[0], pkg, known)
                    f["v"] = resolve(kv[1], pkg, known)
                else:
                    f["t"] = resolve(t, pkg, known)
                if go and go["inline"]:
                    f["i"] = 1
                if go and go["ptr"]:
                    f["p"] = 1
                entry[str(num)] = f
            msg = {"f": entry}
            if name in slices:
                msg["a"] = 1  # a Go slice type: JSON is the array of its `items`
            out[f"{pkg}.{name}"] = msg
    versions = {v: p for p, v in PACKAGES.items() if v}
    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.join(here, "..", "Sources", "KubeModel", "Generated", "ProtobufSchemaData.swift")
    with open(dest, "w") as fh:
        fh.write("// Generated by scripts/gen-protobuf-schema.py from the generated.proto files of\n")
        fh.write("// kubernetes/api and kubernetes/apimachinery at tag v0.33.0. Do not edit.\n")
        fh.write("// Structural facts only. Message: {\"f\": {number: field}, \"a\": 1 if a Go slice type}.\n")
        fh.write("// Field: n JSON name, t type, r repeated, k/v map key/value types, i inline, p Go pointer.\n\n")
        fh.write("enum ProtobufSchemaData {\n    static let json = #\"\"\"\n{\n")
        fh.write('"versions":' + json.dumps(versions, separators=(",", ":"), sort_keys=True) + ",\n")
        fh.write('"messages":{\n')
        lines = [json.dumps({n: out[n]}, separators=(",", ":"), sort_keys=True)[1:-1] for n in sorted(out)]
        fh.write(",\n".join(lines) + "\n}\n}\n")
        fh.write("\"\"\"#\n}\n")
    print(f"wrote {dest}: {len(out)} messages, {renamed} JSON renames")


main()
