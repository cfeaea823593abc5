-- Tiltfile features in a real Neovim: hover and completion from the server's catalog, code
-- lenses over each resource that follow the status, a lens's ↻ Restart run the way a user
-- runs it (vim.lsp.codelens.run, then pick), and :Tilt's status window. Environment (set by
-- test_neovim.py): TILT_LSP_WORKSPACE (a copy of examples/hello-local), TILT_LSP_SERVER.
local H = dofile(vim.env.TILT_LSP_SPEC_DIR .. "/harness.lua")
local protocol = require("tilt_lsp.protocol")

local ws = assert(vim.env.TILT_LSP_WORKSPACE)
local tiltfile = ws .. "/Tiltfile"

---@return vim.lsp.Client
local function client()
  return H.truthy(vim.lsp.get_clients({ name = "tilt-lsp" })[1], "no tilt-lsp client")
end

local function greeter()
  local result = client():request_sync(protocol.request.resources, {}, 5000)
  for _, r in ipairs(result and result.result and result.result.resources or {}) do
    if r.name == "greeter" then
      return r
    end
  end
end

local function greeter_ready()
  local r = greeter()
  return r and r.runtimeStatus == "ready" and r.pid ~= vim.NIL and r
end

--- The 1-based line of `local_resource(` that declares `name`.
local function declared(name)
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  for i, l in ipairs(lines) do
    if l:find("'" .. name .. "'", 1, true) then
      for j = i, 1, -1 do
        if lines[j]:find("^local_resource%(") then
          return j
        end
      end
    end
  end
end

local function lens_titles(bufnr, line)
  local out = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.range.start.line == line - 1 and lens.command then
      out[#out + 1] = lens.command.title
    end
  end
  return out
end

H.run(function()
  vim.cmd.cd(ws)
  vim.cmd.edit(tiltfile)
  local buf = vim.api.nvim_get_current_buf()
  H.wait(20000, function()
    return vim.lsp.get_clients({ name = "tilt-lsp", bufnr = buf })[1]
  end, "tilt-lsp attached to the Tiltfile")
  H.wait(30000, greeter_ready, "greeter ready")

  H.it("a Tiltfile gets the tiltfile filetype", function(data)
    data.filetype = vim.bo[buf].filetype
    H.eq(data.filetype, "tiltfile", "filetype of the Tiltfile")
  end)

  H.it("hover on local_resource shows the catalog's docs", function(data)
    local line = declared("greeter")
    vim.api.nvim_win_set_cursor(0, { line, 2 })
    local params = vim.lsp.util.make_position_params(0, "utf-16")
    local result = client():request_sync("textDocument/hover", params, 5000)
    local value = result and result.result and result.result.contents.value or ""
    data.hover = value:sub(1, 200)
    H.truthy(value:find("local_resource(name: str", 1, true), "the signature in the hover: " .. value)
  end)

  H.it("completion offers Tilt functions and keyword arguments", function(data)
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, { "docker_b", "local_resource('x', " })
    local last = vim.api.nvim_buf_line_count(buf)
    local function labels(line, col)
      local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = col } }
      local result = client():request_sync("textDocument/completion", params, 5000)
      local items = result and result.result and (result.result.items or result.result) or {}
      return vim.tbl_map(function(i)
        return i.label
      end, items)
    end
    data.functions = vim.tbl_filter(function(l)
      return l:find("^docker") ~= nil
    end, labels(last - 2, 8))
    data.keywords = vim.tbl_filter(function(l)
      return l:find("=$") ~= nil
    end, labels(last - 1, 20))
    vim.api.nvim_buf_set_lines(buf, last - 2, last, false, {})
    vim.cmd("silent! undo")
    vim.bo[buf].modified = false
    H.truthy(vim.tbl_contains(data.functions, "docker_build"), "docker_build offered")
    H.truthy(vim.tbl_contains(data.keywords, "serve_cmd="), "serve_cmd= offered")
  end)

  local line = declared("greeter")

  H.it("a code lens over greeter shows its state, last update and actions", function(data)
    data.titles = H.wait(20000, function()
      local titles = lens_titles(buf, line)
      for _, t in ipairs(titles) do
        if t:find("greeter: ready · updated %d%d:%d%d:%d%d") then
          return titles
        end
      end
    end, function()
      return "greeter's lens; lenses: " .. vim.inspect(lens_titles(buf, line))
    end)
    H.truthy(vim.tbl_contains(data.titles, "↻ Restart"), "a restart lens")
    H.truthy(vim.tbl_contains(data.titles, "▶ Trigger"), "a trigger lens")
  end)

  H.it("running the ↻ Restart lens restarts greeter (new pid), and the lens follows", function(data)
    local before = greeter_ready().pid
    data.before = before
    vim.api.nvim_win_set_cursor(0, { line, 0 })
    local offered
    vim.ui.select = function(items, opts, choice)
      offered = vim.tbl_map(function(i)
        return opts.format_item and opts.format_item(i) or tostring(i)
      end, items)
      for i, item in ipairs(items) do
        local text = opts.format_item and opts.format_item(item) or tostring(item)
        if text:find("Restart", 1, true) then
          return choice(item, i)
        end
      end
      choice(nil, nil)
    end
    vim.lsp.codelens.run()
    data.offered = offered
    local after = H.wait(30000, function()
      local r = greeter_ready()
      return r and r.pid ~= before and r.pid
    end, "greeter restarted with a new pid")
    data.after = after
    -- The server asked for a refresh; the lens shows the new update time.
    data.titles = H.wait(10000, function()
      local titles = lens_titles(buf, line)
      for _, t in ipairs(titles) do
        if t:find("greeter: ready") then
          return titles
        end
      end
    end, "greeter's lens after the restart")
  end)

  H.it(":Tilt opens the status window, which follows tilt/status", function(data)
    vim.cmd("Tilt")
    local win = H.wait(5000, function()
      for _, w in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(w).relative ~= "" then
          return w
        end
      end
    end, "a floating window")
    local fbuf = vim.api.nvim_win_get_buf(win)
    data.text = H.text(fbuf)
    H.truthy(data.text:find("RESOURCE%s+STATUS%s+LAST UPDATE%s+ENDPOINTS"), "the table header")
    H.truthy(data.text:find("\ngreeter%s+ready · pid %d+"), "greeter's row")
    H.truthy(data.text:find("http://localhost:%d+"), "greeter's endpoint")
    local before = greeter_ready().pid
    client():request_sync(protocol.execute_command, { command = "tilt.restart", arguments = { "greeter" } }, 5000)
    data.after = H.wait(30000, function()
      local text = H.text(fbuf)
      local pid = tonumber(text:match("\ngreeter%s+ready · pid (%d+)"))
      return pid and pid ~= before and text
    end, "the window to show greeter's new pid")
    vim.cmd("close")
  end)
end)
