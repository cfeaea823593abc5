// The Tilt Resources tree view: one item per resource with its state, fed by tilt/status.
import * as vscode from "vscode";
import { Command, RESOURCES_VIEW, ResourceStatus, TiltStatus } from "./constants";
import { describeResource, resourceIconName } from "./describe";
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

function resourceIcon(r: ResourceStatus): vscode.ThemeIcon {
  const { id, color } = resourceIconName(r);
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
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
