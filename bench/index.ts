// `npm run bench`: runs every benchmark part (bench/parts/*.ts) in one process and prints
// each part's numbers with a baseline measured in the same run. `npm run bench -- storage`
// runs only the parts whose file name contains "storage".
import { readdirSync } from "node:fs";
import { join } from "node:path";

export interface BenchPart {
  name: string;
  /** Returns a reason to skip, or undefined when the machine can run it. */
  unavailable?(): Promise<string | undefined>;
  run(report: (line: string) => void): Promise<void>;
}

const filter = process.argv.slice(2);
const dir = join(import.meta.dirname, "parts");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .filter((f) => filter.length === 0 || filter.some((word) => f.includes(word)))
  .sort();

let failed = false;
for (const file of files) {
  const part = (await import(join(dir, file))).default as BenchPart;
  const reason = await part.unavailable?.();
  if (reason) {
    console.log(`## ${part.name}: skipped (${reason})`);
    continue;
  }
  console.log(`## ${part.name}`);
  try {
    await part.run((line) => console.log(`  ${line}`));
  } catch (err) {
    failed = true;
    console.log(`  FAILED: ${err instanceof Error ? err.stack : String(err)}`);
  }
}
process.exitCode = failed ? 1 : 0;
