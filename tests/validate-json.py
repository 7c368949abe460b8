#!/usr/bin/env python3
"""Validate lbreconcile JSON output against contrib/schema/.

usage: validate-json.py SCHEMA_DIR NAME [FILE]
       validate-json.py SCHEMA_DIR --vocabulary

NAME is a schema file without ".json" (plan, drift, providers, ...).  The
input (FILE or stdin) is one JSON document; with NAME "event" it is JSON
lines, each validated as one event.  Prints one line per problem and exits
1 when there is any, 2 on a usage error, 0 when everything is valid.

--vocabulary checks SPEC §6's "one vocabulary" on the schemas themselves:
at the top of every document (every schema but the events and defs) a key
has one JSON type, whichever document it is in.
"""
import glob
import json
import os
import sys

import jsonschema


def load_schemas(schema_dir):
    schemas = {}
    for path in sorted(glob.glob(os.path.join(schema_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        jsonschema.Draft202012Validator.check_schema(s)
        name = os.path.basename(path)[: -len(".json")]
        schemas[name] = s
    return schemas


def validator_for(schemas, name):
    """A validator whose $refs resolve among the schema files (by $id)."""
    try:
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (s["$id"], Resource.from_contents(s)) for s in schemas.values())
        return jsonschema.Draft202012Validator(schemas[name], registry=registry)
    except ImportError:  # jsonschema < 4.18 (Debian 12 has 4.10)
        return jsonschema.Draft202012Validator(flatten(schemas, name))


def flatten(schemas, name):
    """One self-contained schema for old jsonschema releases, whose
    RefResolver cannot follow "urn:" ids nor keep a document's scope: every
    schema's $defs are copied into the root under "<id>/<def>", and every
    $ref (to another document or within one) points there."""
    import copy

    def key(doc_id, d):
        return doc_id.rsplit(":", 1)[-1] + "." + d

    def rewrite(node, doc_id):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    target, _, frag = v.partition("#")
                    target = target or doc_id
                    if frag.startswith("/$defs/"):
                        v = "#/$defs/" + key(target, frag[len("/$defs/"):])
                    elif frag in ("", "/") and target in ids:
                        v = "#/$defs/" + key(target, "")
                out[k] = rewrite(v, doc_id)
            return out
        if isinstance(node, list):
            return [rewrite(x, doc_id) for x in node]
        return node

    ids = {s["$id"] for s in schemas.values()}
    defs = {}
    for s in schemas.values():
        for d, body in s.get("$defs", {}).items():
            defs[key(s["$id"], d)] = rewrite(body, s["$id"])
        whole = {k: v for k, v in s.items() if k not in ("$defs", "$id", "$schema")}
        defs[key(s["$id"], "")] = rewrite(whole, s["$id"])
    root = copy.deepcopy(schemas[name])
    doc_id = root.pop("$id")
    root.pop("$defs", None)
    root = rewrite(root, doc_id)
    root["$defs"] = defs
    return root


def problems(v, doc, where):
    out = []
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in e.absolute_path)
        out.append("%s: /%s: %s" % (where, path, e.message))
    return out


def json_types(schemas, node, doc_id, seen=0):
    """The JSON types a (sub)schema allows, following $ref among files."""
    if seen > 20:
        return {"?"}
    if "$ref" in node:
        target, _, frag = node["$ref"].partition("#")
        doc = next(s for s in schemas.values() if s["$id"] == (target or doc_id))
        for part in [p for p in frag.split("/") if p]:
            doc = doc[part]
        return json_types(schemas, doc, target or doc_id, seen + 1)
    if "const" in node:
        c = node["const"]
        return {"boolean" if isinstance(c, bool) else "integer" if isinstance(c, int)
                else "string" if isinstance(c, str) else "null" if c is None
                else "object" if isinstance(c, dict) else "array"}
    t = node.get("type")
    if isinstance(t, list):
        return set(t) - {"null"}
    if t:
        return {t}
    out = set()
    for k in ("oneOf", "anyOf"):
        for sub in node.get(k, []):
            out |= json_types(schemas, sub, doc_id, seen + 1)
    return out - {"null"}


def vocabulary(schemas):
    seen, bad = {}, []
    for name, s in sorted(schemas.items()):
        if name == "defs" or name.startswith("event"):
            continue
        for key, sub in s.get("properties", {}).items():
            types = frozenset(json_types(schemas, sub, s["$id"]))
            seen.setdefault(key, {}).setdefault(types, []).append(name)
    for key, by_type in sorted(seen.items()):
        if len(by_type) > 1:
            bad.append("top-level key %r: %s" % (key, "; ".join(
                "%s in %s" % ("|".join(sorted(t)), ", ".join(n))
                for t, n in sorted(by_type.items(), key=lambda x: sorted(x[0])))))
    return bad


def main(argv):
    if len(argv) == 3 and argv[2] == "--vocabulary":
        bad = vocabulary(load_schemas(argv[1]))
        for b in bad:
            print(b)
        return 1 if bad else 0
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    schemas = load_schemas(argv[1])
    name = argv[2]
    if name not in schemas:
        sys.stderr.write("validate-json: no schema %r in %s\n" % (name, argv[1]))
        return 2
    v = validator_for(schemas, name)
    text = open(argv[3], encoding="utf-8").read() if len(argv) == 4 else sys.stdin.read()
    bad = []
    if name == "event":
        lines = [l for l in text.split("\n") if l.strip()]
        if not lines:
            bad.append("no events")
        for n, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
            except ValueError as e:
                bad.append("line %d: not JSON (%s)" % (n, e))
                continue
            # Report against the event's own schema: oneOf's messages say
            # little about which key is wrong.
            t = doc.get("type") if isinstance(doc, dict) else None
            sv = validator_for(schemas, "event-" + t) if "event-%s" % t in schemas else v
            bad += problems(sv, doc, "line %d (%s)" % (n, t))
    else:
        try:
            doc = json.loads(text)
        except ValueError as e:
            bad.append("not JSON (%s)" % e)
        else:
            bad += problems(v, doc, name)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
