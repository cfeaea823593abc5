---@brief `:Tilt {subcommand} [resource]`: one user command, its subcommands and completion.
---
---   :Tilt restart|rebuild|trigger|enable|disable {resource}   workspace/executeCommand
---   :Tilt status                                              resources in a float
---   :Tilt logs {resource}                                     a buffer following the log
---   :Tilt stop                                                stop the server(s) for this buffer

local config = require("tilt_lsp.config")
local lsp = require("tilt_lsp.lsp")
local protocol = require("tilt_lsp.protocol")

local M = {}

---@class tilt_lsp.Subcommand
---@field run fun(client: vim.lsp.Client, resource: string?, opts: table) what it does
---@field resources? fun(resource: tilt_lsp.Resource): boolean which resource names complete (nil: takes none)
---@field extra? string[] names completed besides the resources
---@field needs_resource? boolean
---@field desc string

local function notify(msg, level)
  vim.notify("tilt_lsp: " .. msg, level or vim.log.levels.INFO)
end

--- Run a `tilt.*` command on the server; its outcome arrives as tilt/status.
---@param name string subcommand, a key of protocol.commands
---@param client vim.lsp.Client
---@param resource string
---@param done? fun(err: string?, result: any)
function M.execute(name, client, resource, done)
  local params = { command = protocol.commands[name], arguments = { resource } }
  lsp.request(client, protocol.execute_command, params, function(err, result)
    if err then
      notify(("%s %s: %s"):format(name, resource, lsp.error_text(err)), vim.log.levels.ERROR)
    else
      notify(("%s %s"):format(name, resource))
    end
    if done then
      done(err and lsp.error_text(err) or nil, result)
    end
  end)
end

local function any()
  return true
end

---@type table<string, tilt_lsp.Subcommand>
M.subcommands = {
  restart = {
    desc = "restart what runs (serve_cmd) without building",
    resources = any,
    needs_resource = true,
    run = function(client, resource)
      M.execute("restart", client, resource --[[@as string]])
    end,
  },
  rebuild = {
    desc = "full rebuild and redeploy (cmd, then serve_cmd)",
    resources = any,
    needs_resource = true,
    run = function(client, resource)
      M.execute("rebuild", client, resource --[[@as string]])
    end,
  },
  trigger = {
    desc = "apply the pending changes of a manual resource",
    resources = any,
    needs_resource = true,
    run = function(client, resource)
      M.execute("trigger", client, resource --[[@as string]])
    end,
  },
  enable = {
    desc = "enable a disabled resource",
    resources = function(r)
      return r.enabled == false
    end,
    needs_resource = true,
    run = function(client, resource)
      M.execute("enable", client, resource --[[@as string]])
    end,
  },
  disable = {
    desc = "stop a resource and clear its diagnostics",
    resources = function(r)
      return r.enabled ~= false
    end,
    needs_resource = true,
    run = function(client, resource)
      M.execute("disable", client, resource --[[@as string]])
    end,
  },
  status = {
    desc = "every resource's state, in a floating window",
    run = function(client)
      require("tilt_lsp.status").show(client)
    end,
  },
  logs = {
    desc = "a buffer that follows a resource's log",
    resources = any,
    extra = { protocol.tiltfile_resource },
    needs_resource = true,
    run = function(client, resource, opts)
      require("tilt_lsp.logs").open(client, resource --[[@as string]], opts.mods)
    end,
  },
  stop = {
    desc = "stop the tilt-lsp server (and everything it started) for this buffer",
    run = function(client)
      lsp.stop(client)
      notify("stopped the server for " .. (client.root_dir or "?"))
    end,
  },
}

--- Subcommand names, sorted.
---@return string[]
function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

---@return vim.lsp.Client?
local function client_or_warn()
  local client = lsp.client_for(0)
  if not client then
    notify(
      "no tilt-lsp server for this buffer: open a file under a folder with a Tiltfile (after setup()), or see :checkhealth tilt_lsp",
      vim.log.levels.WARN
    )
  end
  return client
end

---@param sub tilt_lsp.Subcommand
---@param client vim.lsp.Client
---@return string[]
local function resource_choices(sub, client)
  local cfg = config.current or config.defaults
  local names = lsp.resource_names(client, cfg.timeout_ms, sub.resources)
  return vim.list_extend(names, vim.deepcopy(sub.extra or {}))
end

--- The `:Tilt` command's callback.
---@param opts { fargs: string[], mods?: string, smods?: table }
function M.run(opts)
  local name, resource = opts.fargs[1] or "status", opts.fargs[2]
  local sub = M.subcommands[name]
  if not sub then
    notify(("unknown subcommand '%s'; use one of: %s"):format(name, table.concat(M.names(), ", ")), vim.log.levels.ERROR)
    return
  end
  if #opts.fargs > (sub.needs_resource and 2 or 1) then
    notify(("'%s' takes %s"):format(name, sub.needs_resource and "one resource name" or "no argument"), vim.log.levels.ERROR)
    return
  end
  local client = client_or_warn()
  if not client then
    return
  end
  if sub.needs_resource and not resource then
    -- No name given: pick one.
    local choices = resource_choices(sub, client)
    if #choices == 0 then
      notify(("no resource to %s"):format(name), vim.log.levels.WARN)
      return
    end
    vim.ui.select(choices, { prompt = ("Tilt %s: "):format(name) }, function(choice)
      if choice then
        sub.run(client, choice, opts)
      end
    end)
    return
  end
  sub.run(client, resource, opts)
end

--- Completion for `:Tilt`: subcommands, then resource names from `tilt/resources`.
---@param arglead string
---@param cmdline string
---@return string[]
function M.complete(arglead, cmdline, _)
  local rest = cmdline:match("^.-Tilt!?%s+(.*)$") or ""
  local words = vim.split(rest, "%s+", { trimempty = true })
  -- Words already complete (the one being typed is arglead).
  local done = #words - (arglead ~= "" and 1 or 0)
  local candidates = {}
  if done == 0 then
    candidates = M.names()
  elseif done == 1 then
    local sub = M.subcommands[words[1]]
    local client = sub and sub.needs_resource and lsp.client_for(0)
    if client then
      candidates = resource_choices(sub, client)
    end
  end
  return vim.tbl_filter(function(c)
    return vim.startswith(c, arglead)
  end, candidates)
end

--- Define `:Tilt` here (idempotent). plugin/tilt_lsp.lua defines the same command without
--- loading this module; setup() calls this only when plugin/ was not sourced.
function M.create()
  vim.api.nvim_create_user_command("Tilt", function(opts)
    M.run(opts)
  end, {
    nargs = "*",
    complete = function(...)
      return M.complete(...)
    end,
    desc = "tilt-lsp: restart|rebuild|trigger|enable|disable|logs {resource}, status, stop",
  })
end

return M
