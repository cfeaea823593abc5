// One output channel per resource, fed by tilt/log notifications and filled from tilt/logs.
import * as vscode from "vscode";
import { LogsResult, Request } from "./constants";
import { clock } from "./describe";
import { TiltServer } from "./server";

interface Channel {
  output: vscode.OutputChannel;
  /** Whether it holds the server's whole kept log (from tilt/logs), not just what streamed in. */
  filled: boolean;
}

export class ResourceLogs implements vscode.Disposable {
  private readonly channels = new Map<string, Channel>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly server: TiltServer) {
    this.subscriptions = [
      server.onLog(({ resource, lines }) => {
        if (lines.length > 0) {
          // Each line as it arrives, with the time it arrived.
          const now = `[${clock(Date.now() / 1000)}] `;
          this.channel(resource).output.append(lines.map((l) => now + l).join("\n") + "\n");
        }
      }),
      server.onDidChangeState((state) => {
        if (state === "starting") {
          // A new server keeps a new log: what the channels hold is history now.
          for (const [name, channel] of this.channels) {
            channel.filled = false;
            channel.output.appendLine(`---- tilt-lsp restarted; new log for ${name} below ----`);
          }
        }
      }),
    ];
  }

  /** Marks an update in the resource's log: when it ran and why. */
  updateStarted(resource: string, at: number, reason: string): void {
    this.channel(resource).output.appendLine(`──── ${clock(at)} update: ${reason} ────`);
  }

  /** Shows a resource's channel, first replacing its content with the server's kept log. */
  async show(resource: string): Promise<void> {
    const channel = this.channel(resource);
    if (!channel.filled && this.server.state === "running") {
      try {
        const result = await this.server.request<LogsResult>(Request.logs, { resource, lines: 0 });
        // Lines that streamed in before this answer were sent before it: the answer has them.
        channel.output.replace(result.lines.length ? result.lines.join("\n") + "\n" : "");
        channel.filled = true;
      } catch (error) {
        channel.output.appendLine(`(could not fetch the log: ${error instanceof Error ? error.message : String(error)})`);
      }
    }
    channel.output.show(true);
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
    for (const c of this.channels.values()) {
      c.output.dispose();
    }
    this.channels.clear();
  }

  private channel(resource: string): Channel {
    let channel = this.channels.get(resource);
    if (!channel) {
      channel = { output: vscode.window.createOutputChannel(`Tilt: ${resource}`, "log"), filled: false };
      this.channels.set(resource, channel);
    }
    return channel;
  }
}
