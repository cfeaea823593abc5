// The Tilt Resources tree view: one item per resource with its state, fed by tilt/status.
import * as vscode from "vscode";
import { Command, RESOURCES_VIEW, ResourceStatus, TiltStatus } from "./constants";
import { TiltServer } from "./server";

export class ResourcesView implements vscode.TreeDataProvider<ResourceStatus>, vscode.Disposable {
  private resources: ResourceStatus[] = [];
  private readonly changed = new vscode.EventEmitter<ResourceStatus | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<ResourceStatus>;
  private readonly subscriptions: vscode.Disposable[];

  constructor(server: TiltServer) {
    this.view = vscode.window.createTreeView(RESOURCES_VIEW, { treeDataProvider: this, showCollapseAll: false });
    this.subscriptions = [
      this.view,
      this.changed,
      server.onStatus((status) => this.update(status)),
      server.onDidChangeState((state) => {
        if (state !== "running") {
          this.resources = [];
          this.view.badge = undefined;
          this.view.message = state === "starting" ? undefined : `tilt-lsp is ${state === "notFound" ? "not installed" : state}.`;
          this.changed.fire(undefined);
        } else {
          this.view.message = undefined;
        }
      }),
    ];
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
  }

  getChildren(element?: ResourceStatus): ResourceStatus[] {
    return element ? [] : this.resources;
  }

  getTreeItem(r: ResourceStatus): vscode.TreeItem {
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = r.name;
    item.description = describeResource(r);
    item.iconPath = resourceIcon(r);
    item.contextValue = `tiltResource.${r.enabled ? "enabled" : "disabled"}.${r.triggerMode.startsWith("manual") ? "manual" : "auto"}`;
    item.tooltip = resourceTooltip(r);
    item.command = { command: Command.showLogs, title: "Show Logs", arguments: [r.name] };
    return item;
  }

  private update(status: TiltStatus): void {
    this.resources = status.resources;
    const n = status.errors;
    this.view.badge = n > 0 ? { value: n, tooltip: `${n} ${n === 1 ? "error" : "errors"}` } : undefined;
    this.view.message = status.tiltfile.error ? `Tiltfile: ${status.tiltfile.error}` : undefined;
    this.changed.fire(undefined);
  }
}

/** Pure: the short state shown next to a resource's name. */
export function describeResource(r: ResourceStatus): string {
  if (!r.enabled) {
    return "disabled";
  }
  let text: string;
  switch (r.buildStatus) {
    case "building":
      text = "building";
      break;
    case "pending":
      text = r.waitingFor ? `waiting for ${r.waitingFor}` : "pending";
      break;
    case "error":
      text = "build failed";
      break;
    default:
      text = describeRuntime(r);
  }
  if (r.pendingChanges.length > 0) {
    const n = r.pendingChanges.length;
    text += ` · ${n} pending ${n === 1 ? "change" : "changes"}`;
  }
  return text;
}

function describeRuntime(r: ResourceStatus): string {
  const pid = r.pid != null ? ` · pid ${r.pid}` : "";
  switch (r.runtimeStatus) {
    case "ready":
    case "running":
    case "starting":
      return `${r.runtimeStatus}${pid}`;
    case "crashed":
      return r.exitCode != null ? `crashed (exit ${r.exitCode})` : "crashed";
    case "exited":
      return "exited";
    case "none":
      return r.buildStatus === "ok" ? "ok" : r.buildStatus;
    default:
      return r.runtimeStatus.replace("_", " ");
  }
}

function resourceIcon(r: ResourceStatus): vscode.ThemeIcon {
  if (!r.enabled) {
    return new vscode.ThemeIcon("circle-slash");
  }
  if (r.buildStatus === "building" || r.runtimeStatus === "starting") {
    return new vscode.ThemeIcon("sync~spin");
  }
  if (r.buildStatus === "error" || r.runtimeStatus === "crashed") {
    return new vscode.ThemeIcon("error", new vscode.ThemeColor("errorForeground"));
  }
  if (r.buildStatus === "pending") {
    return new vscode.ThemeIcon("clock");
  }
  if (r.runtimeStatus === "running") {
    return new vscode.ThemeIcon("circle-filled");
  }
  return new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed"));
}

function resourceTooltip(r: ResourceStatus): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${r.name}** (${r.kind}, trigger ${r.triggerMode})\n\n`);
  md.appendMarkdown(`build: ${r.buildStatus} · runtime: ${r.runtimeStatus}`);
  if (r.pid != null) {
    md.appendMarkdown(` · pid ${r.pid}`);
  }
  md.appendMarkdown(`\n\nupdates: ${r.updateCount} · starts: ${r.startCount}`);
  if (r.lastUpdateReason) {
    md.appendMarkdown(` · last update: ${r.lastUpdateReason}`);
  }
  if (r.lastError) {
    md.appendMarkdown("\n\n");
    md.appendCodeblock(r.lastError, "text");
  }
  return md;
}
