// Names shared with the server: keep in sync with tilt_lsp/lsp/protocol.py and docs/protocol.md.

/** workspace/executeCommand commands; each takes the resource name as its first argument. */
export const ServerCommand = {
  restart: "tilt.restart",
  rebuild: "tilt.rebuild",
  trigger: "tilt.trigger",
  enable: "tilt.enable",
  disable: "tilt.disable",
} as const;
export type ServerCommandName = (typeof ServerCommand)[keyof typeof ServerCommand];

/** Custom requests (client → server). */
export const Request = {
  resources: "tilt/resources",
  logs: "tilt/logs",
} as const;

/** Custom notifications (server → client). */
export const Notification = {
  status: "tilt/status",
  log: "tilt/log",
} as const;

/** The resource name under which the server keeps the Tiltfile's own output. */
export const TILTFILE_LOG = "(Tiltfile)";

// The extension's own ids: commands, views, settings, context keys.

export const Command = {
  restartResource: "tiltLsp.restartResource",
  rebuildResource: "tiltLsp.rebuildResource",
  triggerResource: "tiltLsp.triggerResource",
  enableResource: "tiltLsp.enableResource",
  disableResource: "tiltLsp.disableResource",
  showLogs: "tiltLsp.showLogs",
  openTiltfile: "tiltLsp.openTiltfile",
  restartServer: "tiltLsp.restartServer",
  showServerOutput: "tiltLsp.showServerOutput",
  openLink: "tiltLsp.openLink",
} as const;

/** Commands the server puts in code lenses and code actions, implemented by the client. */
export const ClientCommand = {
  showLogs: "tilt.showLogs",
  openLink: "tilt.openLink",
} as const;

export const RESOURCES_VIEW = "tiltLsp.resources";
export const UPDATES_VIEW = "tiltLsp.updates";
export const CONFIG_SECTION = "tiltLsp";
export const CONTEXT_ACTIVE = "tiltLsp.active";
export const CLIENT_ID = "tiltLsp";
export const CLIENT_NAME = "Tilt Language Server";

// Shapes of the custom messages (docs/protocol.md).

export type AggregateState = "building" | "error" | "ok";

export interface ResourceStatus {
  name: string;
  kind: string;
  enabled: boolean;
  triggerMode: string;
  buildStatus: string;
  runtimeStatus: string;
  pid: number | null;
  exitCode: number | null;
  lastError: string | null;
  pendingChanges: string[];
  waitingFor: string | null;
  updateCount: number;
  startCount: number;
  lastUpdateReason: string | null;
  lastUpdateAt: number | null;
  logTail: string[];
  /** The state in plain words ("ready", "update failed", "waiting for db"); newer servers. */
  summary?: string;
  /** Links, port forwards and published ports; newer servers. */
  endpoints?: string[];
}

export interface TiltStatus {
  state: AggregateState;
  errors: number;
  warnings: number;
  building: string[];
  tiltfile: { path: string | null; error: string | null };
  resources: ResourceStatus[];
}

export interface LogParams {
  resource: string;
  lines: string[];
}

export interface LogsResult {
  resource: string;
  lines: string[];
}
