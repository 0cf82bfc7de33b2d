#!/usr/bin/env node
// The `agentiso` command: the bundled CLI (built by `npm run build`).
import "../dist/cli.mjs";
