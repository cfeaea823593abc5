---@brief tilt-lsp for Neovim: starts `tilt-lsp serve` (one client per folder holding a
--- Tiltfile) for the buffers under it. Diagnostics go to `vim.diagnostic` as from any
--- language server; `:Tilt` (commands.lua) drives resources.
---
--- ```lua
--- require("tilt_lsp").setup({ cmd = { "tilt-lsp", "serve" }, watch = true })
--- ```

local config = require("tilt_lsp.config")
local lsp = require("tilt_lsp.lsp")
local protocol = require("tilt_lsp.protocol")

local M = {}

local augroup = "tilt_lsp"
local warned_missing = false

--- Validate `opts` (merged over `vim.g.tilt_lsp`), then start the server for every
--- buffer under a Tiltfile, now and as buffers are read. Calling it again replaces the
--- options; running servers keep theirs until they stop (`:Tilt stop`).
---@param opts? tilt_lsp.Options
---@return boolean ok, string? err the readable error, also shown with vim.notify
function M.setup(opts)
  local cfg, err = config.resolve(opts)
  if not cfg then
    vim.notify(err --[[@as string]], vim.log.levels.ERROR)
    return false, err
  end
  config.current = cfg
  if vim.fn.exists(":Tilt") ~= 2 then
    -- Loaded without plugin/ (a bare require): define :Tilt here.
    require("tilt_lsp.commands").create()
  end
  local group = vim.api.nvim_create_augroup(augroup, { clear = true })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == lsp.name and #vim.lsp.get_buffers_by_client_id(client.id) <= 1 then
        -- The last buffer is going (or the server stopped): drop what we kept for it.
        vim.schedule(function()
          if lsp.is_stopped(client) then
            require("tilt_lsp.status").forget(client.id)
            require("tilt_lsp.logs").forget(client.id)
          end
        end)
      end
    end,
  })
  if cfg.autostart then
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(args)
        M.start(args.buf)
      end,
    })
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) then
        M.start(buf)
      end
    end
  end
  return true
end

--- The project root of a buffer: the nearest folder up from its file holding a root marker.
---@param bufnr integer
---@return string?
function M.root(bufnr)
  local cfg = config.current or config.defaults
  local name = vim.api.nvim_buf_get_name(bufnr)
  -- Only real files: not help, terminals, scratch buffers or fugitive://-style names.
  if vim.bo[bufnr].buftype ~= "" or name == "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  return vim.fs.root(bufnr, cfg.root_markers)
end

--- Start (or reuse) the client for the buffer's root and attach it to the buffer.
---@param bufnr? integer default: the current buffer
---@return integer? client_id nil when the buffer is under no Tiltfile or the server is missing
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local root = M.root(bufnr)
  if not root then
    return nil
  end
  local cfg = config.current or config.defaults
  if vim.fn.executable(cfg.cmd[1]) ~= 1 then
    if not warned_missing then
      warned_missing = true
      vim.notify(
        ("tilt_lsp: server command '%s' not found; install tilt-lsp (pip install tilt-lsp) or set cmd in setup(). :checkhealth tilt_lsp"):format(
          cfg.cmd[1]
        ),
        vim.log.levels.WARN
      )
    end
    return nil
  end
  local codelens = require("tilt_lsp.codelens")
  codelens.register_commands()
  local capabilities = vim.tbl_deep_extend("force", vim.lsp.protocol.make_client_capabilities(), codelens.capabilities)
  if cfg.capabilities then
    capabilities = vim.tbl_deep_extend("force", capabilities, cfg.capabilities)
  end
  return vim.lsp.start({
    name = lsp.name,
    cmd = cfg.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    capabilities = capabilities,
    init_options = M.init_options(cfg),
    handlers = {
      [protocol.notification.status] = require("tilt_lsp.status").on_status,
      [protocol.notification.log] = require("tilt_lsp.logs").on_log,
      ["workspace/codeLens/refresh"] = codelens.on_refresh,
    },
    on_attach = function(client, buf)
      if cfg.codelens then
        codelens.attach(buf)
      end
      if cfg.on_attach then
        cfg.on_attach(client, buf)
      end
    end,
  }, { bufnr = bufnr })
end

--- The server's initializationOptions (docs/protocol.md) for a configuration.
---@param cfg tilt_lsp.Config
---@return table
function M.init_options(cfg)
  return {
    tiltfile = cfg.tiltfile,
    watch = cfg.watch,
    logNotifications = cfg.follow_logs,
  }
end

--- A short summary for a statusline: `tilt: ok`, `tilt: building greeter`, `tilt: 2 errors`.
---@param bufnr? integer
---@return string
function M.statusline(bufnr)
  return require("tilt_lsp.status").statusline(bufnr)
end

return M
