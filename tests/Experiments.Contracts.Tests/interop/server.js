'use strict';
// A grpc-js implementation of interop.v1.Echo, behaving as the C# EchoService.
// Usage: node server.js [maxLifetimeSeconds]. Prints {"port":N} once listening on 127.0.0.1,
// and exits when stdin closes or after maxLifetimeSeconds (default 120), whichever comes first.
const { grpc, Echo } = require('./echo-proto');

function metadataEntries(metadata) {
  const entries = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      entries.push(Buffer.isBuffer(value) ? { key, binary_value: value } : { key, value });
    }
  }
  return entries;
}

function pick(metadata, prefix) {
  const picked = new grpc.Metadata();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (key.startsWith(prefix)) {
      for (const value of values) picked.add(key, value);
    }
  }
  return picked;
}

function reply(call, payload) {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return {
    payload,
    metadata: metadataEntries(call.metadata),
    deadline_remaining_ms: Number.isFinite(deadlineMs) ? Math.round(deadlineMs - Date.now()) : -1,
  };
}

const server = new grpc.Server();
server.addService(Echo.service, {
  Unary(call, callback) {
    const headers = pick(call.metadata, 'x-echo-');
    if (Object.keys(headers.toJSON()).length > 0) call.sendMetadata(headers);
    const trailers = pick(call.metadata, 'x-trailer-');
    const request = call.request;
    if (request.status_code !== 0) {
      callback({ code: request.status_code, details: request.status_message, metadata: trailers });
      return;
    }
    const payload = request.response_size > 0 ? Buffer.alloc(request.response_size) : request.payload;
    callback(null, reply(call, payload), trailers);
  },
  Sleep(call, callback) {
    const timer = setTimeout(() => callback(null, reply(call, Buffer.alloc(0))), call.request.milliseconds);
    call.on('cancelled', () => clearTimeout(timer));
  },
  Fail(call, callback) {
    callback({ code: grpc.status.UNKNOWN, details: 'handler failed' });
  },
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`bind failed: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ port }) + '\n');
});

const lifetimeSeconds = Number(process.argv[2] || 120);
const stop = () => server.tryShutdown(() => process.exit(0));
setTimeout(() => server.forceShutdown() || process.exit(0), lifetimeSeconds * 1000).unref();
setTimeout(() => process.exit(0), lifetimeSeconds * 1000 + 1000).unref();
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
