// Pure translations of tilt/status into what the UI shows; no vscode import, so unit-testable.
import { ResourceStatus, TiltStatus } from "./constants";

/** Pure: what the status bar says for one tilt/status. */
export function describeStatus(status: TiltStatus): { text: string; tooltip: string; error: boolean } {
  const lines: string[] = [];
  for (const r of status.resources) {
    lines.push(`${r.name}: ${r.enabled ? `${r.buildStatus} / ${r.runtimeStatus}` : "disabled"}`);
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
