// The Tilt Updates view: each update as it happens, newest first, with its time and why it
// ran ("greeting.py changed", "restart asked", …). Click one for that resource's log.
import * as vscode from "vscode";
import { Command, ResourceStatus, UPDATES_VIEW } from "./constants";
import { clock, newUpdates } from "./describe";
import { TiltServer } from "./server";

const KEEP = 200;

interface Update {
  name: string;
  at: number;
  reason: string;
}

export class UpdatesView implements vscode.TreeDataProvider<Update>, vscode.Disposable {
  private updates: Update[] = [];
  private last: ResourceStatus[] = [];
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** Fired for each new update, for the log channels. */
  private readonly updateEmitter = new vscode.EventEmitter<Update>();
  readonly onUpdate = this.updateEmitter.event;

  constructor(server: TiltServer) {
    this.subscriptions = [
      vscode.window.createTreeView(UPDATES_VIEW, { treeDataProvider: this }),
      this.changed,
      this.updateEmitter,
      server.onStatus((status) => {
        const fresh = newUpdates(this.last, status.resources);
        this.last = status.resources;
        if (fresh.length > 0) {
          this.updates = [...fresh.reverse(), ...this.updates].slice(0, KEEP);
          fresh.forEach((u) => this.updateEmitter.fire(u));
          this.changed.fire(undefined);
        }
      }),
      server.onDidChangeState((state) => {
        if (state === "starting") {
          this.last = []; // a new server counts updates from zero
        }
      }),
    ];
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
  }

  getChildren(element?: Update): Update[] {
    return element ? [] : this.updates;
  }

  getTreeItem(u: Update): vscode.TreeItem {
    const item = new vscode.TreeItem(`${clock(u.at)}  ${u.name}`, vscode.TreeItemCollapsibleState.None);
    item.description = u.reason;
    item.tooltip = `${u.name} updated at ${clock(u.at)}: ${u.reason}`;
    item.iconPath = new vscode.ThemeIcon("history");
    item.command = { command: Command.showLogs, title: "Show Logs", arguments: [u.name] };
    return item;
  }
}
