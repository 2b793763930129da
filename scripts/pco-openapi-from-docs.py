#!/usr/bin/env python3
"""Drafts an OpenAPI 3.1 document for one Planning Center module from the structured API docs.

Planning Center does not publish OpenAPI for every module version we target, but its documented
API (../shared/reference/pco-api-docs/*.json) has every fact we need: attributes and types,
relationships, children (nested paths), CanInclude, CanOrderBy, CanQueryBy. This script turns the
resources named on the command line into a draft that a developer then reviews and commits under
specs/pco/openapi/. The committed YAML is the source of truth; this is only an import aid.

usage: [OPID_PREFIX=groups_] scripts/pco-openapi-from-docs.py DOCS.json MODULE RESOURCE... > specs/pco/openapi/MODULE.yaml
  OPID_PREFIX prefixes every operationId, for modules whose names would collide (two `list_events`).
  e.g. scripts/pco-openapi-from-docs.py ../shared/reference/pco-api-docs/people-2025-11-10.json \
         people person address email phone_number household campus
"""
import json
import os
import sys

TYPES = {
    "string": {"type": "string"},
    "System.DateTime": {"type": "string", "format": "date-time"},
    "System.DateOnly": {"type": "string", "format": "date"},
    "bool": {"type": "boolean"},
    "int": {"type": "integer", "format": "int64"},
    "decimal": {"type": "number"},
    "System.Text.Json.Nodes.JsonObject": {"type": "object"},
    "System.Text.Json.Nodes.JsonArray": {"type": "array", "items": {}},
}

# Values PCO documents in prose; kept as enums so the generator emits Rust enums.
ENUMS = {
    ("person", "status"): ["active", "inactive"],
}


def pascal(snake):
    return "".join(p.capitalize() for p in snake.split("_"))


def attr_schema(attr):
    base = dict(TYPES.get(attr["ClrType"], {"type": "object"}))
    desc = attr.get("Description") or ""
    if "does not provide a description" not in desc:
        base["description"] = desc
    return base


def nullable(schema, enum=None):
    s = dict(schema)
    if enum:
        s["enum"] = enum + [None]
    if "type" in s:
        s["type"] = [s["type"], "null"]
    return s


def main():
    docs_path, module, *names = sys.argv[1:]
    docs = json.load(open(docs_path))
    res = {r["JsonName"]: r for r in docs["Resources"]}
    by_type = {r["AttributesClrType"]: r for r in docs["Resources"]}
    org_children = {}
    for c in res["organization"]["Children"]:  # the first slug is the collection (`me` is not)
        org_children.setdefault(c["AttributesClrType"], c["Slug"])
    version = docs["Id"]
    schemas, paths = {}, {}
    wanted = {res[n]["AttributesClrType"] for n in names}

    for n in names:
        r = res[n]
        t = r["AttributesClrType"]
        attrs = {}
        for a in r["Attributes"]:
            attrs[a["JsonName"]] = nullable(attr_schema(a), ENUMS.get((n, a["JsonName"])))
        rels = {}
        for rel in r["Relationships"]:
            target = rel["AttributesClrType"]
            if target not in by_type:
                target = "Campus" if rel["JsonName"] == "primary_campus" else target
            rels[rel["JsonName"]] = (target, rel["IsCollection"])
        includes = [i["Value"] for i in r["CanInclude"]]
        for c in r["Children"]:
            # Side-loadable children become relationships when their type is described here too.
            if (c["JsonName"] in includes and c["JsonName"] not in rels
                    and c["AttributesClrType"] in wanted):
                rels[c["JsonName"]] = (c["AttributesClrType"], c["IsCollection"])
        rel_props = {}
        for name, (target, many) in rels.items():
            ident = {"$ref": f"#/components/schemas/{target}Identifier"}
            data = {"type": "array", "items": ident} if many else {"oneOf": [ident, {"type": "null"}]}
            rel_props[name] = {"type": "object", "properties": {"data": data}}
            schemas.setdefault(f"{target}Identifier", {
                "type": "object",
                "required": ["type", "id"],
                "properties": {"type": {"const": target}, "id": {"type": "string"}},
            })
        schemas[t] = {
            "type": "object",
            "description": r["Description"],
            "required": ["type", "id", "attributes"],
            "properties": {
                "type": {"const": t},
                "id": {"type": "string"},
                "attributes": {"type": "object", "properties": attrs},
                "relationships": {"type": "object", "properties": rel_props},
            },
        }
        params = []
        if includes:
            params.append({"name": "include", "in": "query", "style": "form", "explode": False,
                           "schema": {"type": "array", "items": {"enum": includes}}})
        orders = [o["Value"] for o in r["CanOrderBy"]]
        if orders:
            params.append({"name": "order", "in": "query",
                           "schema": {"enum": orders + ["-" + o for o in orders]}})
        for q in r["CanQueryBy"]:
            params.append({"name": q["Parameter"], "in": "query",
                           "schema": dict(TYPES.get(q["ClrType"], {"type": "string"}))})
        params += [{"$ref": "#/components/parameters/per_page"}, {"$ref": "#/components/parameters/offset"}]
        list_doc = {"$ref": f"#/components/responses/{t}List"}
        one_doc = {"$ref": f"#/components/responses/{t}One"}
        plural = org_children.get(t)
        if plural:
            paths[f"/{module}/v2/{plural}"] = {"get": {
                "operationId": f"list_{plural}", "summary": f"List {plural}.",
                "parameters": params, "responses": {"200": list_doc}}}
            paths[f"/{module}/v2/{plural}/{{id}}"] = {"get": {
                "operationId": f"get_{n}", "summary": f"Get one {n}.",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
                + ([params[0]] if includes else []),
                "responses": {"200": one_doc}}}
        # Nested lists under parents that are in this document.
        for pn in names:
            p = res[pn]
            pplural = org_children.get(p["AttributesClrType"])
            for c in p["Children"]:
                to_one = {x["JsonName"] for x in p["Relationships"] if not x["IsCollection"]}
                if (c["AttributesClrType"] == t and c["IsCollection"] and pplural and pn != n
                        and c["JsonName"] not in to_one):
                    paths[f"/{module}/v2/{pplural}/{{{pn}_id}}/{c['Slug']}"] = {"get": {
                        "operationId": f"list_{pn}_{c['Slug']}", "summary": f"List a {pn}'s {c['Slug']}.",
                        "parameters": [{"name": f"{pn}_id", "in": "path", "required": True,
                                        "schema": {"type": "string"}}] + params,
                        "responses": {"200": list_doc}}}
        schemas[f"{t}ListDocument"] = {"type": "object", "required": ["data"], "properties": {
            "links": {"$ref": "#/components/schemas/Links"},
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{t}"}},
            "included": {"type": "array", "items": {"type": "object"}},
            "meta": {"$ref": "#/components/schemas/Meta"}}}
        schemas[f"{t}Document"] = {"type": "object", "required": ["data"], "properties": {
            "links": {"$ref": "#/components/schemas/Links"},
            "data": {"$ref": f"#/components/schemas/{t}"},
            "included": {"type": "array", "items": {"type": "object"}},
            "meta": {"$ref": "#/components/schemas/Meta"}}}
    schemas["Links"] = {"type": "object", "additionalProperties": {"type": ["string", "null"]}}
    schemas["Meta"] = {"type": "object", "properties": {
        "total_count": {"type": "integer"}, "count": {"type": "integer"},
        "next": {"type": "object", "properties": {"offset": {"type": "integer"}}},
        "prev": {"type": "object", "properties": {"offset": {"type": "integer"}}}}}
    responses = {}
    for n in names:
        t = res[n]["AttributesClrType"]
        for kind, sch in (("List", f"{t}ListDocument"), ("One", f"{t}Document")):
            responses[f"{t}{kind}"] = {"description": f"A JSON:API document of {t}.", "content": {
                "application/vnd.api+json": {"schema": {"$ref": f"#/components/schemas/{sch}"}}}}
    prefix = os.environ.get("OPID_PREFIX", "")
    for item in paths.values():
        item["get"]["operationId"] = prefix + item["get"]["operationId"]
    doc = {
        "openapi": "3.1.0",
        "info": {"title": f"Planning Center {module.capitalize()}", "version": version},
        "servers": [{"url": "https://api.planningcenteronline.com"}],
        "paths": paths,
        "components": {
            "parameters": {
                "per_page": {"name": "per_page", "in": "query",
                             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            },
            "responses": responses,
            "schemas": schemas,
        },
    }
    try:
        import yaml

        class NoAliases(yaml.SafeDumper):
            def ignore_aliases(self, data):
                return True

        print(yaml.dump(doc, Dumper=NoAliases, sort_keys=False, width=100), end="")
    except ImportError:
        print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
