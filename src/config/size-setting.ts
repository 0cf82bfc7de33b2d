// A size in the config file: bytes, or text like "512M" or "16G", parsed to bytes with the
// parser's own message on a bad one.
import { z } from "zod";
import { parseSizeBytes } from "./size.js";

export const SizeSetting = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseSizeBytes(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});
