// `agentiso image build NAME | ls [--json] | import FILE --name N | rm N`.
import { AgentisoError } from "../../core/errors.js";
import { formatBytes } from "../../config/size.js";
import type { CliCommand } from "../command.js";
import { requirePositionals, stringValue } from "../command.js";
import { table } from "../format.js";

export const imageCommand: CliCommand = {
  name: "image",
  usage: "image build NAME [--force] [--vm] | image ls [--json] | image import FILE --name N [--replace] | image rm NAME",
  summary: "build (base, rust, python, node, opencode), list, import or remove images; --vm (or runtime vm) also builds the microVM kernel + initramfs",
  options: { name: { type: "string" }, force: { type: "boolean" }, replace: { type: "boolean" }, vm: { type: "boolean" } },
  async run(ctx, values, positionals) {
    const [action, arg] = positionals;
    const { createImageLibrary, ensureVmBootFiles } = await import("../../compose/engine-factory.js");
    const library = createImageLibrary(ctx.config, ctx.logger);
    switch (action) {
      case "build": {
        requirePositionals(this, positionals, 2);
        const info = await library.build(arg!, { force: values.force === true });
        const boot = values.vm === true || ctx.config.runtime.default === "vm" ? await ensureVmBootFiles(ctx.config, ctx.logger) : undefined;
        if (values.json) ctx.json({ ...info.manifest, ...(boot && { vmBoot: boot }) });
        else ctx.out(`${info.name} ${info.manifest.hash.slice(0, 12)} ${formatBytes(info.manifest.sizeBytes)}\n${boot ? `vm kernel ${boot.kernelVersion}: ${boot.kernelPath}, initramfs ${boot.initrdPath}\n` : ""}`);
        return 0;
      }
      case "ls":
      case "list": {
        const images = await library.list();
        if (values.json) ctx.json(images.map((i) => i.manifest));
        else ctx.out(table(images.map((i) => [i.name, i.manifest.hash.slice(0, 12), formatBytes(i.manifest.sizeBytes), i.manifest.createdAt]), ["NAME", "HASH", "SIZE", "CREATED"]));
        return 0;
      }
      case "import": {
        requirePositionals(this, positionals, 2);
        const name = stringValue(values, "name");
        if (!name) throw new AgentisoError("INVALID_INPUT", "image import needs --name N");
        const info = await library.import(arg!, name, { replace: values.replace === true });
        if (values.json) ctx.json(info.manifest);
        else ctx.out(`${info.name} imported (${formatBytes(info.manifest.sizeBytes)})\n`);
        return 0;
      }
      case "rm": {
        requirePositionals(this, positionals, 2);
        await library.remove(arg!);
        ctx.out(`${arg} removed\n`);
        return 0;
      }
      default:
        throw new AgentisoError("INVALID_INPUT", `usage: agentiso ${this.usage}`);
    }
  },
};
