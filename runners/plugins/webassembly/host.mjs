// A warm host for MicroPython's official WebAssembly port (npm package
// @micropython/micropython-webassembly-pyscript): one node process runs many test
// files, each in a fresh MicroPython instance, so the cost of starting node and
// compiling the wasm is paid once per worker instead of once per test.
//
// Usage: node host.mjs --module PATH/micropython.mjs [--heapsize BYTES] [--pystack WORDS]
//
// Protocol (kept small so both sides stay simple):
//   in  (stdin):  one JSON object per line, {"script": "/absolute/path.py"}
//   out (stdout): frames of 1 type byte, a 4-byte big-endian length, the payload:
//     "R" ready, JSON {}                 once, when the runtime module is loaded
//     "O" output bytes                   the test's stdout and stderr in the order printed
//     "E" end, JSON {"status": n, "aborted": "why" (only when the runtime died)}
// Output is raw bytes (it may be invalid UTF-8); the caller bounds what it keeps.
// A test that never ends cannot be interrupted from here: the caller kills this
// process and starts another one. After a runtime abort this process exits, so
// nothing of a broken instance can reach the next test.
import { readFileSync, writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const FLUSH_AT = 65536; // bytes of one unterminated line kept before they are sent anyway

function parseArgs(argv) {
  const opts = { module: null, heapsize: undefined, pystack: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if ((arg === "--module" || arg === "--heapsize" || arg === "--pystack") && i + 1 < argv.length) {
      const value = argv[++i];
      opts[arg.slice(2)] = arg === "--module" ? value : Number.parseInt(value, 10);
    } else {
      usage(`unexpected argument ${arg}`);
    }
  }
  if (!opts.module) usage("--module is required");
  return opts;
}

function usage(why) {
  writeAll(2, Buffer.from(`mpconform-webassembly: ${why}\n`));
  process.exit(2);
}

// Synchronous writes: a test that never returns must still have its output sent.
function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
    }
  }
}

function frame(type, payload) {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeUInt32BE(payload.length, 1);
  writeAll(1, Buffer.concat([head, payload]));
}

// The runtime hands over one byte at a time, from stdout and stderr alike; the
// caller merges the two streams, so one buffer in call order keeps the order.
let pending = [];
function flushOutput() {
  if (pending.length) {
    frame("O", Buffer.from(pending));
    pending = [];
  }
}
function collect(bytes) {
  for (const b of bytes) {
    pending.push(b);
    if (b === 10 || pending.length >= FLUSH_AT) flushOutput();
  }
}

// SystemExit's traceback ends "SystemExit: <arg>": no arg or None exits 0, an
// integer exits with it, anything else is printed and exits 1 (as the unix port does).
function systemExitStatus(message) {
  const last = message.trimEnd().split("\n").pop();
  const arg = last.replace(/^SystemExit:? ?/, "");
  if (arg === "" || arg === "None") return 0;
  if (/^-?\d+$/.test(arg)) return Number.parseInt(arg, 10) & 0xff;
  collect(Buffer.from(arg + "\n"));
  return 1;
}

// Isolation between tests, beyond a fresh instance: JS globals a test (or the
// runtime) set are removed or restored afterwards, and a finalizer of an old
// instance never runs against the new one (the package frees through the
// global `Module`, which by then is the next test's).
let generation = 0;
const NativeRegistry = globalThis.FinalizationRegistry;
globalThis.FinalizationRegistry = class extends NativeRegistry {
  constructor(cleanup) {
    const born = generation;
    super((held) => {
      if (born === generation) cleanup(held);
    });
  }
};

// Every instance instantiates the same wasm file: compile it once (instantiating a
// compiled module is what a fresh instance needs, and costs a fraction of it).
const nativeInstantiate = WebAssembly.instantiate;
const compiled = new Map(); // byte length -> WebAssembly.Module
WebAssembly.instantiate = async (source, imports) => {
  if (source instanceof WebAssembly.Module) return nativeInstantiate(source, imports);
  const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source);
  let entry = compiled.get(bytes.length);
  if (!entry || !Buffer.from(entry.bytes).equals(Buffer.from(bytes))) {
    entry = { bytes: Uint8Array.from(bytes), module: await WebAssembly.compile(bytes) };
    compiled.set(bytes.length, entry);
  }
  return { module: entry.module, instance: await nativeInstantiate(entry.module, imports) };
};

// Timers a test starts keep it running, as they would keep a node process per
// test alive: the test ends when none is left (an interval never ends: timeout).
const live = new Set();
const native = { setTimeout, clearTimeout, setInterval, clearInterval };
let drained = null;
function settle() {
  if (live.size === 0 && drained) {
    const done = drained;
    drained = null;
    done();
  }
}
globalThis.setTimeout = (fn, ms, ...args) => {
  const handle = native.setTimeout(() => {
    live.delete(handle);
    try {
      fn(...args);
    } finally {
      settle();
    }
  }, ms);
  live.add(handle);
  return handle;
};
globalThis.clearTimeout = (handle) => {
  live.delete(handle);
  native.clearTimeout(handle);
  settle();
};
globalThis.setInterval = (fn, ms, ...args) => {
  const handle = native.setInterval(fn, ms, ...args);
  live.add(handle);
  return handle;
};
globalThis.clearInterval = (handle) => {
  live.delete(handle);
  native.clearInterval(handle);
  settle();
};
const timersQuiet = () =>
  new Promise((resolve) => {
    drained = resolve;
    settle();
  });

function snapshotGlobals() {
  const saved = new Map();
  for (const key of Reflect.ownKeys(globalThis)) saved.set(key, Object.getOwnPropertyDescriptor(globalThis, key));
  return saved;
}
function restoreGlobals(saved) {
  for (const key of Reflect.ownKeys(globalThis)) {
    if (!saved.has(key)) delete globalThis[key];
  }
  for (const [key, desc] of saved) {
    const now = Object.getOwnPropertyDescriptor(globalThis, key);
    if (!now || now.value !== desc.value || now.get !== desc.get || now.set !== desc.set) {
      try {
        Object.defineProperty(globalThis, key, desc);
      } catch {
        // a non-configurable global cannot be changed by a test either
      }
    }
  }
}

// An error thrown outside runPython (a test's timer callback): the test failed
// the way a node process per test would, and this process is no longer trusted.
let current = null;
process.on("uncaughtException", (err) => {
  if (current) current.reject(err);
  else process.exit(70);
});

async function runTest(loadMicroPython, settings, script) {
  const source = readFileSync(script, "utf8");
  const mp = await loadMicroPython(settings);
  let status = 0;
  try {
    mp.runPython(source);
  } catch (err) {
    if (err?.name !== "PythonError") throw err;
    if (err.type === "SystemExit") {
      status = systemExitStatus(err.message);
    } else {
      collect(Buffer.from(err.message));
      status = 1;
    }
  }
  await new Promise((resolve, reject) => {
    current = { reject };
    timersQuiet().then(resolve);
  });
  return status;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { loadMicroPython } = await import(pathToFileURL(opts.module).href);
  const settings = { linebuffer: false, stdout: collect, stderr: collect };
  // Left out unless given: an undefined value would override the package's default.
  if (opts.heapsize) settings.heapsize = opts.heapsize;
  if (opts.pystack) settings.pystack = opts.pystack;
  const clean = snapshotGlobals();
  frame("R", Buffer.from("{}"));
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { script } = JSON.parse(line);
    let end;
    try {
      end = { status: await runTest(loadMicroPython, settings, script) };
    } catch (err) {
      end = { status: 70, aborted: String(err?.stack || err) };
    }
    current = null;
    flushOutput();
    generation++;
    restoreGlobals(clean);
    frame("E", Buffer.from(JSON.stringify(end)));
    if (end.aborted) process.exit(70);
  }
}

main().catch((err) => {
  writeAll(2, Buffer.from(`mpconform-webassembly: host failed: ${err?.stack || err}\n`));
  process.exit(70);
});
