// A stand-in guest agent for runtime tests: listens on `--listen unix:PATH`, answers every
// line with "pong <line>", exits on SIGTERM. Lets runtime tests run before/without the real agent.
"use strict";
const net = require("node:net");
const fs = require("node:fs");
const arg = process.argv[process.argv.indexOf("--listen") + 1] || "";
const path = arg.replace(/^unix:/, "");
try { fs.unlinkSync(path); } catch { /* fresh start */ }
const server = net.createServer((socket) => {
  socket.setEncoding("utf8");
  socket.on("data", (data) => socket.write(`pong ${data}`));
  socket.on("error", () => {});
});
server.listen(path, () => process.stderr.write(`test agent listening on ${path}\n`));
process.on("SIGTERM", () => {
  process.stderr.write("test agent got SIGTERM\n");
  server.close();
  process.exit(0);
});
