// Drives a real VS Code (code-server in headless Chromium) through the tilt-lsp extension,
// as a user would: edit and save with the keyboard, read the Problems panel, the status bar
// and the Tilt Resources view, run commands from the palette.
//
//   node drive.mjs CONFIG.json
//
// CONFIG (written by tests/editors/test_vscode.py):
//   node, codeServer (entry.js), playwrightCore (its package dir), chromium, vsix,
//   serverPath (tilt-lsp), workspace (a copy of examples/hello-local), tmp (scratch dir),
//   port, result (JSON file to write), screenshot, timeoutMs
//
// It writes RESULT as {ok, steps: [{name, ok, seconds, detail}], statusTexts, error} and
// exits 0 when every step passed. Steps stop at the first failure, with a screenshot.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const require = createRequire(path.join(config.playwrightCore, "package.json"));
const { chromium } = require(config.playwrightCore);

const result = { ok: false, steps: [], statusTexts: [], error: null };
const t0 = Date.now();
const seconds = () => Math.round((Date.now() - t0) / 100) / 10;
const log = (msg) => process.stderr.write(`[drive ${seconds()}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function writeResult() {
  fs.writeFileSync(config.result, JSON.stringify(result, null, 2));
}

async function step(name, fn) {
  const start = Date.now();
  log(`step: ${name}`);
  try {
    const detail = await fn();
    result.steps.push({ name, ok: true, seconds: (Date.now() - start) / 1000, detail: detail ?? null });
    writeResult();
  } catch (error) {
    result.steps.push({ name, ok: false, seconds: (Date.now() - start) / 1000, detail: String(error?.stack ?? error) });
    writeResult();
    throw error;
  }
}

/** Polls fn until it returns a truthy value; throws with the last value seen. */
async function until(what, fn, timeoutMs = 60000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last && (typeof last !== "object" || last.ok !== false)) {
      return last;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${JSON.stringify(last)}`);
}

// ---------------------------------------------------------------------------
// code-server
// ---------------------------------------------------------------------------
const userData = path.join(config.tmp, "user-data");
const extensions = path.join(config.tmp, "extensions");
const codeServerArgs = [
  config.codeServer,
  "--user-data-dir", userData,
  "--extensions-dir", extensions,
  "--config", path.join(config.tmp, "config.yaml"),
  "--disable-telemetry",
  "--disable-update-check",
];

function prepareCodeServer() {
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(path.join(config.tmp, "config.yaml"), `bind-addr: 127.0.0.1:${config.port}\nauth: none\ncert: false\n`);
  const settings = {
    "security.workspace.trust.enabled": false,
    "tiltLsp.server.path": config.serverPath,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "update.mode": "none",
    "git.enabled": false,
    "chat.disableAIFeatures": true,
    "files.autoSave": "off",
    // Typed keys land as typed: no auto-closed quotes or brackets.
    "editor.autoClosingQuotes": "never",
    "editor.autoClosingBrackets": "never",
    "editor.autoSurround": "never",
    "editor.formatOnSave": false,
    "editor.minimap.enabled": false,
    "window.commandCenter": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
  };
  // code-server is VS Code's remote server: machine-scoped settings (tiltLsp.server.path)
  // come from Machine/settings.json, the rest from User/settings.json.
  for (const scope of ["User", "Machine"]) {
    fs.mkdirSync(path.join(userData, scope), { recursive: true });
    fs.writeFileSync(path.join(userData, scope, "settings.json"), JSON.stringify(settings, null, 2));
  }
  const install = spawnSync(config.node, [...codeServerArgs, "--install-extension", config.vsix], {
    encoding: "utf8",
    timeout: 120000,
  });
  if (install.status !== 0) {
    throw new Error(`--install-extension failed (${install.status}): ${install.stdout}\n${install.stderr}`);
  }
  return install.stdout.trim().split("\n").pop();
}

let codeServer;
const codeServerLog = path.join(config.tmp, "code-server.log");

function startCodeServer() {
  const out = fs.openSync(codeServerLog, "a");
  // Its own process group, so stopCodeServer() reaches every child (file watcher,
  // extension host, tilt-lsp and what it runs).
  codeServer = spawn(config.node, [...codeServerArgs, "--auth", "none", config.workspace], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, ...config.env },
  });
  codeServer.on("exit", (code, signal) => log(`code-server exited (${code ?? signal})`));
}

async function stopCodeServer() {
  if (!codeServer || codeServer.exitCode !== null) {
    return;
  }
  const group = -codeServer.pid;
  try {
    process.kill(group, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    try {
      process.kill(group, 0);
    } catch {
      return;
    }
  }
  try {
    process.kill(group, "SIGKILL");
  } catch {
    // already gone
  }
}

async function waitForHttp(url, timeoutMs = 60000) {
  await until(`code-server at ${url}`, async () => {
    try {
      const res = await fetch(url);
      return res.status < 500;
    } catch {
      return false;
    }
  }, timeoutMs, 200);
}

// ---------------------------------------------------------------------------
// Processes: the tilt-lsp server this run's code-server started (found by the env marker)
// ---------------------------------------------------------------------------
function procs() {
  const out = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean);
      const environ = fs.readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
      out.push({ pid: Number(name), ppid, cmdline, environ });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

const marker = Object.entries(config.env ?? {}).map(([k, v]) => `${k}=${v}`)[0];

/** Pids of running `tilt-lsp serve` processes started under this run's code-server. */
function serverPids() {
  return procs()
    .filter((p) => p.environ.includes(marker) && p.cmdline.some((a) => a.endsWith("tilt-lsp")) && p.cmdline.includes("serve"))
    .map((p) => p.pid);
}

/** SIGKILL a process and all its descendants: a crash that takes its children with it. */
function killTree(pid) {
  const all = procs();
  const doomed = [pid];
  for (let i = 0; i < doomed.length; i++) {
    doomed.push(...all.filter((p) => p.ppid === doomed[i]).map((p) => p.pid));
  }
  for (const p of doomed) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return doomed;
}

// ---------------------------------------------------------------------------
// The workbench, read the way a user reads it
// ---------------------------------------------------------------------------
let page;

const statusItem = () => page.locator(".statusbar-item", { hasText: /Tilt:/ }).first();
const statusText = async () => ((await statusItem().textContent({ timeout: 1000 }).catch(() => "")) ?? "").trim();

/** The Tilt Resources view's rows as {name, description} (expands the view if needed). */
async function resourceRows() {
  return page.evaluate(() => {
    const panes = [...document.querySelectorAll(".pane")];
    const pane = panes.find((p) => p.querySelector(".pane-header")?.textContent?.includes("Tilt Resources"));
    if (!pane) {
      return null;
    }
    return [...pane.querySelectorAll(".monaco-list-row")].map((row) => ({
      name: row.querySelector(".label-name")?.textContent?.trim() ?? "",
      description: row.querySelector(".label-description")?.textContent?.trim() ?? "",
    }));
  });
}

async function resource(name) {
  return ((await resourceRows()) ?? []).find((r) => r.name === name);
}

/** Problems panel rows (the panel must be open) as {file, text}: each problem under its file. */
async function problems() {
  return page.evaluate(() => {
    let file = null;
    const rows = [];
    for (const row of document.querySelectorAll(".markers-panel .monaco-list-row")) {
      const label = row.getAttribute("aria-label") ?? "";
      const header = /problems? in file (.+?) of folder/.exec(label);
      if (header) {
        file = header[1];
      } else {
        rows.push({ file, text: `${label} | ${row.textContent ?? ""}` });
      }
    }
    return rows;
  });
}

/** Text of the visible Output view. */
async function outputText() {
  return page.evaluate(() =>
    [...document.querySelectorAll(".part.panel .view-lines")]
      .map((e) => (e.textContent ?? "").replace(/\u00a0/g, " ")) // the editor renders spaces as nbsp
      .join("\n"),
  );
}

async function runCommand(title) {
  await page.keyboard.press("Control+Shift+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
}

async function openFile(name) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(name);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
  await page.locator(".tab.active", { hasText: name }).waitFor({ timeout: 10000 });
  await page.locator(".editor-instance .monaco-editor textarea").first().waitFor({ timeout: 10000 });
}

async function gotoLine(line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`:${line}`);
  await page.keyboard.press("Enter");
}

/** Selects the last n characters of a line (from its end), in the active editor. */
async function selectLineEnd(line, n) {
  await gotoLine(line);
  await page.keyboard.press("End");
  for (let i = 0; i < n; i++) {
    await page.keyboard.press("Shift+ArrowLeft");
  }
}

async function save() {
  await page.keyboard.press("Control+S");
  await page.locator(".tab.active.dirty").waitFor({ state: "detached", timeout: 10000 });
}

async function screenshot(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
}

// ---------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------
async function main() {
  const greeting = path.join(config.workspace, "greeting.py");
  const original = fs.readFileSync(greeting, "utf8");

  await step("install the .vsix into code-server", () => prepareCodeServer());
  await step("start code-server", async () => {
    startCodeServer();
    await waitForHttp(`http://127.0.0.1:${config.port}/healthz`);
  });

  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    // Record every text the Tilt status-bar item shows, as the user would see them change.
    await page.exposeFunction("tiltStatusSeen", (text) => {
      if (result.statusTexts.at(-1) !== text) {
        result.statusTexts.push(text);
        log(`status bar: ${text}`);
      }
    });
    // And every notification toast (progress of slow updates shows as one).
    result.notifications = [];
    await page.exposeFunction("tiltToastSeen", (text) => {
      if (!result.notifications.includes(text)) {
        result.notifications.push(text);
        log(`notification: ${text}`);
      }
    });
    await page.addInitScript(() => {
      setInterval(() => {
        const item = [...document.querySelectorAll(".statusbar-item")].find((e) => e.textContent?.includes("Tilt:"));
        if (item) {
          window.tiltStatusSeen(item.textContent.trim());
        }
        for (const toast of document.querySelectorAll(".notification-toast .notification-list-item-message")) {
          window.tiltToastSeen((toast.textContent ?? "").trim());
        }
      }, 100);
    });

    await step("open the workspace in VS Code", async () => {
      const url = `http://127.0.0.1:${config.port}/?folder=${encodeURIComponent(config.workspace)}`;
      await page.goto(url, { waitUntil: "domcontentloaded" });
      await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
      await page.locator(".explorer-folders-view").waitFor({ timeout: 60000 });
    });

    await step("extension starts tilt-lsp: status bar reaches ok", async () => {
      await until("the Tilt status-bar item", statusText, 60000);
      return until("status 'Tilt: ok'", async () => {
        const text = await statusText();
        if (/no server|server failed/.test(text)) {
          throw new Error(`the extension could not start tilt-lsp: status bar says ${text}`);
        }
        return text.includes("Tilt: ok") ? text : false;
      }, 90000);
    });

    const before = await step_value("Resources view shows greeter ready with a pid", async () => {
      await statusItem().click(); // its command focuses the Tilt Resources view
      return until("greeter ready with a pid", async () => {
        const r = await resource("greeter");
        return r && /ready · pid \d+/.test(r.description) ? r : { ok: false, rows: await resourceRows() };
      }, 60000);
    });

    await step("(a) save greeting.py with the bug: TypeError at line 6 in Problems", async () => {
      await openFile("greeting.py");
      await selectLineEnd(6, 3); // `"!"`
      await page.keyboard.type("1");
      await save();
      const onDisk = fs.readFileSync(greeting, "utf8");
      if (!onDisk.includes('" ".join(words) + 1')) {
        throw new Error(`the editor saved something else:\n${onDisk}`);
      }
      await page.keyboard.press("Control+Shift+M");
      await page.locator(".markers-panel").waitFor({ timeout: 10000 });
      const rows = await until("a TypeError on greeting.py line 6 in Problems", async () => {
        const all = await problems();
        const hit = all.some((p) => p.file === "greeting.py" && p.text.includes("TypeError") && /\[Ln 6,/.test(p.text));
        return hit ? all : { ok: false, all };
      }, 60000);
      await until("the greeter row to show the crash", async () => {
        const r = await resource("greeter");
        return r && /crash|fail|error/.test(r.description) ? r : { ok: false, r };
      }, 30000).catch(() => undefined); // the screenshot is nicer with it; (a) is about Problems
      await screenshot(config.screenshot);
      return rows;
    });

    await step("quick fixes on the crash: show the log around it, restart greeter", async () => {
      // The crash is greeter's (the tests resource may report the same line too).
      const source = await until("a Problems row naming 'tilt-lsp: greeter'", async () => {
        const rows = await problems();
        const hit = rows.find((p) => p.file === "greeting.py" && p.text.includes("TypeError") && p.text.includes("tilt-lsp: greeter"));
        return hit ? hit.text : { ok: false, rows };
      }, 30000);
      await page.locator(".editor-instance .monaco-editor").first().click();
      await gotoLine(6);
      const titles = await until("the quick-fix menu", async () => {
        await page.keyboard.press("Control+.");
        await sleep(700);
        const texts = await page.evaluate(() =>
          [...document.querySelectorAll(".action-widget .monaco-list-row, .context-view .action-label")].map((e) => e.textContent ?? ""));
        await page.keyboard.press("Escape");
        return texts.some((t) => t.includes("Show the log around this error")) && texts.some((t) => t.includes("Restart greeter"))
          ? texts : { ok: false, texts };
      }, 30000, 500);
      return { source, titles };
    });

    await step("(d) status bar shows the errors", async () =>
      until("an error state in the status bar", async () =>
        result.statusTexts.find((t) => /Tilt: (\d+ errors?|error)/.test(t)), 30000));

    await step("(b) fix and save: the TypeError clears", async () => {
      await page.locator(".editor-instance .monaco-editor").first().click();
      await selectLineEnd(6, 1); // `1`
      await page.keyboard.type('"!"');
      await save();
      const onDisk = fs.readFileSync(greeting, "utf8");
      if (onDisk !== original) {
        throw new Error(`the fixed file differs from the original:\n${onDisk}`);
      }
      await page.keyboard.press("Control+Shift+M");
      return until("no TypeError in Problems", async () => {
        const all = await problems();
        return all.some((p) => p.text.includes("TypeError")) ? { ok: false, all } : { remaining: all };
      }, 60000);
    });

    await step("(d) status bar back to ok", async () => {
      const errorAt = result.statusTexts.findIndex((t) => /Tilt: (\d+ errors?|error)/.test(t));
      return until("'Tilt: ok' after the error", async () => {
        const okAfter = result.statusTexts.slice(errorAt + 1).some((t) => t.includes("Tilt: ok"));
        return okAfter && (await statusText()).includes("Tilt: ok") ? result.statusTexts.slice(errorAt) : false;
      }, 60000);
    });

    const ready = await step_value("greeter ready again", () =>
      until("greeter ready with a pid", async () => {
        const r = await resource("greeter");
        return r && /ready · pid \d+/.test(r.description) ? r : { ok: false, r };
      }, 60000));

    await step("(c) Tilt: Restart Resource → greeter restarts with a new pid", async () => {
      await runCommand("Tilt: Restart Resource");
      const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: "greeter" }).first();
      await pick.waitFor({ timeout: 10000 });
      await page.locator(".quick-input-widget input").fill("greeter");
      await page.keyboard.press("Enter");
      const pidOf = (r) => Number(/pid (\d+)/.exec(r?.description ?? "")?.[1] ?? NaN);
      const after = await until("greeter ready with a new pid", async () => {
        const r = await resource("greeter");
        return r && /ready · pid \d+/.test(r.description) && pidOf(r) !== pidOf(ready) ? r : { ok: false, r };
      }, 60000);
      return { before: before.description, beforeRestart: ready.description, after: after.description };
    });

    await step("Tilt: Show Logs → greeter's output channel, filled from tilt/logs", async () => {
      await runCommand("Tilt: Show Logs");
      await page.locator(".quick-input-list .monaco-list-row", { hasText: "greeter" }).first().waitFor({ timeout: 10000 });
      await page.locator(".quick-input-widget input").fill("greeter");
      await page.keyboard.press("Enter");
      return until("greeter's log in the Output view", async () => {
        const text = await outputText();
        // The first start (before the bug), the crash, and the restart are all in the log.
        return text.includes("greeter listening on") && text.includes("TypeError") ? text.slice(-400) : { ok: false, text };
      }, 20000);
    });

    const greeterReady = (notPid) => until(`greeter ready with a pid other than ${notPid}`, async () => {
      const r = await resource("greeter");
      const pid = Number(/ready · pid (\d+)/.exec(r?.description ?? "")?.[1] ?? NaN);
      return pid && pid !== notPid ? pid : { ok: false, r };
    }, 60000);
    const pidIn = (r) => Number(/pid (\d+)/.exec(r?.description ?? "")?.[1] ?? NaN);

    await step("inline Rebuild on the greeter row rebuilds it (new pid)", async () => {
      const before = pidIn(await resource("greeter"));
      const row = page.locator(".pane", { has: page.locator(".pane-header", { hasText: "Tilt Resources" }) })
        .locator(".monaco-list-row", { hasText: "greeter" }).first();
      await row.hover();
      await row.locator('.action-label[aria-label="Rebuild Resource"]').click({ timeout: 10000 });
      const after = await greeterReady(before);
      return { before, after };
    });


    await step("tilt-lsp crashes: the extension restarts it and the status comes back", async () => {
      const [server] = serverPids();
      if (!server) {
        throw new Error("no tilt-lsp serve process found");
      }
      const greeterPid = pidIn(await resource("greeter"));
      const killed = killTree(server);
      const restarted = await until("a new tilt-lsp process", () => serverPids().find((p) => p !== server), 30000);
      const newGreeter = await greeterReady(greeterPid);
      await until("'Tilt: ok'", async () => (await statusText()).includes("Tilt: ok"), 60000);
      return { killed, restarted, greeter: { before: greeterPid, after: newGreeter } };
    });

    await step("Tilt: Restart Language Server starts a new server", async () => {
      const [server] = serverPids();
      const greeterPid = pidIn(await resource("greeter"));
      await runCommand("Tilt: Restart Language Server");
      const restarted = await until("a new tilt-lsp process", () => {
        const pids = serverPids();
        return pids.length === 1 && pids[0] !== server ? pids[0] : false;
      }, 30000);
      const newGreeter = await greeterReady(greeterPid);
      await until("'Tilt: ok'", async () => (await statusText()).includes("Tilt: ok"), 60000);
      return { before: server, after: restarted, greeter: { before: greeterPid, after: newGreeter } };
    });

    await step("Tilt: Open Tiltfile opens the Tiltfile", async () => {
      await runCommand("Tilt: Open Tiltfile");
      await page.locator(".tab.active", { hasText: "Tiltfile" }).waitFor({ timeout: 10000 });
    });

    await step("hover on local_resource in the Tiltfile shows tilt-lsp's docs", async () => {
      const line = fs.readFileSync(path.join(config.workspace, "Tiltfile"), "utf8").split("\n")
        .findIndex((l) => l.startsWith("local_resource(")) + 1;
      await page.locator(".editor-instance .monaco-editor").first().click();
      await page.keyboard.press("Control+G");
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 10000 });
      await input.fill(`:${line}:3`);
      await page.keyboard.press("Enter");
      return until("the hover with local_resource's signature", async () => {
        await page.keyboard.press("Control+K");
        await page.keyboard.press("Control+I");
        await sleep(500);
        const text = await page.evaluate(() =>
          [...document.querySelectorAll(".monaco-hover")].map((e) => e.textContent ?? "").join("\n"));
        await page.keyboard.press("Escape");
        return text.includes("local_resource(name: str") && text.includes("serve_cmd") ? text.slice(0, 300) : { ok: false, text };
      }, 30000, 500);
    });

    const lensRow = () => page.locator(".codelens-decoration", { hasText: "greeter:" }).first();
    await step("code lens over greeter shows its state and last update", async () =>
      until("a code lens 'greeter: ready · updated …'", async () => {
        const text = (await lensRow().textContent({ timeout: 1000 }).catch(() => "")) ?? "";
        return /greeter: ready · updated \d\d:\d\d:\d\d/.test(text) && text.includes("↻ Restart") ? text : { ok: false, text };
      }, 60000));

    await step("code lens ↻ Restart on greeter restarts it (new pid)", async () => {
      const before = pidIn(await resource("greeter"));
      await lensRow().locator("a", { hasText: "↻ Restart" }).click({ timeout: 10000 });
      const after = await greeterReady(before);
      await until("the lens to show greeter ready again", async () => {
        const text = (await lensRow().textContent({ timeout: 1000 }).catch(() => "")) ?? "";
        return /greeter: ready/.test(text) ? text : false;
      }, 60000);
      await screenshot(config.screenshot.replace(/\.png$/, "-codelens.png"));
      return { before, after };
    });

    await step("code lens ▶ Trigger on the manual 'report' runs it, with a progress notification", async () => {
      const row = page.locator(".codelens-decoration", { hasText: "report:" }).first();
      await until("report's lens waiting for a trigger", async () => {
        const text = (await row.textContent({ timeout: 1000 }).catch(() => "")) ?? "";
        return text.includes("report: waiting for a trigger") ? text : { ok: false, text };
      }, 30000);
      await row.locator("a", { hasText: "▶ Trigger" }).click({ timeout: 10000 });
      const progress = await until("a progress notification for report", () =>
        result.notifications.find((t) => t.includes("updating report")), 30000, 100);
      const lens = await until("report's lens up to date", async () => {
        const text = (await row.textContent({ timeout: 1000 }).catch(() => "")) ?? "";
        return /report: up to date · updated \d\d:\d\d:\d\d/.test(text) ? text : { ok: false, text };
      }, 30000);
      return { progress, lens };
    });

    await step("the Tilt activity-bar view: resources with endpoints, and the updates", async () => {
      const pane = (title) => page.locator(".pane", { has: page.locator(".pane-header", { hasText: title }) });
      const icon = page.locator('.activitybar .action-item a[aria-label^="Tilt"]').first();
      await icon.waitFor({ timeout: 10000 });
      if (!(await pane("Tilt Resources").isVisible())) {
        await icon.click(); // clicking it while it is open would close the side bar
      }
      await pane("Tilt Resources").waitFor({ timeout: 10000 });
      const row = pane("Tilt Resources").locator(".monaco-list-row", { hasText: "greeter" }).first();
      await row.click();
      await page.keyboard.press("ArrowRight"); // expand
      const endpoint = await until("greeter's endpoint row", async () => {
        const rows = await pane("Tilt Resources").locator(".monaco-list-row").allTextContents();
        return rows.find((t) => t.includes("endpoint") && t.includes("http://localhost:")) ?? { ok: false, rows };
      }, 20000);
      const updates = await until("greeter in Tilt Updates", async () => {
        const rows = await pane("Tilt Updates").locator(".monaco-list-row").allTextContents();
        return rows.some((t) => t.includes("greeter")) ? rows.slice(0, 5) : { ok: false, rows };
      }, 20000);
      await screenshot(config.screenshot.replace(/\.png$/, "-view.png"));
      return { endpoint, updates };
    });

    result.ok = true;
  } catch (error) {
    result.error = String(error?.stack ?? error);
    if (page) {
      await screenshot(config.screenshot.replace(/\.png$/, "-failure.png")).catch(() => undefined);
    }
  } finally {
    await browser.close().catch(() => undefined);
  }
}

async function step_value(name, fn) {
  let value;
  await step(name, async () => {
    value = await fn();
    return value;
  });
  return value;
}

const timer = setTimeout(() => {
  result.error = `drive.mjs timed out after ${config.timeoutMs / 1000}s`;
  writeResult();
  void stopCodeServer().finally(() => process.exit(3));
}, config.timeoutMs);

try {
  await main();
} catch (error) {
  result.error = result.error ?? String(error?.stack ?? error);
} finally {
  result.seconds = seconds();
  writeResult();
  await stopCodeServer();
  clearTimeout(timer);
}
log(result.ok ? "all steps passed" : `FAILED: ${result.error}`);
process.exit(result.ok ? 0 : 1);
