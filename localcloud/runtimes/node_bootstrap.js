// Run one Lambda invocation of a Node.js handler, as the AWS Node.js runtime would.
//
// Usage: node node_bootstrap.js <handler> <task_root> <result_file>
//
// The event is read from stdin as JSON. The outcome is written to <result_file> as
// {"ok": bool, "payload": ...}; errors use the shape the Lambda service reports
// (errorType, errorMessage, trace). Output goes to stdout/stderr, which the local cloud
// stores in the function's log group.
"use strict";

const fs = require("fs");
const path = require("path");
const dns = require("dns");
const http = require("http");
const https = require("https");
const { pathToFileURL } = require("url");

const [handlerName, taskRoot, resultFile] = process.argv.slice(2);
const endpoint = new URL(process.env.AWS_ENDPOINT_URL || "http://localhost:4566");
const endpointPort = Number(endpoint.port || 80);

function isLocalHost(host) {
  if (!host) return false;
  const name = String(host).replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "127.0.0.1" ||
    name === endpoint.hostname.toLowerCase()
  );
}

// The AWS SDK for JavaScript v3 addresses S3 buckets as <bucket>.localhost; glibc does not
// resolve such names, real DNS does for AWS. Resolve every *.localhost to the loopback address.
const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === "function") {
    callback = options;
    options = {};
  }
  if (typeof options === "number") options = { family: options };
  const name = String(hostname || "").toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) {
    if (options && options.all) {
      return process.nextTick(callback, null, [{ address: "127.0.0.1", family: 4 }]);
    }
    return process.nextTick(callback, null, "127.0.0.1", 4);
  }
  return originalLookup.call(dns, hostname, options, callback);
};

// CDK's custom-resource code answers CloudFormation with https.request({hostname, path}),
// dropping the scheme and port of the ResponseURL. The local endpoint speaks plain HTTP on its
// own port, so route local HTTPS requests there.
function toLocalHttpOptions(options) {
  const opts = Object.assign({}, options);
  const host = opts.hostname || opts.host;
  opts.hostname = String(host).replace(/:\d+$/, "");
  delete opts.host;
  if (!opts.port || Number(opts.port) === 443) opts.port = endpointPort;
  opts.protocol = "http:";
  delete opts.agent;
  return opts;
}

function patchedHttps(original) {
  return function (...args) {
    let [first, second, third] = args;
    let options;
    let callback;
    if (typeof first === "string" || first instanceof URL) {
      const url = typeof first === "string" ? new URL(first) : first;
      options = {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
      };
      if (typeof second === "function") {
        callback = second;
      } else {
        options = Object.assign(options, second || {});
        callback = third;
      }
    } else {
      options = first || {};
      callback = second;
    }
    if (isLocalHost(options.hostname || options.host)) {
      return http[original.name === "get" ? "get" : "request"](toLocalHttpOptions(options), callback);
    }
    return original.apply(https, args);
  };
}
const originalRequest = https.request;
const originalGet = https.get;
https.request = patchedHttps(originalRequest);
https.get = patchedHttps(originalGet);

function writeResult(ok, payload) {
  fs.writeFileSync(resultFile, JSON.stringify({ ok, payload: payload === undefined ? null : payload }));
}

function errorShape(err, errorType) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: errorType || e.name || "Error",
    errorMessage: e.message,
    trace: String(e.stack || "").split("\n"),
  };
}

function finish(ok, payload) {
  try {
    writeResult(ok, payload);
  } finally {
    // Real Lambda freezes the sandbox once the handler answers; do not wait for open sockets.
    process.stdout.write("", () => process.exit(0));
  }
}

const timeoutSeconds = Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT || "3");

function makeContext(done) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION || "$LATEST",
    invokedFunctionArn: process.env._LOCALCLOUD_INVOKED_ARN,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: process.env._LOCALCLOUD_REQUEST_ID,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, result) => done(err, result),
    succeed: (result) => done(null, result),
    fail: (err) => done(err || new Error("failed")),
  };
}

async function loadModule(moduleRel) {
  const base = path.resolve(taskRoot, moduleRel);
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const file = base + ext;
    if (!fs.existsSync(file)) continue;
    if (ext === ".mjs") return import(pathToFileURL(file).href);
    try {
      return require(file);
    } catch (err) {
      if (err && err.code === "ERR_REQUIRE_ESM") return import(pathToFileURL(file).href);
      throw err;
    }
  }
  // moto packs inline (ZipFile) template code as index.py whatever the runtime; Node loads a
  // file with an unknown extension as CommonJS, which is what that code is.
  if (fs.existsSync(base + ".py")) return require(base + ".py");
  const err = new Error(`Cannot find module '${moduleRel}'`);
  err.code = "MODULE_NOT_FOUND";
  throw err;
}

async function main() {
  const input = fs.readFileSync(0, "utf8");
  const event = JSON.parse(input || "{}");
  const dot = handlerName.lastIndexOf(".");
  const moduleRel = handlerName.slice(0, dot);
  const exportName = handlerName.slice(dot + 1);
  process.chdir(taskRoot);

  let mod;
  try {
    mod = await loadModule(moduleRel);
  } catch (err) {
    const shape = errorShape(err, "Runtime.ImportModuleError");
    shape.errorMessage = `Error: ${err && err.message}`;
    console.error(`ERROR\tUncaught Exception\t${JSON.stringify(shape)}`);
    return finish(false, shape);
  }
  const handler = mod && (mod[exportName] || (mod.default && mod.default[exportName]));
  if (typeof handler !== "function") {
    const shape = {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `${handlerName} is undefined or not exported`,
      trace: [],
    };
    console.error(`ERROR\t${JSON.stringify(shape)}`);
    return finish(false, shape);
  }

  let settled = false;
  const done = (err, result) => {
    if (settled) return;
    settled = true;
    if (err !== null && err !== undefined) {
      const shape = errorShape(err);
      console.error(`ERROR\tInvoke Error\t${JSON.stringify(shape)}`);
      finish(false, shape);
    } else {
      finish(true, result);
    }
  };
  const context = makeContext(done);
  // The function's timeout counts from the handler call: module loading is init, as on Lambda.
  setTimeout(() => {
    if (settled) return;
    settled = true;
    const requestId = process.env._LOCALCLOUD_REQUEST_ID;
    const message = `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
    console.log(`${new Date().toISOString()} ${requestId} ${message}`);
    finish(false, { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: ${message}` });
  }, timeoutSeconds * 1000);
  try {
    const maybe = handler(event, context, done);
    if (maybe && typeof maybe.then === "function") {
      maybe.then((result) => done(null, result), (err) => done(err));
    } else if (handler.length < 3) {
      // A synchronous handler without callback: its return value is the answer.
      done(null, maybe);
    }
  } catch (err) {
    done(err);
  }
}

process.on("unhandledRejection", (reason) => {
  const shape = errorShape(reason, "Runtime.UnhandledPromiseRejection");
  console.error(`ERROR\tUnhandled Promise Rejection\t${JSON.stringify(shape)}`);
  finish(false, shape);
});
process.on("uncaughtException", (err) => {
  const shape = errorShape(err);
  console.error(`ERROR\tUncaught Exception\t${JSON.stringify(shape)}`);
  finish(false, shape);
});

main();
