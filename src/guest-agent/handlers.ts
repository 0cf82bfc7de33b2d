// Which handler answers which request type: the one table the connection dispatches on.
import { handleExec, handleJobKill, handleJobList, handleJobPoll, handleJobStart } from "./exec-handlers.js";
import {
  handleFileEdit, handleFileList, handleFileMkdir, handleFileRead, handleFileRemove, handleFileStat, handleFileWrite,
} from "./file-handlers.js";
import type { HandlerTable } from "./request-context.js";
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
  file_read: handleFileRead,
  file_write: handleFileWrite,
  file_edit: handleFileEdit,
  file_list: handleFileList,
  file_stat: handleFileStat,
  file_mkdir: handleFileMkdir,
  file_remove: handleFileRemove,
  file_upload: handleFileUpload,
  file_download: handleFileDownload,
  set_env: handleSetEnv,
  unset_env: handleUnsetEnv,
  configure: handleConfigure,
  tunnel_open: handleTunnelOpen,
  tunnel_listen: handleTunnelListen,
  shutdown: handleShutdown,
};
