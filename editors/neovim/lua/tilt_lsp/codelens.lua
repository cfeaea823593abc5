---@brief Code lenses in the Tiltfile: each resource's state and last update, ▶ trigger,
--- ↻ restart, logs and its endpoints, kept current as the server's status changes (the
--- server asks with `workspace/codeLens/refresh`). `vim.lsp.codelens.run()` on a lens line
--- offers its actions. Also the client side of the server's lens/action commands:
--- `tilt.showLogs` (a resource's log, at the line of an error) and `tilt.openLink`.

local lsp = require("tilt_lsp.lsp")

local M = {}

--- The client capability that lets the server ask for a refresh.
M.capabilities = { workspace = { codeLens = { refreshSupport = true } } }

---@param bufnr integer
---@return boolean
function M.is_tiltfile(bufnr)
  local name = vim.fs.basename(vim.api.nvim_buf_get_name(bufnr))
  return name == "Tiltfile" or name:match("%.Tiltfile$") ~= nil or name:match("^Tiltfile%.") ~= nil
    or name:match("%.star$") ~= nil
end

---@param bufnr integer
function M.refresh(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_buf_is_loaded(bufnr) then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  end
end

--- Start showing lenses in a Tiltfile buffer the client just attached to.
---@param bufnr integer
function M.attach(bufnr)
  if not M.is_tiltfile(bufnr) or vim.b[bufnr].tilt_lsp_codelens then
    return
  end
  vim.b[bufnr].tilt_lsp_codelens = true
  vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
    buffer = bufnr,
    group = vim.api.nvim_create_augroup("tilt_lsp_codelens_" .. bufnr, { clear = true }),
    callback = function()
      M.refresh(bufnr)
    end,
  })
  M.refresh(bufnr)
end

--- Handler for `workspace/codeLens/refresh`: the lenses of every Tiltfile buffer of the client.
---@param ctx lsp.HandlerContext
function M.on_refresh(_, _, ctx)
  for _, buf in ipairs(vim.lsp.get_buffers_by_client_id(ctx.client_id)) do
    if vim.b[buf].tilt_lsp_codelens then
      M.refresh(buf)
    end
  end
  return vim.NIL
end

--- `tilt.showLogs {resource, around?}`: the log buffer, with the cursor on the last line
--- that holds `around` (the error a code action came from) once the log is filled.
---@param command lsp.Command
---@param ctx { client_id: integer, bufnr: integer }
local function show_logs(command, ctx)
  local arg = (command.arguments or {})[1] or {}
  local client = vim.lsp.get_client_by_id(ctx.client_id) or lsp.client_for(ctx.bufnr)
  if type(arg.resource) ~= "string" or not client then
    return
  end
  require("tilt_lsp.logs").open(client, arg.resource, nil, function(buf)
    if type(arg.around) ~= "string" or arg.around == "" or not buf then
      return
    end
    local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    for i = #lines, 1, -1 do
      if lines[i]:find(arg.around, 1, true) then
        for _, win in ipairs(vim.fn.win_findbuf(buf)) do
          vim.api.nvim_win_set_cursor(win, { i, 0 })
        end
        return
      end
    end
  end)
end

---@param command lsp.Command
local function open_link(command)
  local url = (command.arguments or {})[1]
  if type(url) == "string" and url:match("^https?://") then
    vim.ui.open(url)
  end
end

--- Register the client-side commands (once).
function M.register_commands()
  vim.lsp.commands["tilt.showLogs"] = show_logs
  vim.lsp.commands["tilt.openLink"] = open_link
end

return M
