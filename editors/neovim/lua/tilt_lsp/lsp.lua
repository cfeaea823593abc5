---@brief The running tilt-lsp clients: finding the one for a buffer, and requests that
--- work the same on Neovim 0.10 (`client.request`) and 0.11+ (`client:request`).

local M = {}

--- The client name given to `vim.lsp.start` (one client per project root).
M.name = "tilt-lsp"

local has_011 = vim.fn.has("nvim-0.11") == 1

---@return vim.lsp.Client[]
function M.clients()
  return vim.lsp.get_clients({ name = M.name })
end

---@param path string
---@param root string?
---@return boolean
local function under(path, root)
  return root ~= nil and (path == root or vim.startswith(path, root .. "/"))
end

--- The client a command in `bufnr` talks to: the one attached to the buffer, the one a
--- log buffer belongs to, the one whose root holds the buffer's file (or the cwd), or the
--- only one running.
---@param bufnr integer?
---@return vim.lsp.Client?
function M.client_for(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local attached = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local owner = vim.b[bufnr].tilt_lsp_client
  if owner then
    local client = vim.lsp.get_client_by_id(owner)
    if client and not M.is_stopped(client) then
      return client
    end
  end
  local all = M.clients()
  if #all == 1 then
    return all[1]
  end
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == "" or path:match("^%a[%w+.-]*://") then
    path = vim.fn.getcwd()
  end
  for _, client in ipairs(all) do
    if under(path, client.root_dir) then
      return client
    end
  end
  return nil
end

--- The user-facing part of a JSON-RPC error: pygls prefixes the server's exception class
--- ("tilt_lsp.engine.engine.EngineError: no resource named 'x' (resources: …)").
---@param err lsp.ResponseError|table|string
---@return string
function M.error_text(err)
  local text = type(err) == "table" and tostring(err.message or vim.inspect(err)) or tostring(err)
  return (text:gsub("^[%w_]+[%w_.]*Error: ", ""))
end

--- Send a request; `handler(err, result)` runs on the main loop.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param handler fun(err: lsp.ResponseError?, result: any)
---@return boolean sent
function M.request(client, method, params, handler)
  local function on_response(err, result)
    handler(err, result)
  end
  local ok
  if has_011 then
    ok = client:request(method, params, on_response)
  else
    ---@diagnostic disable-next-line: param-type-mismatch
    ok = client.request(method, params, on_response)
  end
  return ok and true or false
end

--- Send a request and wait for its answer.
---@param client vim.lsp.Client
---@param method string
---@param params table
---@param timeout_ms integer
---@return any result, string? err
function M.request_sync(client, method, params, timeout_ms)
  local response, err
  if has_011 then
    response, err = client:request_sync(method, params, timeout_ms)
  else
    ---@diagnostic disable-next-line: param-type-mismatch
    response, err = client.request_sync(method, params, timeout_ms)
  end
  if not response then
    return nil, err or "no answer"
  end
  if response.err then
    return nil, M.error_text(response.err)
  end
  return response.result
end

---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- Stop a client (shutdown, then exit: the server stops what it started).
---@param client vim.lsp.Client
function M.stop(client)
  if has_011 then
    client:stop()
  else
    ---@diagnostic disable-next-line: missing-parameter
    client.stop()
  end
end

--- Resource names from `tilt/resources`, sorted; `filter` keeps some of them.
---@param client vim.lsp.Client
---@param timeout_ms integer
---@param filter? fun(resource: table): boolean
---@return string[]
function M.resource_names(client, timeout_ms, filter)
  local result = M.request_sync(client, require("tilt_lsp.protocol").request.resources, {}, timeout_ms)
  local resources = result and result.resources
  if not resources then
    -- The server is busy: fall back to the last tilt/status it sent.
    local status = require("tilt_lsp.status").last(client.id)
    resources = status and status.resources or {}
  end
  local names = {}
  for _, r in ipairs(resources) do
    if not filter or filter(r) then
      names[#names + 1] = r.name
    end
  end
  table.sort(names)
  return names
end

return M
