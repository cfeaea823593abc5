// Pure translations of tilt/status into what the UI shows; no vscode import, so unit-testable.
import { ResourceStatus, TiltStatus } from "./constants";

/** Pure: what the status bar says for one tilt/status. */
export function describeStatus(status: TiltStatus): { text: string; tooltip: string; error: boolean } {
  const lines: string[] = [];
  for (const r of status.resources) {
    lines.push(`${r.name}: ${describeResource(r)}`);
  }
  if (status.tiltfile.error) {
    lines.unshift(`Tiltfile: ${status.tiltfile.error}`);
  }
  const tooltip = lines.length ? lines.join("\n") : "No resources";
  if (status.state === "building") {
    const names = status.building.length ? ` ${status.building.join(", ")}` : "";
    return { text: "$(sync~spin) Tilt: building", tooltip: `Building${names}\n${tooltip}`, error: false };
  }
  if (status.state === "error") {
    const n = status.errors;
    const text = n > 0 ? `$(error) Tilt: ${n} ${n === 1 ? "error" : "errors"}` : "$(error) Tilt: error";
    return { text, tooltip, error: true };
  }
  const warnings = status.warnings > 0 ? ` (${status.warnings} ${status.warnings === 1 ? "warning" : "warnings"})` : "";
  return { text: "$(check) Tilt: ok", tooltip: `OK${warnings}\n${tooltip}`, error: false };
}

/** Pure: the short state shown next to a resource's name, in plain words. */
export function describeResource(r: ResourceStatus): string {
  if (!r.enabled) {
    return "disabled";
  }
  let text: string;
  if (r.summary) {
    // The server's own words (tilt_lsp/engine/wording.py), the same as its code lenses.
    text = r.summary;
    if (r.pid != null && (r.runtimeStatus === "ready" || r.runtimeStatus === "running" || r.runtimeStatus === "starting")) {
      text += ` · pid ${r.pid}`;
    }
  } else {
    text = describeFromStates(r);
  }
  if (r.pendingChanges.length > 0) {
    const n = r.pendingChanges.length;
    text += ` · ${n} pending ${n === 1 ? "change" : "changes"}`;
  }
  return text;
}

/** For a server that sends no summary: the same words, from the state names. */
function describeFromStates(r: ResourceStatus): string {
  let text: string;
  switch (r.buildStatus) {
    case "building":
      text = "updating";
      break;
    case "pending":
      text = r.waitingFor ? `waiting for ${r.waitingFor}` : "queued";
      break;
    case "error":
      text = "update failed";
      break;
    default:
      text = describeRuntime(r);
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
      return "finished";
    case "none":
      return "up to date";
    case "not_started":
      return "not started yet";
    default:
      return r.runtimeStatus;
  }
}

/** Pure: a codicon id (and theme colour) for a resource's state. */
export function resourceIconName(r: ResourceStatus): { id: string; color?: string } {
  if (!r.enabled) {
    return { id: "circle-slash" };
  }
  if (r.buildStatus === "building" || r.runtimeStatus === "starting") {
    return { id: "sync~spin" };
  }
  if (r.buildStatus === "error" || r.runtimeStatus === "crashed") {
    return { id: "error", color: "errorForeground" };
  }
  if (r.buildStatus === "pending") {
    return { id: "clock" };
  }
  if (r.runtimeStatus === "running") {
    return { id: "circle-filled" };
  }
  return { id: "pass", color: "testing.iconPassed" };
}

/** Pure: the rows under a resource in the Resources view, in plain words. */
export function resourceDetails(r: ResourceStatus): { label: string; value: string; link?: string }[] {
  const out: { label: string; value: string; link?: string }[] = [];
  for (const url of r.endpoints ?? []) {
    out.push({ label: "endpoint", value: url, link: url });
  }
  if (r.pid != null) {
    out.push({ label: "process", value: `pid ${r.pid}` });
  }
  const kinds: Record<string, string> = { local: "runs on this machine", docker_compose: "Docker Compose service", k8s: "Kubernetes workload" };
  out.push({ label: "kind", value: kinds[r.kind] ?? r.kind });
  out.push({ label: "trigger", value: r.triggerMode.startsWith("manual") ? "manual: ▶ applies changes" : "on every change" });
  if (r.lastUpdateAt != null) {
    const reason = r.lastUpdateReason ? ` (${r.lastUpdateReason})` : "";
    out.push({ label: "last update", value: `${clock(r.lastUpdateAt)}${reason}` });
  }
  if (r.lastError) {
    out.push({ label: "last error", value: r.lastError.split("\n")[0] });
  }
  return out;
}

/** Pure: "12:03:04" for a Unix time in seconds (local time). */
export function clock(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Pure: the updates a new status shows since the previous one (update count went up). */
export function newUpdates(before: ResourceStatus[], after: ResourceStatus[]): { name: string; at: number; reason: string }[] {
  const seen = new Map(before.map((r) => [r.name, r.updateCount]));
  return after
    .filter((r) => r.lastUpdateAt != null && r.updateCount > (seen.get(r.name) ?? 0))
    .map((r) => ({ name: r.name, at: r.lastUpdateAt as number, reason: r.lastUpdateReason || "update" }));
}

/** Pure: the Problems panel's source for a diagnostic: "tilt-lsp (calc)" -> "tilt-lsp: calc". */
export function problemSource(source: string | undefined): string | undefined {
  const m = source ? /^tilt-lsp \((.*)\)$/.exec(source) : null;
  return m ? `tilt-lsp: ${m[1]}` : source;
}
