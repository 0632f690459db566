// Checks docs/openapi.yaml, for tests/integration/test_openapi.py:
//   node openapi-check.mjs SPEC API_MD ANSWERS.json
// 1. @redocly/cli lints the spec (recommended rules, redocly.yaml here);
// 2. every route that docs/api.md names (METHOD /path) is an operation of the spec;
// 3. every recorded answer of the real server (method, path template, status,
//    body) is documented — the status among the operation's responses — and
//    its JSON body validates against the response schema (ajv, JSON Schema
//    2020-12 as OpenAPI 3.1 uses);
// 4. every operation of the spec was exercised by some answer, except the
//    ones the test lists with a reason.
// Prints one JSON line {"ok", "steps", "problems"}; exits 1 on any problem.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const [specFile, apiMd, answersFile] = process.argv.slice(2);
const steps = [];
const problems = [];
const METHODS = ["get", "post", "put", "delete", "patch", "head"];

function lint() {
  const bin = path.join(here, "node_modules", ".bin", "redocly");
  const r = spawnSync(bin, ["lint", specFile, "--config", path.join(here, "redocly.yaml"),
    "--format", "stylish"], { encoding: "utf8", timeout: 120000 });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0) problems.push(`redocly lint failed (${r.status}):\n${out}`);
  else steps.push(`redocly lint: ${out.split("\n").filter((l) => l.trim()).pop()}`);
}

/* A path as segments, every templated segment ("{id}", "ID", "<x>.<y>", "N.root.json") a "*". */
function shape(p) {
  return p.split("/").filter(Boolean).map((s) =>
    /[{<]/.test(s) || /^[A-Z][A-Z_]*(\.|$)/.test(s) ? "*" : s);
}

function sameShape(a, b) {
  return a.length === b.length && a.every((s, i) => s === b[i] || s === "*" || b[i] === "*");
}

function mdRoutes(text) {
  const routes = [];
  const re = /`((?:GET|POST|PUT|DELETE)(?:\|(?:GET|POST|PUT|DELETE))*)\s+(\/[^\s`?]*)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const rest = text.slice(m.index, text.indexOf("\n", m.index));
    if (/ is gone\b/.test(rest)) continue; /* a route the text says was removed */
    let p = m[2].replace(/\[.*$/, "");
    const last = p.split("/").pop();
    const tails = last.includes("|") ? last.split("|") : [last];
    for (const method of m[1].split("|")) {
      for (const t of tails) {
        routes.push([method.toLowerCase(), p.replace(/[^/]*$/, t)]);
      }
    }
  }
  return routes;
}

function checkMd(spec) {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) if (item[m]) ops.push([m, shape(p), p]);
  }
  const routes = mdRoutes(fs.readFileSync(apiMd, "utf8"));
  let n = 0;
  for (const [method, p] of routes) {
    n++;
    if (!ops.some(([m, s]) => m === method && sameShape(s, shape(p)))) {
      problems.push(`docs/api.md names ${method.toUpperCase()} ${p}, which the spec lacks`);
    }
  }
  steps.push(`every one of the ${n} routes named in docs/api.md is in the spec`);
}

function pointer(...parts) {
  return parts.map((s) => encodeURIComponent(String(s).replace(/~/g, "~0").replace(/\//g, "~1")))
    .join("/");
}

function checkAnswers(spec, doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc, "openapi.json");
  const seen = new Set();
  const cache = new Map();
  let n = 0;
  const errorCheck = ajv.compile({ $ref: "openapi.json#/components/schemas/Error" });
  for (const a of doc.answers_) {
    if (a.path === null) {
      /* the router's own 404 / 405: the common error shape */
      n++;
      if (!errorCheck(a.body)) problems.push(`${a.status} of the router: ${ajv.errorsText(errorCheck.errors)}`);
      continue;
    }
    const item = spec.paths[a.path];
    const op = item && item[a.method];
    if (!op) {
      problems.push(`answer for ${a.method.toUpperCase()} ${a.path}: no such operation`);
      continue;
    }
    seen.add(`${a.method} ${a.path}`);
    const code = String(a.status);
    const key = op.responses[code] ? code : op.responses[`${code[0]}XX`] ? `${code[0]}XX` :
      op.responses.default ? "default" : null;
    if (!key) {
      problems.push(`${a.method.toUpperCase()} ${a.path} answered ${code}, which it does not document`);
      continue;
    }
    let resp = op.responses[key];
    let ref = ["paths", a.path, a.method, "responses", key];
    if (resp.$ref) {
      ref = resp.$ref.replace(/^#\//, "").split("/").map(decodeURIComponent);
      resp = ref.reduce((o, k) => o[k], spec);
    }
    const media = resp.content && resp.content[a.content_type];
    if (a.body === null || a.body === undefined) {
      if (resp.content && !media && a.content_type === "application/json") {
        problems.push(`${a.method.toUpperCase()} ${a.path} ${code}: JSON answer not documented`);
      }
      continue;
    }
    if (!media || !media.schema) {
      problems.push(`${a.method.toUpperCase()} ${a.path} ${code}: no schema for ${a.content_type}`);
      continue;
    }
    const ptr = "openapi.json#/" + pointer(...ref, "content", a.content_type, "schema");
    let validate = cache.get(ptr);
    if (!validate) {
      validate = ajv.compile({ $ref: ptr });
      cache.set(ptr, validate);
    }
    n++;
    if (!validate(a.body)) {
      problems.push(`${a.method.toUpperCase()} ${a.path} ${code}: ` +
        ajv.errorsText(validate.errors, { separator: "; " }) + ` in ${JSON.stringify(a.body).slice(0, 400)}`);
    }
  }
  steps.push(`${n} real JSON answers validated against their response schemas`);
  return seen;
}

function checkCoverage(spec, seen, skip) {
  let total = 0;
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      total++;
      if (!seen.has(`${m} ${p}`) && !skip.has(`${m} ${p}`)) {
        problems.push(`operation ${m.toUpperCase()} ${p} was not exercised`);
      }
    }
  }
  steps.push(`${seen.size} of ${total} operations exercised (${skip.size} listed as not)`);
}

try {
  lint();
  const spec = YAML.parse(fs.readFileSync(specFile, "utf8"));
  if (!/^3\.1\./.test(spec.openapi)) problems.push(`openapi version ${spec.openapi}: want 3.1.x`);
  checkMd(spec);
  const rec = JSON.parse(fs.readFileSync(answersFile, "utf8"));
  const doc = JSON.parse(JSON.stringify(spec));
  Object.defineProperty(doc, "answers_", { value: rec.answers, enumerable: false });
  const seen = checkAnswers(spec, doc);
  checkCoverage(spec, seen, new Set(rec.not_exercised.map(([m, p]) => `${m} ${p}`)));
} catch (e) {
  problems.push(String(e.stack || e));
}
console.log(JSON.stringify({ ok: problems.length === 0, steps, problems }));
process.exit(problems.length ? 1 : 0);
