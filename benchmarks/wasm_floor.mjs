// The WebAssembly floor for `nox -s bench`: in one node process, each file in a fresh
// MicroPython instance (loadMicroPython, then runPython), output discarded, nothing
// checked, the wasm compiled once as the runner's host does. Prints the mean
// milliseconds per file, after a first instance (node's start and the compile are
// paid once per run, not per test).
//
// Usage: node wasm_floor.mjs MODULE.mjs FILE...
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, ...files] = process.argv.slice(2);
const nativeInstantiate = WebAssembly.instantiate;
let compiled = null;
WebAssembly.instantiate = async (source, imports) => {
  if (source instanceof WebAssembly.Module) return nativeInstantiate(source, imports);
  compiled ??= await WebAssembly.compile(source);
  return { module: compiled, instance: await nativeInstantiate(compiled, imports) };
};
const { loadMicroPython } = await import(pathToFileURL(modulePath).href);
const sources = files.map((f) => readFileSync(f, "utf8"));
const ignore = () => {};
await loadMicroPython({ linebuffer: false, stdout: ignore, stderr: ignore });
const start = performance.now();
for (const source of sources) {
  const mp = await loadMicroPython({ linebuffer: false, stdout: ignore, stderr: ignore });
  try {
    mp.runPython(source);
  } catch {
    // an uncaught Python exception is part of some tests
  }
}
console.log(((performance.now() - start) / sources.length).toFixed(3));
