#!/usr/bin/env bash
# The main job: start a local OSS emulator, append a sample file with the CLI in parts, grow the file and
# continue with --resume, then verify length and CRC-64 with a HEAD. Needs pkg/ and the emulator built.
set -euo pipefail
cd "$(dirname "$0")/.."
emulator=target/release/oss-emulator
work=$(mktemp -d)
log="$work/emulator.log"
"$emulator" --port 0 --data-dir "$work/data" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  url=$(head -n 1 "$log" | sed -n 's/^listening on //p')
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { cat "$log" >&2; exit 1; }

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
export OSS_ACCESS_KEY_ID=emulator-access-key-id OSS_ACCESS_KEY_SECRET=emulator-access-key-secret
cli=(node pkg/cli.mjs)
key=oss://examplebucket/demo/recording.bin
sample="$work/recording.bin"

say "oss-emulator is listening on $url"
node -e 'const c=require("crypto");process.stdout.write(c.randomBytes(12<<20))' >"$sample"
say "1. Appending a 12 MiB file in 2 MiB parts (each append is CRC-64 checked)"
"${cli[@]}" "$sample" "$key" --endpoint "$url" --region cn-hangzhou --part-size 2m

node -e 'const c=require("crypto");process.stdout.write(c.randomBytes(5<<20))' >>"$sample"
say "2. The file grew by 5 MiB: --resume checks the object is the file's start, then appends the rest"
"${cli[@]}" "$sample" "$key" --endpoint "$url" --region cn-hangzhou --part-size 2m --resume

say "3. Verifying with a HEAD against the local file"
node --input-type=module -e '
import fs from "node:fs";
import OSS, { crc64 } from "./pkg/node.mjs";
const [url, file] = process.argv.slice(1);
const client = new OSS({ endpoint: url, region: "cn-hangzhou", bucket: "examplebucket",
  accessKeyId: process.env.OSS_ACCESS_KEY_ID, accessKeySecret: process.env.OSS_ACCESS_KEY_SECRET });
const head = await client.head("demo/recording.bin");
const bytes = fs.readFileSync(file);
const local = crc64(bytes);
console.log(`object type        ${head.objectType}`);
console.log(`nextAppendPosition ${head.nextAppendPosition} (file: ${bytes.length} bytes)`);
console.log(`crc64              ${head.crc64} (file: ${local})`);
if (head.nextAppendPosition !== String(bytes.length) || head.crc64 !== local) {
  console.error("MISMATCH: the object is not the file"); process.exit(1);
}
console.log("the object is byte-for-byte the file: verified");
' "$url" "$sample"

say "Next: the live-recording web demo"
echo "  make serve    # serves www/ and an emulator on 127.0.0.1, then open the printed demo URL"
