// Which handler answers which request type: the one table the connection dispatches on.
// Typed by the protocol's REQUEST_REPLIES, so a handler that answers the wrong reply fails tsc.
import { handleExec, handleJobKill, handleJobList, handleJobPoll, handleJobStart } from "./exec-handlers.js";
import { handleJobFollow } from "./job-follow.js";
import {
  handleFileEdit, handleFileList, handleFileMkdir, handleFileRead, handleFileMove, handleFileRemove, handleFileStat, handleFileWrite,
} from "./file-handlers.js";
import type { RequestOf } from "../protocol/index.js";
import { handlePtyOpen } from "./pty-handlers.js";
import type { HandledType, HandlerReply, HandlerTable, RequestContext } from "./request-context.js";
import { handleConfigure, handlePing, handleSetEnv, handleShutdown, handleUnsetEnv } from "./system-handlers.js";
import { handleFileDownload, handleFileUpload } from "./transfer-handlers.js";
import { handleTunnelListen, handleTunnelOpen } from "./tunnel-handlers.js";

export const HANDLERS: HandlerTable = {
  ping: handlePing,
  exec: handleExec,
  job_start: handleJobStart,
  job_poll: handleJobPoll,
  job_kill: handleJobKill,
  job_list: handleJobList,
  job_follow: handleJobFollow,
  file_read: handleFileRead,
  file_write: handleFileWrite,
  file_edit: handleFileEdit,
  file_list: handleFileList,
  file_stat: handleFileStat,
  file_mkdir: handleFileMkdir,
  file_remove: handleFileRemove,
  file_move: handleFileMove,
  file_upload: handleFileUpload,
  file_download: handleFileDownload,
  set_env: handleSetEnv,
  unset_env: handleUnsetEnv,
  configure: handleConfigure,
  tunnel_open: handleTunnelOpen,
  tunnel_listen: handleTunnelListen,
  shutdown: handleShutdown,
  pty_open: handlePtyOpen,
};

// Runs the handler of the request's type; it resolves to the reply REQUEST_REPLIES pairs with that type.
export function runHandler<T extends HandledType>(type: T, request: RequestOf<T>, ctx: RequestContext): Promise<HandlerReply<T>> {
  return HANDLERS[type](request, ctx);
}
