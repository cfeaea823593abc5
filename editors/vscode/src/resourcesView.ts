// The Tilt Resources view (in Tilt's own activity-bar container): one item per resource with
// its state; expanded, its endpoints (click to open), pid, last update and last error.
import * as vscode from "vscode";
import { Command, RESOURCES_VIEW, ResourceStatus, TiltStatus } from "./constants";
import { describeResource, resourceDetails, resourceIconName } from "./describe";
import { TiltServer } from "./server";

type Node = { kind: "resource"; r: ResourceStatus } | { kind: "detail"; r: ResourceStatus; label: string; value: string; link?: string };

export class ResourcesView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private resources: ResourceStatus[] = [];
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly subscriptions: vscode.Disposable[];

  constructor(server: TiltServer) {
    this.view = vscode.window.createTreeView(RESOURCES_VIEW, { treeDataProvider: this, showCollapseAll: true });
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

  getChildren(element?: Node): Node[] {
    if (!element) {
      return this.resources.map((r) => ({ kind: "resource", r }));
    }
    if (element.kind === "resource") {
      return resourceDetails(element.r).map((d) => ({ kind: "detail", r: element.r, ...d }));
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "detail") {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = `${node.r.name}/${node.label}/${node.value}`;
      item.description = node.value;
      item.tooltip = node.value;
      if (node.link) {
        item.iconPath = new vscode.ThemeIcon("link-external");
        item.command = { command: Command.openLink, title: "Open", arguments: [node.link] };
        item.contextValue = "tiltEndpoint";
      }
      return item;
    }
    const r = node.r;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.Collapsed);
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
  md.appendMarkdown(`**${r.name}**: ${describeResource(r)}\n\n`);
  for (const d of resourceDetails(r)) {
    if (d.label !== "last error") {
      md.appendMarkdown(`${d.label}: ${d.value}  \n`);
    }
  }
  if (r.lastError) {
    md.appendMarkdown("\n");
    md.appendCodeblock(r.lastError, "text");
  }
  return md;
}
