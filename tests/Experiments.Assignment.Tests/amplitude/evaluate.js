// Usage: node evaluate.js <server url> <deployment key> <users.json>
// Prints {"remote": {user_id: {flag: variant key}}, "local": {...}, "flags": [keys]} using Amplitude's real SDK:
// remote evaluation (fetchV2 -> GET /sdk/v2/vardata) and local evaluation (GET /sdk/v2/flags, then its own engine).
const fs = require('fs');
const { Experiment } = require('@amplitude/experiment-node-server');

async function main() {
  const [serverUrl, key, usersFile] = process.argv.slice(2);
  const users = JSON.parse(fs.readFileSync(usersFile, 'utf8'));
  const remote = Experiment.initializeRemote(key, { serverUrl, fetchRetries: 0, fetchTimeoutMillis: 10000 });
  const local = Experiment.initializeLocal(key, { serverUrl, flagConfigPollingIntervalMillis: 60000 });
  await local.start();
  const out = { remote: {}, local: {}, flags: Object.keys(local.cache ? await local.cache.getAll() : {}) };
  for (const user of users) {
    const id = user.user_id || user.device_id;
    const r = await remote.fetchV2(user);
    const l = local.evaluateV2(user);
    out.remote[id] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.key]));
    out.local[id] = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v.key]));
  }
  local.stop();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
