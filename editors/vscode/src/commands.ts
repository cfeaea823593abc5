// The palette and tree-view commands.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { ResourceLogs } from "./logs";
import { Command, Request, ServerCommand, ServerCommandName, TILTFILE_LOG, TiltStatus } from "./constants";
import { describeResource } from "./describe";
import { TiltServer } from "./server";
import { readSettings, tiltFolder } from "./settings";

export function registerCommands(server: TiltServer, logs: ResourceLogs, output: vscode.OutputChannel): vscode.Disposable[] {
  const onResource = (command: ServerCommandName, verb: string) => async (arg?: unknown) => {
    const name = resourceName(arg) ?? (await pickResource(server, `Resource to ${verb}`));
    if (!name) {
      return;
    }
    try {
      await server.executeCommand(command, name);
      vscode.window.setStatusBarMessage(`Tilt: ${verb} ${name}`, 3000);
    } catch (error) {
      void vscode.window.showErrorMessage(`Tilt: could not ${verb} ${name}: ${errorText(error)}`);
    }
  };
  const reg = vscode.commands.registerCommand;
  return [
    reg(Command.restartResource, onResource(ServerCommand.restart, "restart")),
    reg(Command.rebuildResource, onResource(ServerCommand.rebuild, "rebuild")),
    reg(Command.triggerResource, onResource(ServerCommand.trigger, "trigger")),
    reg(Command.enableResource, onResource(ServerCommand.enable, "enable")),
    reg(Command.disableResource, onResource(ServerCommand.disable, "disable")),
    reg(Command.showLogs, async (arg?: unknown) => {
      const name = resourceName(arg) ?? (await pickResource(server, "Show the log of", true));
      if (name) {
        await logs.show(name);
      }
    }),
    reg(Command.openTiltfile, () => openTiltfile(server)),
    reg(Command.restartServer, () => server.restart()),
    reg(Command.showServerOutput, () => output.show(true)),
  ];
}

/** The resource a command was invoked on: a name, a view node, or {resource}. */
function resourceName(arg: unknown): string | undefined {
  if (typeof arg === "string" && arg) {
    return arg;
  }
  if (arg && typeof arg === "object") {
    const { name, resource, r } = arg as { name?: unknown; resource?: unknown; r?: { name?: unknown } };
    if (r && typeof r.name === "string") {
      return r.name; // a Tilt Resources view node
    }
    if (typeof name === "string") {
      return name;
    }
    if (typeof resource === "string") {
      return resource;
    }
  }
  return undefined;
}

async function pickResource(server: TiltServer, placeHolder: string, withTiltfile = false): Promise<string | undefined> {
  let status: TiltStatus;
  try {
    status = await server.request<TiltStatus>(Request.resources, {});
  } catch (error) {
    void vscode.window.showErrorMessage(`Tilt: no resources: ${errorText(error)}`);
    return undefined;
  }
  const items: vscode.QuickPickItem[] = status.resources.map((r) => ({
    label: r.name,
    description: describeResource(r),
    detail: r.lastError ?? undefined,
  }));
  if (withTiltfile) {
    items.push({ label: TILTFILE_LOG, description: "the Tiltfile's own output" });
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage("Tilt: the Tiltfile defines no resources.");
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
  return picked?.label;
}

async function openTiltfile(server: TiltServer): Promise<void> {
  let file: string | undefined;
  if (server.state === "running") {
    try {
      file = (await server.request<TiltStatus>(Request.resources, {})).tiltfile.path ?? undefined;
    } catch {
      // Fall back to the settings below.
    }
  }
  if (!file) {
    const folder = tiltFolder();
    const configured = readSettings(folder).tiltfile ?? "Tiltfile";
    file = folder && !path.isAbsolute(configured) ? path.join(folder.uri.fsPath, configured) : configured;
  }
  if (!fs.existsSync(file)) {
    void vscode.window.showErrorMessage(`Tilt: no Tiltfile at ${file} (setting tiltLsp.tiltfile).`);
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
