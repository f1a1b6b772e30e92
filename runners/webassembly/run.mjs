// Run one MicroPython test file on the official WebAssembly port (npm package
// @micropython/micropython-webassembly-pyscript) the way the unix port runs a
// script: its output on stdout/stderr, exit status 1 on an uncaught exception,
// n on SystemExit(n).
//
// Usage: node run.mjs --module PATH/micropython.mjs [--heapsize BYTES] [--pystack WORDS] SCRIPT
//
// The runtime cannot be interrupted from outside, so the caller's timeout kills
// this process. Exit 70 with a line "mpconform-webassembly: runtime aborted: ..."
// means the runtime itself died (a wasm trap or a JS error), not the test.
import { readFileSync, writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

const EXIT_RUNTIME_ABORT = 70;

function parseArgs(argv) {
  const opts = { module: null, heapsize: undefined, pystack: undefined, script: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--module" || arg === "--heapsize" || arg === "--pystack") {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      const value = argv[++i];
      opts[arg.slice(2)] = arg === "--module" ? value : Number.parseInt(value, 10);
    } else if (opts.script === null) {
      opts.script = arg;
    } else {
      usage(`unexpected argument ${arg}`);
    }
  }
  if (!opts.module || !opts.script) usage("--module and SCRIPT are required");
  return opts;
}

function usage(why) {
  writeAll(2, Buffer.from(`mpconform-webassembly: ${why}\n`));
  process.exit(2);
}

// Writes go straight to the file descriptors, synchronously, so output is never
// lost when the process exits and the order of stdout and stderr is kept.
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

// The runtime hands over one byte at a time; keep a line per stream and write it
// whole, flushing the other stream first so interleaving stays as printed.
const pending = { 1: [], 2: [] };
function flush(fd) {
  if (pending[fd].length) {
    writeAll(fd, Buffer.from(pending[fd]));
    pending[fd] = [];
  }
}
function emitter(fd) {
  const other = fd === 1 ? 2 : 1;
  return (bytes) => {
    if (pending[other].length) flush(other);
    for (const b of bytes) {
      pending[fd].push(b);
      if (b === 10) flush(fd);
    }
  };
}
function flushAll() {
  flush(1);
  flush(2);
}
process.on("exit", flushAll); // a final line without a newline is still written

// SystemExit's traceback ends "SystemExit: <arg>": no arg or None exits 0, an
// integer exits with it, anything else is printed and exits 1 (as the unix port does).
function systemExitStatus(message) {
  const last = message.trimEnd().split("\n").pop();
  const arg = last.replace(/^SystemExit:? ?/, "");
  if (arg === "" || arg === "None") return 0;
  if (/^-?\d+$/.test(arg)) return Number.parseInt(arg, 10) & 0xff;
  emitter(2)(Buffer.from(arg + "\n"));
  return 1;
}

const opts = parseArgs(process.argv.slice(2));
const source = readFileSync(opts.script, "utf8");
try {
  const { loadMicroPython } = await import(pathToFileURL(opts.module).href);
  const settings = { linebuffer: false, stdout: emitter(1), stderr: emitter(2) };
  // Left out unless given: an undefined value would override the package's default.
  if (opts.heapsize) settings.heapsize = opts.heapsize;
  if (opts.pystack) settings.pystack = opts.pystack;
  const mp = await loadMicroPython(settings);
  try {
    mp.runPython(source);
  } catch (err) {
    if (err?.name !== "PythonError") throw err;
    if (err.type === "SystemExit") {
      process.exitCode = systemExitStatus(err.message);
    } else {
      emitter(2)(Buffer.from(err.message));
      process.exitCode = 1;
    }
  }
} catch (err) {
  flushAll();
  writeAll(2, Buffer.from(`mpconform-webassembly: runtime aborted: ${err?.stack || err}\n`));
  process.exitCode = EXIT_RUNTIME_ABORT;
}
