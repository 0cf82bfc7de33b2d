// The microVM guest's kernel and initramfs (see guest-boot-files.ts).
export { ensureGuestBootFiles, type GuestBootFiles, type GuestBootOptions } from "./guest-boot-files.js";
export type { InitrdCompression } from "./initramfs.js";
