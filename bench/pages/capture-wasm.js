// Keeps the instance the package's .wasm becomes, for bench.js's wasmMemory(): imported before the package, it wraps
// the two WebAssembly calls the bindings instantiate with.
export let wasmInstance = null;

for (const name of ['instantiate', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  WebAssembly[name] = async (...args) => {
    const result = await original.apply(WebAssembly, args);
    wasmInstance = result instanceof WebAssembly.Instance ? result : result.instance;
    return result;
  };
}
