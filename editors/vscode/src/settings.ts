// Reads the extension's settings and finds the tilt-lsp executable.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import { CONFIG_SECTION } from "./constants";

export interface Settings {
  /** Explicit server path from `tiltLsp.server.path` (expanded), or undefined. */
  serverPath: string | undefined;
  serverArgs: string[];
  /** `tiltLsp.server.logLevel`: the server's own log level, or undefined for its default. */
  logLevel: string | undefined;
  /** `tiltLsp.tiltfile`, relative to the workspace folder, or undefined. */
  tiltfile: string | undefined;
}

export function readSettings(folder: vscode.WorkspaceFolder | undefined): Settings {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION, folder);
  const serverPath = config.get<string>("server.path", "").trim();
  const args = config.get<unknown>("server.args", []);
  const tiltfile = config.get<string>("tiltfile", "").trim();
  const level = config.get<string>("server.logLevel", "default").toUpperCase();
  return {
    logLevel: ["DEBUG", "INFO", "WARNING", "ERROR"].includes(level) ? level : undefined,
    serverPath: serverPath ? expand(serverPath, folder) : undefined,
    serverArgs: Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [],
    tiltfile: tiltfile ? expand(tiltfile, folder) : undefined,
  };
}

/** Whether a configuration change needs the server restarted. */
export function affectsServer(event: vscode.ConfigurationChangeEvent): boolean {
  return ["server.path", "server.args", "server.logLevel", "tiltfile"].some((key) =>
    event.affectsConfiguration(`${CONFIG_SECTION}.${key}`),
  );
}

function expand(value: string, folder: vscode.WorkspaceFolder | undefined): string {
  let out = value;
  if (out === "~" || out.startsWith("~/")) {
    out = path.join(os.homedir(), out.slice(1));
  }
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder.uri.fsPath);
  }
  return out;
}

export interface ServerExecutable {
  command: string;
  /** Where it was found, for the output channel. */
  origin: string;
}

const EXE = process.platform === "win32" ? "tilt-lsp.exe" : "tilt-lsp";
const VENV_BIN = process.platform === "win32" ? "Scripts" : "bin";

/**
 * The setting if set, else the workspace's Python environment (`.venv`, then `venv`),
 * else `tilt-lsp` on PATH; undefined when none exists.
 */
export function findServer(settings: Settings, folder: vscode.WorkspaceFolder | undefined): ServerExecutable | undefined {
  if (settings.serverPath) {
    const command = folder && !path.isAbsolute(settings.serverPath)
      ? path.join(folder.uri.fsPath, settings.serverPath)
      : settings.serverPath;
    return { command, origin: "setting tiltLsp.server.path" };
  }
  if (folder) {
    for (const venv of [".venv", "venv"]) {
      const candidate = path.join(folder.uri.fsPath, venv, VENV_BIN, EXE);
      if (isExecutable(candidate)) {
        return { command: candidate, origin: `workspace ${venv}` };
      }
    }
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, EXE);
    if (isExecutable(candidate)) {
      return { command: candidate, origin: "PATH" };
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The workspace folder tilt-lsp serves: the first one holding a Tiltfile, else the first. */
export function tiltFolder(): vscode.WorkspaceFolder | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  return folders.find((f) => fs.existsSync(path.join(f.uri.fsPath, "Tiltfile"))) ?? folders[0];
}
