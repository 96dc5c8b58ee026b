// The entry for browsers (window and module Web Workers) and bundlers. The WebAssembly module is fetched and
// instantiated here with top-level await, so `new OSS(...)` works as soon as the import resolves. ./bindings/ is
// wasm-bindgen's output, which scripts/bundle.mjs joins into this file.
import init from './bindings/oss_append.js';

await init({ module_or_path: new URL('./oss_append_bg.wasm', import.meta.url) });

export { OSS, OSS as default, crc64, Crc64, combineCrc64 } from './bindings/oss_append.js';
