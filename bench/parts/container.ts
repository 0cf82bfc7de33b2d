// Container runtime benchmark: start to ready, first and later exec, network switches, stop —
// under crun, with the same steps under runc as the baseline (same run, same rootfs).
import type { BenchPart } from "../index.js";
import { benchContainerRuntime, benchLines } from "../../test/support/runtime-bench.js";
import { ociRuntimesToTest } from "../../test/support/oci-runtimes.js";

const part: BenchPart = {
  name: "container runtime (start/exec/stop; crun against runc)",
  async unavailable() {
    return process.getuid?.() === 0 ? undefined : "needs root";
  },
  async run(report) {
    const usable = await ociRuntimesToTest();
    for (const oci of usable.filter((o) => o.skip !== false)) report(`skipped: ${oci.skip}`);
    const runc = usable.some((o) => o.name === "runc" && o.skip === false) ? await benchContainerRuntime(8, "runc") : undefined;
    if (runc) for (const line of benchLines(runc)) report(`runc  ${line}`);
    if (usable.some((o) => o.name === "crun" && o.skip === false)) for (const line of benchLines(await benchContainerRuntime(8, "crun"), runc)) report(`crun  ${line}`);
  },
};

export default part;
