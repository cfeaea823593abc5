// Commands the server puts in code lenses and code actions (tilt.showLogs, tilt.openLink):
// the editor carries them out, since they show things rather than change them.
import * as vscode from "vscode";
import { ClientCommand, Command, LogsResult, Request } from "./constants";
import { ResourceLogs } from "./logs";
import { TiltServer } from "./server";

const AROUND = 30;

export function registerClientCommands(server: TiltServer, logs: ResourceLogs): vscode.Disposable[] {
  const openLink = (url: unknown) => {
    if (typeof url === "string" && /^https?:\/\//.test(url)) {
      void vscode.env.openExternal(vscode.Uri.parse(url));
    }
  };
  return [
    vscode.commands.registerCommand(ClientCommand.showLogs, async (arg?: unknown) => {
      const { resource, around } = (arg ?? {}) as { resource?: unknown; around?: unknown };
      if (typeof resource !== "string") {
        return;
      }
      if (typeof around === "string" && around) {
        await showAround(server, resource, around);
      } else {
        await logs.show(resource);
      }
    }),
    vscode.commands.registerCommand(ClientCommand.openLink, openLink),
    vscode.commands.registerCommand(Command.openLink, openLink),
  ];
}

/** The lines of a resource's log around the last line that mentions the error. */
async function showAround(server: TiltServer, resource: string, around: string): Promise<void> {
  const result = await server.request<LogsResult>(Request.logs, { resource, lines: 0 });
  const lines = result.lines;
  let at = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].includes(around)) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    void vscode.window.showInformationMessage(`Tilt: the log of ${resource} no longer holds "${around}".`);
    return;
  }
  const start = Math.max(0, at - AROUND);
  const excerpt = lines.slice(start, at + AROUND + 1);
  const doc = await vscode.workspace.openTextDocument({ content: excerpt.join("\n"), language: "log" });
  const editor = await vscode.window.showTextDocument(doc, { preview: true });
  const line = at - start;
  editor.selection = new vscode.Selection(line, 0, line, excerpt[line].length);
  editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenter);
}
