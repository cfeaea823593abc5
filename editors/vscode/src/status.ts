// The status-bar item: the aggregate state from tilt/status, or why there is none.
import * as vscode from "vscode";
import { RESOURCES_VIEW, TiltStatus } from "./constants";
import { describeStatus } from "./describe";
import { ServerState, TiltServer } from "./server";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("tiltLsp.status", vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];
  /** Whether the running server has sent a tilt/status yet. */
  private haveStatus = false;

  constructor(server: TiltServer) {
    this.item.name = "Tilt";
    this.item.command = `${RESOURCES_VIEW}.focus`;
    // The extension starts the server right after creating this item.
    this.showServerState(server.state === "stopped" ? "starting" : server.state);
    this.item.show();
    this.subscriptions = [
      server.onStatus((status) => this.showStatus(status)),
      server.onDidChangeState((state) => this.showServerState(state)),
    ];
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
    this.item.dispose();
  }

  private showStatus(status: TiltStatus): void {
    this.haveStatus = true;
    const { text, tooltip, error } = describeStatus(status);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  private showServerState(state: ServerState): void {
    const texts: Record<ServerState, [string, string]> = {
      starting: ["$(sync~spin) Tilt: starting", "tilt-lsp is starting and reading the Tiltfile"],
      running: ["$(sync~spin) Tilt: starting", "tilt-lsp is reading the Tiltfile"],
      stopped: ["$(circle-slash) Tilt: stopped", "tilt-lsp is not running: run Tilt: Restart Language Server"],
      notFound: ["$(warning) Tilt: no server", "tilt-lsp was not found: set tiltLsp.server.path"],
      failed: ["$(error) Tilt: server failed", "tilt-lsp failed to start: see the Tilt Language Server output"],
    };
    // A running server's own tilt/status says more than "running".
    if (state === "running" && this.haveStatus) {
      return;
    }
    if (state !== "running") {
      this.haveStatus = false;
    }
    const [text, tooltip] = texts[state];
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = state === "failed" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }
}
