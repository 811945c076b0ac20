'use strict';
// A grpc-js client that calls interop.v1.Echo at 127.0.0.1:<port>, runs every case once, prints one JSON object and exits.
// Usage: node client.js <port>
const { grpc, Echo } = require('./echo-proto');

const port = Number(process.argv[2]);
const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const deadlineIn = (ms) => new Date(Date.now() + ms);

function unary(method, request, { metadata = new grpc.Metadata(), deadline } = {}) {
  return new Promise((resolve) => {
    const result = {};
    const started = Date.now();
    const call = client[method](request, metadata, deadline ? { deadline } : {}, (error, response) => {
      result.elapsedMs = Date.now() - started;
      if (error) {
        result.code = error.code;
        result.details = error.details;
        result.trailers = metadataJson(error.metadata);
      } else {
        result.code = 0;
        result.response = response;
      }
    });
    call.on('metadata', (headers) => { result.headers = metadataJson(headers); });
    call.on('status', (status) => {
      result.trailers = metadataJson(status.metadata);
      // The callback runs before 'status'; settle after both.
      setImmediate(() => resolve(result));
    });
  });
}

function metadataJson(metadata) {
  const json = {};
  if (!metadata) return json;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    json[key] = values.map((v) => (Buffer.isBuffer(v) ? `base64:${v.toString('base64')}` : v));
  }
  return json;
}

function unknownMethod() {
  return new Promise((resolve) => {
    client.makeUnaryRequest('/interop.v1.Echo/Nope', (x) => x, (x) => x, Buffer.alloc(0), (error) => {
      resolve({ code: error ? error.code : 0, details: error ? error.details : '' });
    });
  });
}

function replyJson(result) {
  if (!result.response) return result;
  const response = result.response;
  return {
    ...result,
    response: {
      payload: Buffer.from(response.payload).toString('utf8'),
      deadline_remaining_ms: response.deadline_remaining_ms,
      metadata: response.metadata.map((e) => ({
        key: e.key,
        value: e.value,
        binary_value: e.binary_value && e.binary_value.length ? Buffer.from(e.binary_value).toString('base64') : '',
      })),
    },
  };
}

async function main() {
  const results = {};
  results.ok = replyJson(await unary('Unary', { payload: Buffer.from('hello from grpc-js') }));
  results.error = replyJson(await unary('Unary', {
    status_code: grpc.status.FAILED_PRECONDITION,
    status_message: 'Zustand ungültig ✓ 100% 日本',
  }));
  results.deadline = replyJson(await unary('Sleep', { milliseconds: 5000 }, { deadline: deadlineIn(200) }));
  results.serverDeadline = replyJson(await unary('Unary', {}, { deadline: deadlineIn(10000) }));

  const metadata = new grpc.Metadata();
  metadata.add('x-echo-text', 'hello');
  metadata.add('x-echo-data-bin', Buffer.from([0, 1, 2, 250, 251, 255]));
  metadata.add('x-trailer-text', 'bye');
  metadata.add('x-trailer-data-bin', Buffer.from([9, 8, 7]));
  results.metadata = replyJson(await unary('Unary', { payload: Buffer.from('md') }, { metadata }));

  results.unknownMethod = await unknownMethod();
  results.fail = replyJson(await unary('Fail', {}));

  process.stdout.write(JSON.stringify(results) + '\n');
  client.close();
  process.exit(0);
}

setTimeout(() => { process.stderr.write('client timed out\n'); process.exit(2); }, 30000).unref();
main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
