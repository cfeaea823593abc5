// Activates the extension and wires its parts together; each part owns one concern.
import * as vscode from "vscode";
import { registerClientCommands } from "./clientCommands";
import { registerCommands } from "./commands";
import { CLIENT_NAME, CONTEXT_ACTIVE } from "./constants";
import { ResourceLogs } from "./logs";
import { UpdateProgress } from "./progress";
import { ResourcesView } from "./resourcesView";
import { TiltServer } from "./server";
import { affectsServer } from "./settings";
import { StatusBar } from "./status";
import { UpdatesView } from "./updatesView";

let server: TiltServer | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(CLIENT_NAME);
  server = new TiltServer(output);
  const logs = new ResourceLogs(server);
  const updates = new UpdatesView(server);
  context.subscriptions.push(
    output,
    server,
    logs,
    updates,
    updates.onUpdate((u) => logs.updateStarted(u.name, u.at, u.reason)),
    new StatusBar(server),
    new ResourcesView(server),
    new UpdateProgress(server),
    ...registerCommands(server, logs, output),
    ...registerClientCommands(server, logs),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsServer(event)) {
        void server?.restart();
      }
    }),
  );
  await vscode.commands.executeCommand("setContext", CONTEXT_ACTIVE, true);
  await server.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
