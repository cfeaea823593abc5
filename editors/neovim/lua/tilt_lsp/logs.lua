---@brief `:Tilt logs RESOURCE`: a scratch buffer filled from `tilt/logs`, then appended to
--- from `tilt/log` notifications (the server sends them when `follow_logs` is on).

local config = require("tilt_lsp.config")
local lsp = require("tilt_lsp.lsp")
local protocol = require("tilt_lsp.protocol")

local M = {}

---@class tilt_lsp.LogBuffer
---@field bufnr integer
---@field pending boolean waiting for the tilt/logs answer
---@field queued string[] lines that arrived by notification while pending
---@field empty boolean the buffer holds no log line yet

--- Log buffers, by client id then resource name.
---@type table<integer, table<string, tilt_lsp.LogBuffer>>
local buffers = {}

--- Log lines as buffer lines: no ANSI colour, no CR, no embedded newline.
---@param lines string[]
---@return string[]
local function clean(lines)
  local out = {}
  for _, line in ipairs(lines) do
    line = tostring(line):gsub("\27%[[%d;?]*[%a]", ""):gsub("\r", "")
    for part in (line .. "\n"):gmatch("(.-)\n") do
      out[#out + 1] = part
    end
  end
  return out
end

--- How many of `a`'s last lines are `b`'s first lines (notifications that the answer to
--- tilt/logs already held).
---@param a string[]
---@param b string[]
---@return integer
local function overlap(a, b)
  for k = math.min(#a, #b), 1, -1 do
    local same = true
    for i = 1, k do
      if a[#a - k + i] ~= b[i] then
        same = false
        break
      end
    end
    if same then
      return k
    end
  end
  return 0
end

---@param entry tilt_lsp.LogBuffer
---@param lines string[]
local function append(entry, lines)
  local buf = entry.bufnr
  if #lines == 0 or not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  -- Windows whose cursor sits on the last line follow the log.
  local last = vim.api.nvim_buf_line_count(buf)
  local following = {}
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] >= last then
      following[#following + 1] = win
    end
  end
  vim.bo[buf].modifiable = true
  if entry.empty then
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    entry.empty = false
  else
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, lines)
  end
  vim.bo[buf].modifiable = false
  local count = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(following) do
    vim.api.nvim_win_set_cursor(win, { count, 0 })
  end
end

--- Handler for the `tilt/log` notification.
---@param result { resource: string, lines: string[] }
---@param ctx lsp.HandlerContext
function M.on_log(_, result, ctx)
  local entry = buffers[ctx.client_id] and buffers[ctx.client_id][result.resource]
  if not entry then
    return
  end
  local lines = clean(result.lines or {})
  if entry.pending then
    vim.list_extend(entry.queued, lines)
  else
    append(entry, lines)
  end
end

--- Forget a client's log buffers when it exits (the buffers stay, marked as ended).
---@param client_id integer
function M.forget(client_id)
  for _, entry in pairs(buffers[client_id] or {}) do
    if not entry.pending then
      append(entry, { "[tilt-lsp stopped]" })
    end
  end
  buffers[client_id] = nil
end

--- Fill (or refill) a log buffer from tilt/logs, then flush what arrived meanwhile.
---@param client vim.lsp.Client
---@param resource string
---@param entry tilt_lsp.LogBuffer
---@param done? fun(bufnr: integer?, err: string?)
local function fill(client, resource, entry, done)
  entry.pending, entry.queued = true, {}
  local cfg = config.current or config.defaults
  lsp.request(client, protocol.request.logs, { resource = resource, lines = cfg.log_lines }, function(err, result)
    entry.pending = false
    if err or not result then
      local msg = ("tilt/logs %s failed: %s"):format(resource, err and lsp.error_text(err) or "no answer")
      vim.notify("tilt_lsp: " .. msg, vim.log.levels.ERROR)
      -- Say it in the buffer too, where the user is looking.
      entry.empty = true
      append(entry, { "[" .. msg .. "]" })
      entry.empty = true
      return done and done(nil, msg)
    end
    local lines = clean(result.lines or {})
    entry.empty = true
    if #lines == 0 then
      lines = { ("[no log for %s yet]"):format(resource) }
      append(entry, lines)
      entry.empty = true
    else
      append(entry, lines)
    end
    local queued = entry.queued
    entry.queued = {}
    append(entry, vim.list_slice(queued, overlap(lines, queued) + 1))
    return done and done(entry.bufnr)
  end)
end

---@param name string
---@return integer?
local function find_buffer(name)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(buf) == name and vim.b[buf].tilt_lsp_resource then
      return buf
    end
  end
end

--- Open (or show again) the log buffer of `resource`.
---@param client vim.lsp.Client
---@param resource string
---@param mods? string command modifiers for the split, e.g. "vertical" or "tab"
---@param done? fun(bufnr: integer?, err: string?) called once the buffer is filled
---@return integer bufnr
function M.open(client, resource, mods, done)
  buffers[client.id] = buffers[client.id] or {}
  local entry = buffers[client.id][resource]
  local cfg = config.current or config.defaults
  if not (entry and vim.api.nvim_buf_is_valid(entry.bufnr)) then
    local name = ("tilt-logs://%s/%s"):format(client.root_dir or client.id, resource)
    -- The buffer of an earlier server for this root (stopped, restarted) is reused.
    local buf = find_buffer(name)
    if buf then
      vim.bo[buf].modifiable = true
      vim.api.nvim_buf_set_lines(buf, 0, -1, false, {})
    else
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, name)
    end
    vim.bo[buf].filetype = "tiltlog"
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].modifiable = false
    vim.b[buf].tilt_lsp_client = client.id
    vim.b[buf].tilt_lsp_resource = resource
    entry = { bufnr = buf, pending = false, queued = {}, empty = true }
    buffers[client.id][resource] = entry
    vim.api.nvim_create_autocmd("BufWipeout", {
      buffer = buf,
      once = true,
      callback = function()
        if buffers[client.id] then
          buffers[client.id][resource] = nil
        end
      end,
    })
    fill(client, resource, entry, done)
  elseif not cfg.follow_logs then
    -- Not following: opening again refreshes the snapshot.
    vim.bo[entry.bufnr].modifiable = true
    vim.api.nvim_buf_set_lines(entry.bufnr, 0, -1, false, {})
    vim.bo[entry.bufnr].modifiable = false
    fill(client, resource, entry, done)
  elseif done then
    vim.schedule(function()
      done(entry.bufnr)
    end)
  end
  if #vim.fn.win_findbuf(entry.bufnr) == 0 then
    vim.cmd(("%s sbuffer %d"):format(mods and mods ~= "" and mods or "botright", entry.bufnr))
    vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(entry.bufnr), 0 })
  else
    vim.fn.win_gotoid(vim.fn.win_findbuf(entry.bufnr)[1])
  end
  if not cfg.follow_logs then
    vim.notify("tilt_lsp: follow_logs is off: this log is a snapshot; :Tilt logs " .. resource .. " refreshes it")
  end
  return entry.bufnr
end

return M
