// validate.mjs: validates Kubernetes objects against the OpenAPI schemas of npm's
// kubernetes-models (built-in kinds), @kubernetes-models/prometheus-operator (ServiceMonitor)
// and @kubernetes-models/cert-manager (Certificate, Issuer). Each model's validate() runs the
// package's compiled JSON-schema check (ajv); nothing here describes a field by hand.
//
//   node validate.mjs NODE_MODULES objects.json
//
// objects.json is [{"source": "deploy/base/rbac.yaml", "object": {...}}, ...] (the test turns
// YAML into it). Prints one line per problem, naming the source, the object and the field:
//   FAIL deploy/x.yaml: Deployment smart-autoscaler/api: /spec/replicas must be integer
// then "schema: N objects, M failed"; exits 1 when any object failed or has a kind no package
// knows (an unknown kind is a failure, not a skip).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [nodeModules, input] = process.argv.slice(2);
if (!nodeModules || !input) {
  console.error("usage: node validate.mjs NODE_MODULES objects.json");
  process.exit(2);
}

// apiVersion group -> the package whose models cover it.
const CRD_PACKAGES = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "cert-manager.io": "@kubernetes-models/cert-manager",
};

function modelPath(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = CRD_PACKAGES[group] ?? "kubernetes-models";
  const dir = group === "" ? version : `${group}/${version}`;
  return `${nodeModules}/${pkg}/${dir}/${kind}.js`;
}

function describe(obj) {
  const md = obj?.metadata ?? {};
  const name = md.namespace ? `${md.namespace}/${md.name}` : md.name;
  return `${obj?.kind ?? "(no kind)"} ${name ?? "(no name)"}`;
}

function fieldErrors(err) {
  if (!Array.isArray(err?.errors)) return [String(err?.message ?? err)];
  return err.errors.map((e) => {
    const field = e.instancePath || "/";
    if (e.keyword === "required") return `${field === "/" ? "" : field}/${e.params.missingProperty} is required`;
    if (e.keyword === "additionalProperties") return `${field === "/" ? "" : field}/${e.params.additionalProperty} is not a known field`;
    if (e.keyword === "enum") return `${field} must be one of ${JSON.stringify(e.params.allowedValues)}`;
    return `${field} ${e.message}`;
  });
}

const items = JSON.parse(readFileSync(input, "utf8"));
let failed = 0;
for (const { source, object } of items) {
  const label = `${source}: ${describe(object)}`;
  if (!object?.apiVersion || !object?.kind) {
    console.log(`FAIL ${label}: apiVersion and kind are required`);
    failed++;
    continue;
  }
  let Model;
  try {
    const mod = await import(pathToFileURL(modelPath(object.apiVersion, object.kind)).href);
    Model = mod[object.kind];
  } catch (e) {
    Model = undefined;
  }
  if (!Model) {
    console.log(`FAIL ${label}: no schema for ${object.apiVersion} ${object.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(object).validate();
  } catch (e) {
    for (const line of fieldErrors(e)) console.log(`FAIL ${label}: ${line}`);
    failed++;
  }
}
console.log(`schema: ${items.length} objects, ${failed} failed`);
process.exit(failed ? 1 : 0);
