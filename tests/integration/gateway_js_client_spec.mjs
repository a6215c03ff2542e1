// Acceptance (issue #5): the official JavaScript A2A client (@a2a-js/sdk) assesses a transaction through the
// risk gateway, once over JSON-RPC and once over HTTP+JSON. No browser: prints one JSON line for the Python test.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);  // NODE_PATH (build/node/node_modules) works for require only
const { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, RestTransportFactory } =
  require('@a2a-js/sdk/client');

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function log(...args) { process.stderr.write(`[spec] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`); }

// the bank's credential on every call, as a caller would configure its HTTP stack
const token = env('GATEWAY_TOKEN');
const authFetch = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

async function assess(transport, tx) {
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [transport === 'JSONRPC' ? new JsonRpcTransportFactory({ fetchImpl: authFetch })
                                         : new RestTransportFactory({ fetchImpl: authFetch })],
    preferredTransports: [transport],
  }));
  const client = await factory.createFromUrl(env('GATEWAY_URL'));
  const result = await client.sendMessage({
    message: { messageId: randomUUID(), role: 1, parts: [{ content: { $case: 'data', value: tx } }] },
  });
  log(transport, 'reply kind', result && Object.keys(result));
  // a Message reply (fast path) holds the Decision in a data part
  const message = result?.payload?.value ?? result?.message ?? result;
  const part = (message.parts || []).find((p) => p.content?.$case === 'data');
  if (!part) throw new Error(`${transport}: no data part in the reply: ${JSON.stringify(result).slice(0, 500)}`);
  const decision = part.content.value;
  return { tx_id: decision.tx_id, decision: decision.decision, policy_version: decision.policy_version };
}

try {
  const jsonrpc = await assess('JSONRPC', JSON.parse(env('TX_JSONRPC')));
  const rest = await assess('HTTP+JSON', JSON.parse(env('TX_REST')));
  process.stdout.write(JSON.stringify({ ok: true, jsonrpc, rest }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err?.stack || err) }) + '\n');
  process.exit(1);
}
