// Starts, restarts and stops the tilt-lsp language client; the one place that owns it.
import * as vscode from "vscode";
import {
  CloseAction,
  CloseHandlerResult,
  ErrorAction,
  ErrorHandler,
  ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { CLIENT_ID, CLIENT_NAME, Command, LogParams, Notification, ServerCommandName, TiltStatus } from "./constants";
import { problemSource } from "./describe";
import { findServer, readSettings, tiltFolder } from "./settings";

/** The server process as the rest of the extension sees it. */
export type ServerState = "stopped" | "starting" | "running" | "notFound" | "failed";

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** Restarts a crashed server, up to MAX_RESTARTS times in RESTART_WINDOW_MS. */
class RestartOnCrash implements ErrorHandler {
  private crashes: number[] = [];

  constructor(private readonly output: vscode.OutputChannel) {}

  error(_error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    // A few bad messages are survivable; a broken stream is not.
    return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS);
    this.crashes.push(now);
    if (this.crashes.length <= MAX_RESTARTS) {
      this.output.appendLine(`tilt-lsp exited unexpectedly; restarting (${this.crashes.length}/${MAX_RESTARTS}).`);
      return { action: CloseAction.Restart, handled: true };
    }
    return {
      action: CloseAction.DoNotRestart,
      message: `tilt-lsp crashed ${MAX_RESTARTS} times in 3 minutes and was not restarted. ` +
        `See the "${CLIENT_NAME}" output, then run "Tilt: Restart Language Server".`,
    };
  }
}

export class TiltServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private clientSubscriptions: vscode.Disposable[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private currentState: ServerState = "stopped";

  private readonly statusEmitter = new vscode.EventEmitter<TiltStatus>();
  private readonly logEmitter = new vscode.EventEmitter<LogParams>();
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  /** Every tilt/status notification. */
  readonly onStatus = this.statusEmitter.event;
  /** Every tilt/log notification (initializationOptions.logNotifications is on). */
  readonly onLog = this.logEmitter.event;
  /** Server state changes; "running" again after a restart means the server's state is new. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(private readonly output: vscode.OutputChannel) {}

  get state(): ServerState {
    return this.currentState;
  }

  start(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  /** Sends a custom request; fails with a readable error when the server is not running. */
  async request<R>(method: string, params: object): Promise<R> {
    return this.running().sendRequest<R>(method, params);
  }

  /** Runs one of the server's tilt.* commands on a resource. */
  async executeCommand(command: ServerCommandName, resource: string): Promise<unknown> {
    return this.running().sendRequest(ExecuteCommandRequest.type, { command, arguments: [resource] });
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
    this.logEmitter.dispose();
    this.stateEmitter.dispose();
  }

  private running(): LanguageClient {
    if (!this.client || this.currentState !== "running") {
      throw new Error(`the tilt-lsp server is ${this.currentState === "notFound" ? "not installed" : this.currentState}`);
    }
    return this.client;
  }

  // Start/stop/restart run one at a time, in the order asked.
  private serialize(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private setState(state: ServerState): void {
    if (state !== this.currentState) {
      this.currentState = state;
      this.stateEmitter.fire(state);
    }
  }

  private async doStart(): Promise<void> {
    const folder = tiltFolder();
    const settings = readSettings(folder);
    const server = findServer(settings, folder);
    if (!server) {
      this.setState("notFound");
      this.output.appendLine("tilt-lsp not found: set tiltLsp.server.path, or install tilt-lsp in the workspace's .venv or on PATH.");
      void vscode.window
        .showErrorMessage(
          "Tilt: tilt-lsp was not found. Install it (`pip install tilt-lsp` in the workspace's .venv) or set tiltLsp.server.path.",
          "Open Settings",
        )
        .then((choice) => {
          if (choice) {
            void vscode.commands.executeCommand("workbench.action.openSettings", "tiltLsp.server");
          }
        });
      return;
    }
    const level = settings.logLevel ? ["--log-level", settings.logLevel] : [];
    const args = ["serve", ...level, ...settings.serverArgs];
    this.output.appendLine(`Starting ${server.command} ${args.join(" ")} (from ${server.origin})`);
    const serverOptions: ServerOptions = {
      command: server.command,
      args,
      options: { cwd: folder?.uri.fsPath },
    };
    const clientOptions: LanguageClientOptions = {
      // Every saved file can be a change that a resource watches.
      documentSelector: [{ scheme: "file" }],
      workspaceFolder: folder,
      outputChannel: this.output,
      errorHandler: new RestartOnCrash(this.output),
      middleware: {
        // The Problems panel shows `source(code)`: "tilt-lsp: calc(python)" reads better than
        // the protocol's "tilt-lsp (calc)(python)". Changed in place, so `data` (which the
        // server's quick fixes read) stays with each diagnostic.
        handleDiagnostics: (uri, diagnostics, next) => {
          for (const d of diagnostics) {
            d.source = problemSource(d.source);
          }
          next(uri, diagnostics);
        },
      },
      // Read at each (re)start, so a restart picks up a changed setting.
      initializationOptions: () => {
        const current = readSettings(folder);
        return {
          logNotifications: true,
          ...(current.tiltfile ? { tiltfile: current.tiltfile } : {}),
        };
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    this.clientSubscriptions = [
      client.onNotification(Notification.status, (status: TiltStatus) => this.statusEmitter.fire(status)),
      client.onNotification(Notification.log, (params: LogParams) => this.logEmitter.fire(params)),
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) {
          this.setState("running");
        } else if (e.newState === State.Starting) {
          this.setState("starting");
        } else if (this.client === client) {
          this.setState("stopped");
        }
      }),
    ];
    this.client = client;
    this.setState("starting");
    try {
      await client.start();
    } catch (error) {
      this.setState("failed");
      const message = error instanceof Error ? error.message : String(error);
      this.output.appendLine(`tilt-lsp failed to start: ${message}`);
      void vscode.window
        .showErrorMessage(`Tilt: tilt-lsp failed to start: ${message}`, "Show Output")
        .then((choice) => {
          if (choice) {
            void vscode.commands.executeCommand(Command.showServerOutput);
          }
        });
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        // Sends shutdown + exit; the server stops every process it started.
        await client.dispose();
      } catch (error) {
        this.output.appendLine(`stopping tilt-lsp: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const d of this.clientSubscriptions) {
      d.dispose();
    }
    this.clientSubscriptions = [];
    this.setState("stopped");
  }
}
