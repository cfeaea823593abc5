// Unit tests for the pure status translations: `npm test` (node's test runner on tsc's output).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ResourceStatus, TiltStatus } from "../constants";
import { describeResource, describeStatus, problemSource, resourceIconName } from "../describe";

function resource(over: Partial<ResourceStatus> = {}): ResourceStatus {
  return {
    name: "greeter",
    kind: "local",
    enabled: true,
    triggerMode: "auto",
    buildStatus: "none",
    runtimeStatus: "ready",
    pid: 4242,
    exitCode: null,
    lastError: null,
    pendingChanges: [],
    waitingFor: null,
    updateCount: 1,
    startCount: 1,
    lastUpdateReason: "initial",
    lastUpdateAt: null,
    logTail: [],
    ...over,
  };
}

function status(over: Partial<TiltStatus> = {}): TiltStatus {
  return {
    state: "ok",
    errors: 0,
    warnings: 0,
    building: [],
    tiltfile: { path: "/ws/Tiltfile", error: null },
    resources: [resource()],
    ...over,
  };
}

test("status bar: building spins and names what builds", () => {
  const d = describeStatus(status({ state: "building", building: ["greeter"] }));
  assert.equal(d.text, "$(sync~spin) Tilt: building");
  assert.match(d.tooltip, /Building greeter/);
  assert.equal(d.error, false);
});

test("status bar: errors are counted, singular and plural", () => {
  assert.equal(describeStatus(status({ state: "error", errors: 1 })).text, "$(error) Tilt: 1 error");
  assert.equal(describeStatus(status({ state: "error", errors: 3 })).text, "$(error) Tilt: 3 errors");
  // A failed resource without a located problem is still an error.
  assert.equal(describeStatus(status({ state: "error", errors: 0 })).text, "$(error) Tilt: error");
  assert.equal(describeStatus(status({ state: "error", errors: 2 })).error, true);
});

test("status bar: ok, with warnings and the Tiltfile error in the tooltip", () => {
  const d = describeStatus(status({ warnings: 2 }));
  assert.equal(d.text, "$(check) Tilt: ok");
  assert.match(d.tooltip, /2 warnings/);
  assert.match(d.tooltip, /greeter: ready · pid 4242/);
  const broken = describeStatus(status({ state: "error", tiltfile: { path: null, error: "line 3: boom" } }));
  assert.match(broken.tooltip, /^Tiltfile: line 3: boom/);
});

test("resource description: runtime state with its pid", () => {
  assert.equal(describeResource(resource()), "ready · pid 4242");
  assert.equal(describeResource(resource({ runtimeStatus: "running" })), "running · pid 4242");
  assert.equal(describeResource(resource({ runtimeStatus: "crashed", exitCode: 1, pid: null })), "crashed (exit 1)");
  assert.equal(describeResource(resource({ runtimeStatus: "not_started", pid: null })), "not started yet");
});

test("resource description: build state wins over the runtime", () => {
  assert.equal(describeResource(resource({ buildStatus: "building" })), "updating");
  assert.equal(describeResource(resource({ buildStatus: "error" })), "update failed");
  assert.equal(describeResource(resource({ buildStatus: "pending", waitingFor: "tests" })), "waiting for tests");
  assert.equal(describeResource(resource({ buildStatus: "ok", runtimeStatus: "none", pid: null })), "up to date");
  assert.equal(describeResource(resource({ enabled: false })), "disabled");
});

test("resource description: pending changes of a manual resource", () => {
  const r = resource({ triggerMode: "manual", pendingChanges: ["a.py", "b.py"] });
  assert.equal(describeResource(r), "ready · pid 4242 · 2 pending changes");
});

test("resource icons follow the state", () => {
  assert.deepEqual(resourceIconName(resource()), { id: "pass", color: "testing.iconPassed" });
  assert.deepEqual(resourceIconName(resource({ runtimeStatus: "crashed" })), { id: "error", color: "errorForeground" });
  assert.deepEqual(resourceIconName(resource({ buildStatus: "building" })), { id: "sync~spin" });
  assert.deepEqual(resourceIconName(resource({ enabled: false })), { id: "circle-slash" });
});

test("resource description: the server's plain words win, with the pid", () => {
  assert.equal(describeResource(resource({ summary: "ready" })), "ready · pid 4242");
  assert.equal(describeResource(resource({ summary: "waiting for a trigger", runtimeStatus: "not_started", pid: null })), "waiting for a trigger");
});

test("no internal state name ever reaches the UI", () => {
  const builds = ["none", "pending", "building", "ok", "error"];
  const runtimes = ["not_started", "starting", "running", "ready", "exited", "crashed", "stopped", "disabled", "none"];
  for (const buildStatus of builds) {
    for (const runtimeStatus of runtimes) {
      const text = describeResource(resource({ buildStatus, runtimeStatus }));
      assert.doesNotMatch(text, /\bnone\b|not_started|_/, `${buildStatus}/${runtimeStatus}: ${text}`);
    }
  }
});

test("Problems source: no nested parentheses", () => {
  assert.equal(problemSource("tilt-lsp (calc)"), "tilt-lsp: calc");
  assert.equal(problemSource("tilt-lsp (Tiltfile)"), "tilt-lsp: Tiltfile");
  assert.equal(problemSource("pylance"), "pylance");
  assert.equal(problemSource(undefined), undefined);
});
