// Amplitude's Node analytics SDK, unchanged, with its server URL pointed at our /2/httpapi.
// Usage: node track.js <server url> <api key> <user prefix> <count>
// Tracks <count> events (every other one a $exposure with flag_key and variant), flushes, and prints one JSON
// line: the SDK's result code per event.
const { init, track, flush } = require('@amplitude/analytics-node');

async function main() {
  const [serverUrl, apiKey, prefix, countText] = process.argv.slice(2);
  const count = Number(countText);
  await init(apiKey, { serverUrl, flushQueueSize: 100, flushIntervalMillis: 200, logLevel: 0 }).promise;
  const pending = [];
  for (let i = 0; i < count; i++) {
    const user = { user_id: `${prefix}-user-${i}`, device_id: `${prefix}-device-${i}` };
    pending.push(i % 2 === 0
      ? track('$exposure', { flag_key: 'amplitude-flag', variant: i % 4 === 0 ? 'control' : 'treatment' }, user).promise
      : track('amplitude-purchase', { amount: i }, user).promise);
  }
  await flush().promise;
  const results = await Promise.all(pending);
  console.log(JSON.stringify({
    codes: results.map((r) => r.code),
    messages: [...new Set(results.map((r) => r.message))],
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
