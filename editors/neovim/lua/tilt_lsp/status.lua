---@brief Resource states: the last `tilt/status` per client (for statuslines and the
--- `User TiltStatus` autocmd) and `:Tilt status`, a floating table of every resource.

local lsp = require("tilt_lsp.lsp")
local protocol = require("tilt_lsp.protocol")

local M = {}

---@class tilt_lsp.Resource
---@field name string
---@field kind string
---@field enabled boolean
---@field triggerMode string
---@field buildStatus string
---@field runtimeStatus string
---@field pid integer?
---@field exitCode integer?
---@field lastError string?
---@field updateCount integer
---@field logTail string[]

---@class tilt_lsp.Status
---@field state "ok"|"error"|"building"
---@field errors integer
---@field warnings integer
---@field building string[]
---@field tiltfile { path: string?, error: string? }
---@field resources tilt_lsp.Resource[]

---@type table<integer, tilt_lsp.Status>
local by_client = {}

--- The last status the server sent, or nil before the first one.
---@param client_id integer
---@return tilt_lsp.Status?
function M.last(client_id)
  return by_client[client_id]
end

--- Handler for the `tilt/status` notification.
---@param result tilt_lsp.Status
---@param ctx lsp.HandlerContext
function M.on_status(_, result, ctx)
  by_client[ctx.client_id] = result
  vim.api.nvim_exec_autocmds("User", {
    pattern = "TiltStatus",
    modeline = false,
    data = { client_id = ctx.client_id, status = result },
  })
end

--- Forget a client's status when it exits.
---@param client_id integer
function M.forget(client_id)
  by_client[client_id] = nil
end

--- A short summary for a statusline: `tilt: ok`, `tilt: building greeter`, `tilt: 2 errors`.
---@param bufnr integer?
---@return string
function M.statusline(bufnr)
  local client = lsp.client_for(bufnr)
  local status = client and by_client[client.id]
  if not status then
    return ""
  end
  if status.state == "building" and #status.building > 0 then
    return "tilt: building " .. table.concat(status.building, ", ")
  end
  if status.errors > 0 then
    return ("tilt: %d error%s"):format(status.errors, status.errors == 1 and "" or "s")
  end
  return "tilt: " .. status.state
end

--- A resource's state in plain words: the server's summary ("ready", "update failed",
--- "waiting for db") with the pid of what runs.
---@param r table
---@return string
function M.state_text(r)
  if r.enabled == false then
    return "disabled"
  end
  local text = (r.summary and r.summary ~= vim.NIL) and r.summary or tostring(r.runtimeStatus):gsub("_", " ")
  if r.pid and r.pid ~= vim.NIL and (r.runtimeStatus == "ready" or r.runtimeStatus == "running") then
    text = text .. " · pid " .. r.pid
  end
  return text
end

local function value(v)
  return (v ~= nil and v ~= vim.NIL) and v or nil
end

local columns = {
  { "RESOURCE", function(r)
    return r.name
  end },
  { "STATUS", M.state_text },
  { "LAST UPDATE", function(r)
    local at = value(r.lastUpdateAt)
    if not at then
      return "-"
    end
    local reason = value(r.lastUpdateReason)
    return os.date("%H:%M:%S", math.floor(at)) .. (reason and reason ~= "" and (" (" .. reason .. ")") or "")
  end },
  { "ENDPOINTS", function(r)
    local eps = value(r.endpoints)
    return eps and #eps > 0 and table.concat(eps, " ") or "-"
  end },
  { "LAST ERROR", function(r)
    return value(r.lastError) or "-"
  end },
}

--- The lines `:Tilt status` shows, from a `tilt/resources` result (or a `tilt/status`).
---@param result tilt_lsp.Status
---@param root string?
---@return string[]
function M.render(result, root)
  local rows = { vim.tbl_map(function(c)
    return c[1]
  end, columns) }
  for _, r in ipairs(result.resources or {}) do
    local row = {}
    for i, c in ipairs(columns) do
      row[i] = (tostring(c[2](r)):gsub("\n.*", " …"))
    end
    rows[#rows + 1] = row
  end
  local widths = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      widths[i] = math.max(widths[i] or 0, vim.fn.strdisplaywidth(cell))
    end
  end
  local lines = {
    ("state: %s   errors: %d   warnings: %d"):format(result.state, result.errors or 0, result.warnings or 0),
  }
  if root then
    lines[#lines + 1] = "root: " .. root
  end
  local tf = result.tiltfile
  if tf and tf.error and tf.error ~= vim.NIL then
    lines[#lines + 1] = "Tiltfile error: " .. tostring(tf.error):gsub("\n.*", " …")
  end
  lines[#lines + 1] = ""
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      cells[i] = i == #row and cell or cell .. string.rep(" ", widths[i] - vim.fn.strdisplaywidth(cell))
    end
    lines[#lines + 1] = table.concat(cells, "  ")
  end
  return lines
end

--- Show lines in a floating window that `q` or `<Esc>` closes.
---@param lines string[]
---@return integer bufnr, integer winid
local function float(lines)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = "tiltstatus"
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l))
  end
  width = math.min(width + 2, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(1, vim.o.lines - 6))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = "rounded",
    title = " Tilt ",
    title_pos = "center",
  })
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, "<cmd>close<cr>", { buffer = buf, nowait = true, desc = "close" })
  end
  return buf, win
end

--- `:Tilt status`: fetch `tilt/resources` and show every resource's state in a float.
---@param client vim.lsp.Client
---@param done? fun(bufnr: integer?, err: string?) called once shown (for tests and scripts)
function M.show(client, done)
  lsp.request(client, protocol.request.resources, {}, function(err, result)
    if err or not result then
      local msg = "tilt_lsp: " .. (err and lsp.error_text(err) or "no answer to tilt/resources")
      vim.notify(msg, vim.log.levels.ERROR)
      return done and done(nil, msg)
    end
    local buf, win = float(M.render(result, client.root_dir))
    -- The window follows tilt/status while it is open.
    local id = vim.api.nvim_create_autocmd("User", {
      pattern = "TiltStatus",
      callback = function(ev)
        if not vim.api.nvim_win_is_valid(win) then
          return true -- closed: drop this autocmd
        end
        if ev.data and ev.data.client_id == client.id then
          vim.bo[buf].modifiable = true
          vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.render(ev.data.status, client.root_dir))
          vim.bo[buf].modifiable = false
        end
      end,
    })
    vim.api.nvim_create_autocmd("WinClosed", {
      pattern = tostring(win),
      once = true,
      callback = function()
        pcall(vim.api.nvim_del_autocmd, id)
      end,
    })
    return done and done(buf)
  end)
end

return M
