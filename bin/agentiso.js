#!/bin/sh
":" //; case " $* " in *" daemon "*) ;; *) [ -n "$NODE_EXTRA_CA_CERTS" ] && export AGENTISO_DEFERRED_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS" && unset NODE_EXTRA_CA_CERTS;; esac; exec node "$0" "$@"
// The `agentiso` command: the bundled CLI (built by `npm run build`).
//
// The line above is for sh, and a string plus a comment for node. Node 20 parses every
// certificate in $NODE_EXTRA_CA_CERTS before it runs a line of JS: with Debian's bundle that is
// ~45 ms of CPU, more than node's own start (~30 ms). The CLI makes no TLS connection (it talks
// to the daemon over a unix socket), so sh moves the variable aside and the CLI puts it back in
// its environment at once (src/cli/deferred-node-env.ts): what it starts — the daemon, git, npm —
// gets it as set. The daemon itself is started with it (its LLM proxy connects upstream over
// TLS). `node bin/agentiso.js` skips the sh line and just pays for the certificates.
import "../dist/cli.mjs";
