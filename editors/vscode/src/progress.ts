// A progress notification for each update that takes longer than half a second: short ones
// would only flicker. Fed by tilt/status ("building" lists the resources being updated).
import * as vscode from "vscode";
import { TiltServer } from "./server";

const SHOW_AFTER_MS = 500;

export class UpdateProgress implements vscode.Disposable {
  private readonly active = new Map<string, { timer?: NodeJS.Timeout; done?: () => void }>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(server: TiltServer) {
    this.subscriptions = [
      server.onStatus((status) => this.update(new Set(status.building))),
      server.onDidChangeState((state) => {
        if (state !== "running") {
          this.update(new Set());
        }
      }),
    ];
  }

  dispose(): void {
    this.update(new Set());
    for (const d of this.subscriptions) {
      d.dispose();
    }
  }

  private update(building: Set<string>): void {
    for (const [name, entry] of this.active) {
      if (!building.has(name)) {
        clearTimeout(entry.timer);
        entry.done?.();
        this.active.delete(name);
      }
    }
    for (const name of building) {
      if (this.active.has(name)) {
        continue;
      }
      const entry: { timer?: NodeJS.Timeout; done?: () => void } = {};
      entry.timer = setTimeout(() => {
        void vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Tilt: updating ${name}…` },
          () => new Promise<void>((resolve) => (entry.done = resolve)),
        );
      }, SHOW_AFTER_MS);
      this.active.set(name, entry);
    }
  }
}
