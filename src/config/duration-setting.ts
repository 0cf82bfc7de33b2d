// A duration in the config file: seconds, or text like "30m" or "2h", parsed to whole seconds
// (null for "none"), with the parser's own message on a bad one.
import { z } from "zod";
import { parseDurationSeconds } from "./duration.js";

export const DurationSetting = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDurationSeconds(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});
