// Validates every response the integration tests received (JSON lines
// written by tests/integration/test_client.cc) against the OpenAPI
// document: the status must be one the operation lists, the media type one
// it lists for that status, and the body must match its schema. Responses
// to paths or methods the document does not describe (the tests' 404s and
// 405s) must be problem documents.
//   node validate_responses.js OPENAPI_JSON RESPONSES_JSONL...
'use strict';
const fs = require('fs');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats');

const [specPath, ...logs] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(spec, 'openapi');

// Turns a local reference of the document into one Ajv can resolve.
const rebase = (node) => {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? 'openapi' + value : rebase(value);
  }
  return out;
};
const resolve = (node) => {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split('/').reduce((at, part) => at[part.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return node;
};

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  pattern: new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.') + '$'),
}));
const problem = ajv.compile({ $ref: 'openapi#/components/schemas/Problem' });
const compiled = new Map();
const validatorFor = (key, schema) => {
  if (!compiled.has(key)) compiled.set(key, ajv.compile(rebase(schema)));
  return compiled.get(key);
};

let checked = 0;
const failures = [];
const fail = (record, why) => failures.push(`${record.method} ${record.target} → ${record.status}: ${why}`);

for (const log of logs) {
  if (!fs.existsSync(log)) continue;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line);
    checked++;
    const path = record.target.split(/[?#]/)[0];
    const media = record.contentType.split(';')[0].trim().toLowerCase();
    // A concrete path (/events/batch, POST only) shadows a template
    // (/events/{userId}) only for the methods it describes: GET
    // /events/batch lists the events of a user named "batch".
    const method = record.method.toLowerCase();
    const match = templates.find((t) => t.pattern.test(path) && spec.paths[t.template][method]) ||
      templates.find((t) => t.pattern.test(path));
    const operation = match && spec.paths[match.template][record.method.toLowerCase()];
    if (!operation) {
      if (record.status < 400) fail(record, 'a success from a path or method the document does not describe');
      else if (record.body && media !== 'application/problem+json') fail(record, `an error as ${media}, not a problem`);
      else if (record.body && !problem(JSON.parse(record.body))) fail(record, ajv.errorsText(problem.errors));
      continue;
    }
    const response = resolve(operation.responses[String(record.status)]);
    if (!response) {
      fail(record, `status not listed for ${record.method} ${match.template}`);
      continue;
    }
    if (!response.content) {
      if (record.body) fail(record, 'a body where the document lists none');
      continue;
    }
    const content = response.content[media];
    if (!content) {
      fail(record, `media type ${media || '(none)'} not listed (${Object.keys(response.content).join(', ')})`);
      continue;
    }
    if (!media.endsWith('json')) continue;
    let body;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      fail(record, 'a body that is not JSON');
      continue;
    }
    const validate = validatorFor(`${match.template} ${record.method} ${record.status} ${media}`, content.schema);
    if (!validate(body)) fail(record, ajv.errorsText(validate.errors));
  }
}
const unique = [...new Set(failures)];
for (const failure of unique.slice(0, 50)) console.error(failure);
console.log(`${checked} responses checked against ${specPath}: ${unique.length} distinct problems`);
process.exit(unique.length === 0 && checked > 0 ? 0 : 1);
