// Container runtime benchmark: start to ready, first and later exec, network switches, stop.
import type { BenchPart } from "../index.js";
import { benchContainerRuntime } from "../../test/support/runtime-bench.js";

const part: BenchPart = {
  name: "container runtime (runc start/exec/stop)",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    for (const line of await benchContainerRuntime(8)) report(line);
  },
};

export default part;
