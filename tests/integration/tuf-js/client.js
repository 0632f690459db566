// Runs tuf-js's Updater against a TUF repository and prints one JSON line:
// {"ok": true, "target": {...}, "bytes": N} or {"ok": false, "error": ..., "type": ...}.
// Exit code 0 when every step verified, 3 when tuf-js refused, 2 on bad usage.
//
//   node client.js --metadata-url URL --targets-url URL --root FILE --dir DIR
//                  [--target PATH] [--expect FILE]
//
// DIR keeps the client's trusted metadata between runs (as a real client
// would), so a later run can be served older metadata and must refuse it.
// --root seeds DIR/root.json only when DIR has none yet.
'use strict';

const fs = require('fs');
const path = require('path');
const { Updater } = require('tuf-js');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['metadata-url', 'targets-url', 'root', 'dir']) {
    if (!out[need]) throw new Error(`--${need} is required`);
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(String(e.message));
    return 2;
  }
  const metadataDir = path.join(args.dir, 'metadata');
  const targetDir = path.join(args.dir, 'targets');
  fs.mkdirSync(metadataDir, { recursive: true });
  fs.mkdirSync(targetDir, { recursive: true });
  const trusted = path.join(metadataDir, 'root.json');
  if (!fs.existsSync(trusted)) fs.copyFileSync(args.root, trusted);

  const updater = new Updater({
    metadataBaseUrl: args['metadata-url'],
    targetBaseUrl: args['targets-url'],
    metadataDir,
    targetDir,
    config: { fetchRetry: 0, fetchTimeout: 30000 },
  });
  const result = { ok: false };
  try {
    await updater.refresh();
    result.root_version = updater.trustedSet.root.signed.version;
    result.timestamp_version = updater.trustedSet.timestamp.signed.version;
    if (args.target) {
      const info = await updater.getTargetInfo(args.target);
      if (!info) throw new Error(`target ${args.target} is not in the repository`);
      result.target = { path: info.path, length: info.length, hashes: info.hashes, custom: info.custom };
      const file = await updater.downloadTarget(info);
      const got = fs.readFileSync(file);
      result.bytes = got.length;
      if (args.expect && !got.equals(fs.readFileSync(args.expect))) {
        throw new Error('downloaded bytes differ from the pushed file');
      }
    }
    result.ok = true;
  } catch (e) {
    result.error = String(e && e.message ? e.message : e);
    result.type = e && e.constructor ? e.constructor.name : typeof e;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  return result.ok ? 0 : 3;
}

main().then((code) => { process.exitCode = code; });
