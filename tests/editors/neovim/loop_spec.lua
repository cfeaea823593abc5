-- The loop in a real Neovim: the plugin starts tilt-lsp for a copy of examples/hello-local,
-- a save with a bug puts the crash on its line in vim.diagnostic, the fix clears it, and
-- :Tilt drives the resources. Environment (set by test_neovim.py):
--   TILT_LSP_WORKSPACE  the copy of examples/hello-local (free port patched in)
--   TILT_LSP_SERVER     the tilt-lsp executable
--   TILT_LSP_WORKSPACE2 another copy, on another port (a second root)
--   TILT_LSP_OUTSIDE    a file under no Tiltfile
local H = dofile(vim.env.TILT_LSP_SPEC_DIR .. "/harness.lua")
local protocol = require("tilt_lsp.protocol")

local ws = assert(vim.env.TILT_LSP_WORKSPACE)
local greeting = ws .. "/greeting.py"
local BUG_LINE = 5 -- 0-based: `return " ".join(words) + "!"`

---@return vim.lsp.Client
local function client()
  return H.truthy(vim.lsp.get_clients({ name = "tilt-lsp" })[1], "no tilt-lsp client")
end

--- tilt/resources, by name.
---@return table<string, table>
local function resources()
  local c = client()
  local result = c:request_sync(protocol.request.resources, {}, 5000)
  local out = {}
  for _, r in ipairs(result and result.result and result.result.resources or {}) do
    out[r.name] = r
  end
  return out
end

--- A condition for H.wait: `name` is ready with a pid. Pass it as H.wait's `what` too
--- (it then describes the last state seen).
---@param name string
local function ready(name)
  local last
  return setmetatable({}, {
    __call = function()
      last = resources()[name]
      return last and last.runtimeStatus == "ready" and last.pid ~= vim.NIL and last
    end,
    __tostring = function()
      return ("%s ready; last seen: %s"):format(name, vim.inspect(last))
    end,
  })
end

---@param bufnr integer
---@return vim.Diagnostic[]
local function tilt_diagnostics(bufnr)
  return vim.tbl_filter(function(d)
    return tostring(d.source or ""):find("^tilt%-lsp") ~= nil
  end, vim.diagnostic.get(bufnr))
end

local function plain(diags)
  return vim.tbl_map(function(d)
    return { lnum = d.lnum, col = d.col, severity = d.severity, message = d.message, source = d.source }
  end, diags)
end

-- Every User TiltStatus the plugin fired (one per tilt/status notification).
local status_events = 0
vim.api.nvim_create_autocmd("User", {
  pattern = "TiltStatus",
  callback = function()
    status_events = status_events + 1
  end,
})

H.run(function()
  vim.cmd.cd(ws)

  H.it("vim.g.tilt_lsp set before start-up runs setup()", function(data)
    local cfg = require("tilt_lsp.config").current
    data.cmd = cfg and cfg.cmd
    H.eq(data.cmd, { vim.env.TILT_LSP_SERVER, "serve" }, "the options in force")
  end)

  H.it("one client per Tiltfile root, none outside", function(data)
    vim.cmd.edit(greeting)
    local buf = vim.api.nvim_get_current_buf()
    H.wait(10000, function()
      return vim.lsp.get_clients({ name = "tilt-lsp", bufnr = buf })[1]
    end, "tilt-lsp to attach to greeting.py")
    vim.cmd.edit(ws .. "/server.py")
    H.wait(5000, function()
      return vim.lsp.get_clients({ name = "tilt-lsp", bufnr = 0 })[1]
    end, "tilt-lsp to attach to server.py")
    vim.cmd.edit(vim.env.TILT_LSP_OUTSIDE)
    data.outside_clients = #vim.lsp.get_clients({ bufnr = 0 })
    data.clients = #vim.lsp.get_clients({ name = "tilt-lsp" })
    local c = client()
    data.root_dir = c.root_dir
    data.init_options = c.config.init_options
    H.eq(data.clients, 1, "tilt-lsp clients for two files in one root")
    H.eq(data.outside_clients, 0, "clients on a file under no Tiltfile")
    H.eq(data.root_dir, ws, "client root")
    H.eq(data.init_options, { watch = true, logNotifications = true }, "initializationOptions")
    vim.cmd.edit(greeting)
  end)

  H.it("a second Tiltfile root gets its own client; :Tilt there talks to it", function(data)
    local ws2 = assert(vim.env.TILT_LSP_WORKSPACE2)
    vim.cmd.edit(ws2 .. "/server.py")
    local buf2 = vim.api.nvim_get_current_buf()
    local second = H.wait(10000, function()
      return vim.lsp.get_clients({ name = "tilt-lsp", bufnr = buf2 })[1]
    end, "tilt-lsp to attach in the second root")
    data.roots = vim.tbl_map(function(c)
      return c.root_dir
    end, vim.lsp.get_clients({ name = "tilt-lsp" }))
    table.sort(data.roots)
    local want = { ws, ws2 }
    table.sort(want)
    H.eq(data.roots, want, "one client per root")
    vim.cmd("Tilt stop")
    H.wait(10000, function()
      return #vim.lsp.get_clients({ id = second.id }) == 0
    end, "the second root's server to stop")
    data.left = vim.tbl_map(function(c)
      return c.root_dir
    end, vim.lsp.get_clients({ name = "tilt-lsp" }))
    H.eq(data.left, { ws }, "clients after :Tilt stop in the second root")
    vim.cmd("bwipeout " .. buf2)
    vim.cmd.edit(greeting)
  end)

  H.it("the resources come up", function(data)
    local r = H.wait(30000, ready("greeter"), function()
      return "greeter ready; resources: " .. vim.inspect(resources())
    end)
    data.pid = r.pid
  end)

  H.it("the statusline and User TiltStatus follow tilt/status", function(data)
    H.wait(10000, function()
      return require("tilt_lsp").statusline() == "tilt: ok"
    end, function()
      return "statusline 'tilt: ok'; it is " .. vim.inspect(require("tilt_lsp").statusline())
    end)
    data.statusline = require("tilt_lsp").statusline()
    data.status_events = status_events
    H.truthy(status_events > 0, "no User TiltStatus event")
  end)

  H.it("completion of :Tilt restart lists the resources", function(data)
    data.restart = vim.fn.getcompletion("Tilt restart ", "cmdline")
    data.restart_g = vim.fn.getcompletion("Tilt restart g", "cmdline")
    data.logs = vim.fn.getcompletion("Tilt logs ", "cmdline")
    data.enable = vim.fn.getcompletion("Tilt enable ", "cmdline")
    H.eq(data.restart, { "greeter", "tests" }, "Tilt restart <Tab>")
    H.eq(data.restart_g, { "greeter" }, "Tilt restart g<Tab>")
    H.eq(data.logs, { "greeter", "tests", protocol.tiltfile_resource }, "Tilt logs <Tab>")
    H.eq(data.enable, {}, "Tilt enable <Tab> (nothing is disabled)")
  end)

  H.it(":Tilt logs follows the resource's log", function(data)
    vim.cmd("Tilt logs greeter")
    local buf = vim.api.nvim_get_current_buf()
    data.name = vim.api.nvim_buf_get_name(buf)
    H.truthy(data.name:find("tilt%-logs://.*/greeter$"), "log buffer name " .. data.name)
    H.wait(5000, function()
      return H.text(buf):find("greeter listening on")
    end, function()
      return "the log in the buffer; it has: " .. H.text(buf)
    end)
    data.buftype = vim.bo[buf].buftype
    data.modifiable = vim.bo[buf].modifiable
    H.eq(data.buftype, "nofile", "log buffer buftype")
    H.eq(data.modifiable, false, "log buffer modifiable")
    vim.cmd("wincmd p")
    H.truthy(vim.api.nvim_buf_get_name(0) == greeting, "back in greeting.py")
  end)

  H.it("a save with the bug puts a TypeError on its line; the fix clears it", function(data)
    vim.cmd.edit(greeting)
    local buf = vim.api.nvim_get_current_buf()
    local good = vim.api.nvim_buf_get_lines(buf, BUG_LINE, BUG_LINE + 1, false)[1]
    H.eq(good, '    return " ".join(words) + "!"', "line 6 of greeting.py")
    vim.api.nvim_buf_set_lines(buf, BUG_LINE, BUG_LINE + 1, false, { '    return " ".join(words) + 1' })
    local t0 = vim.uv.hrtime()
    vim.cmd("silent write")
    local diags = H.wait(20000, function()
      local found = vim.tbl_filter(function(d)
        return d.lnum == BUG_LINE and d.message:find("TypeError") ~= nil
      end, tilt_diagnostics(buf))
      return #found > 0 and found
    end, function()
      return "a TypeError at line " .. BUG_LINE .. "; diagnostics: " .. vim.inspect(plain(vim.diagnostic.get(buf)))
    end)
    data.seconds_to_diagnostic = (vim.uv.hrtime() - t0) / 1e9
    data.statusline_broken = H.wait(10000, function()
      local line = require("tilt_lsp").statusline()
      return line:find("^tilt: %d+ errors?$") and line
    end, function()
      return "statusline 'tilt: N errors'; it is " .. vim.inspect(require("tilt_lsp").statusline())
    end)
    data.diagnostics = plain(tilt_diagnostics(buf))
    H.eq(diags[1].severity, vim.diagnostic.severity.ERROR, "severity")
    -- Native vim.diagnostic: the quickfix list gets it without anything from the plugin.
    vim.diagnostic.setqflist({ open = false })
    data.qflist = vim.tbl_map(function(item)
      return { file = vim.fn.bufname(item.bufnr), lnum = item.lnum, text = item.text }
    end, vim.fn.getqflist())
    H.truthy(
      vim.iter(data.qflist):any(function(item)
        return item.file:find("greeting.py$") and item.lnum == BUG_LINE + 1 and item.text:find("TypeError")
      end),
      "quickfix list without the TypeError: " .. vim.inspect(data.qflist)
    )

    vim.api.nvim_buf_set_lines(buf, BUG_LINE, BUG_LINE + 1, false, { good })
    t0 = vim.uv.hrtime()
    vim.cmd("silent write")
    H.wait(20000, function()
      return #tilt_diagnostics(buf) == 0
    end, function()
      return "diagnostics to clear; still: " .. vim.inspect(plain(tilt_diagnostics(buf)))
    end)
    data.seconds_to_clear = (vim.uv.hrtime() - t0) / 1e9
    H.wait(30000, ready("greeter"), "greeter ready again after the fix")
    data.after_ready = plain(tilt_diagnostics(buf))
    H.eq(data.after_ready, {}, "diagnostics on greeting.py once greeter is ready again")
  end)

  H.it(":Tilt restart greeter restarts it (new pid), and its log buffer follows", function(data)
    local before = H.wait(10000, ready("greeter"), "greeter ready").pid
    local logbuf = vim.fn.bufnr("tilt-logs://" .. ws .. "/greeter")
    local function listening()
      local n = 0
      for _, line in ipairs(vim.api.nvim_buf_get_lines(logbuf, 0, -1, false)) do
        n = n + (line:find("greeter listening on") and 1 or 0)
      end
      return n
    end
    data.listening_before = listening()
    local from = #H.messages + 1
    vim.cmd("Tilt restart greeter")
    local after = H.wait(20000, function()
      local r = ready("greeter")()
      return r and r.pid ~= before and r
    end, "a new greeter pid")
    data.pid_before, data.pid_after = before, after.pid
    data.notified = H.notified("restart", from)
    H.eq(data.notified, { "tilt_lsp: restart greeter" }, "what :Tilt restart told the user")
    H.wait(5000, function()
      return listening() > data.listening_before
    end, function()
      return "a new 'greeter listening' line in the log buffer:\n" .. H.text(logbuf)
    end)
    data.listening_after = listening()
  end)

  H.it(":Tilt rebuild with no resource asks which, then rebuilds it", function(data)
    local before = H.wait(10000, ready("greeter"), "greeter ready")
    local select = vim.ui.select
    vim.ui.select = function(items, opts, on_choice)
      data.items, data.prompt = items, opts.prompt
      on_choice("greeter")
    end
    vim.cmd("Tilt rebuild")
    vim.ui.select = select
    H.eq(data.items, { "greeter", "tests" }, "choices offered")
    local after = H.wait(20000, function()
      local r = ready("greeter")()
      return r and r.updateCount > before.updateCount and r.pid ~= before.pid and r
    end, "greeter rebuilt (updateCount up, new pid)")
    data.update_count = { before.updateCount, after.updateCount }
    data.reason = after.lastUpdateReason
  end)

  H.it(":Tilt logs (Tiltfile) shows the Tiltfile's own output", function(data)
    local win = vim.api.nvim_get_current_win()
    vim.cmd("Tilt logs (Tiltfile)")
    local buf = vim.api.nvim_get_current_buf()
    data.name = vim.api.nvim_buf_get_name(buf)
    H.wait(5000, function()
      return H.text(buf) ~= ""
    end, "the Tiltfile log (or a message in the buffer)")
    data.text = H.text(buf)
    vim.cmd("close")
    vim.api.nvim_set_current_win(win)
    H.truthy(data.name:find("/%(Tiltfile%)$"), "buffer name " .. data.name)
    H.truthy(not data.text:find("^%[tilt/logs"), "the log buffer says: " .. data.text)
  end)

  H.it(":Tilt restart of an unknown resource shows the server's error", function(data)
    local from = #H.messages + 1
    vim.cmd("Tilt restart nope")
    local msgs = H.wait(5000, function()
      local m = H.notified("restart nope", from)
      return #m > 0 and m
    end, "an error message")
    data.msg = msgs[1]
    H.truthy(data.msg:find("greeter"), "the error names the resources that exist: " .. data.msg)
    H.truthy(data.msg:find("^tilt_lsp: restart nope: no resource named 'nope'"), "a plain message: " .. data.msg)
  end)

  H.it(":Tilt status shows every resource in a float", function(data)
    vim.cmd("Tilt status")
    local win = H.wait(5000, function()
      for _, w in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(w).relative ~= "" then
          return w
        end
      end
    end, "a floating window")
    local text = H.text(vim.api.nvim_win_get_buf(win))
    data.text = text
    H.truthy(text:find("state: ok"), "state line")
    H.truthy(text:find("\ngreeter%s+ready · pid %d+%s+%d%d:%d%d:%d%d"), "greeter row")
    H.truthy(text:find("\ntests%s+up to date"), "tests row")
    H.truthy(not text:find("not_started") and not text:find("%f[%w]none%f[%W]"), "plain words only")
    vim.cmd("close")
  end)

  H.it(":Tilt disable / enable", function(data)
    vim.cmd("Tilt disable greeter")
    -- Wait for the stop to finish: an enable during a disable's stop is a server race
    -- (Engine.disable awaits the stop after marking the resource disabled).
    H.wait(10000, function()
      local r = resources().greeter
      return r and r.enabled == false and r.runtimeStatus == "disabled"
    end, function()
      return "greeter disabled; it is " .. vim.inspect(resources().greeter)
    end)
    data.enable_completion = vim.fn.getcompletion("Tilt enable ", "cmdline")
    H.eq(data.enable_completion, { "greeter" }, "Tilt enable <Tab> once greeter is disabled")
    vim.cmd("Tilt enable greeter")
    H.wait(20000, ready("greeter"), "greeter ready after enable")
  end)

  H.it(":Tilt stop stops the server and what it started", function(data)
    local pid = H.wait(10000, ready("greeter"), "greeter ready").pid
    vim.cmd("Tilt stop")
    H.wait(10000, function()
      return #vim.lsp.get_clients({ name = "tilt-lsp" }) == 0
    end, "the client to stop")
    H.wait(10000, function()
      return not vim.uv.kill(pid, 0)
    end, "greeter (pid " .. pid .. ") to end")
    data.pid = pid
    local logbuf = vim.fn.bufnr("tilt-logs://" .. ws .. "/greeter")
    H.wait(5000, function()
      local lines = vim.api.nvim_buf_get_lines(logbuf, -2, -1, false)
      return lines[1] == "[tilt-lsp stopped]"
    end, "the log buffer to say the server stopped")
  end)

  H.it("follow_logs = false: no log notifications, :Tilt logs is a snapshot", function(data)
    H.eq(require("tilt_lsp").setup({ cmd = { vim.env.TILT_LSP_SERVER, "serve" }, follow_logs = false }), true, "setup()")
    vim.cmd.edit(ws .. "/server.py")
    local c = H.wait(10000, function()
      return vim.lsp.get_clients({ name = "tilt-lsp", bufnr = 0 })[1]
    end, "a new client after setup()")
    data.init_options = c.config.init_options
    H.eq(data.init_options, { watch = true, logNotifications = false }, "initializationOptions")
    H.wait(30000, ready("greeter"), "greeter ready")
    local from = #H.messages + 1
    vim.cmd("Tilt logs greeter")
    local buf = vim.api.nvim_get_current_buf()
    H.eq(vim.api.nvim_buf_get_name(buf), "tilt-logs://" .. ws .. "/greeter", "log buffer name (the old one reused)")
    H.wait(5000, function()
      return H.text(buf):find("greeter listening on")
    end, "the log snapshot")
    data.text = H.text(buf)
    H.truthy(not data.text:find("tilt%-lsp stopped"), "the old server's log was cleared")
    data.notified = H.notified("snapshot", from)
    H.eq(#data.notified, 1, "told that the log is a snapshot")
  end)
end)
