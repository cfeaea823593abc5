---@brief `:checkhealth tilt_lsp`: Neovim version, options, the server command and its
--- version, the Tiltfile for the cwd, and what `tilt-lsp doctor` says about this machine.

local config = require("tilt_lsp.config")
local lsp = require("tilt_lsp.lsp")

local M = {}

local health = vim.health

--- The command prefix that runs tilt-lsp's other subcommands: `cmd` up to "serve".
---@param cmd string[]
---@return string[]
function M.base_cmd(cmd)
  local base = {}
  for _, part in ipairs(cmd) do
    if part == "serve" then
      return base
    end
    base[#base + 1] = part
  end
  return { cmd[1] }
end

---@param argv string[]
---@param timeout_ms integer
---@return vim.SystemCompleted? result, string? err
local function run(argv, timeout_ms)
  local ok, proc = pcall(vim.system, argv, { text = true })
  if not ok then
    return nil, tostring(proc)
  end
  local result = proc:wait(timeout_ms)
  if result.signal == 9 or result.code == 124 then
    return nil, ("no answer within %d s"):format(timeout_ms / 1000)
  end
  return result
end

---@return tilt_lsp.Config
local function check_config()
  health.start("tilt_lsp: configuration")
  if config.current then
    health.ok("setup() done; options are valid")
    return config.current
  end
  local cfg, err = config.resolve(nil)
  if not cfg then
    health.error(err --[[@as string]], { "fix the option named above in vim.g.tilt_lsp", ":help tilt_lsp-options" })
    return config.defaults
  end
  health.warn("setup() not called and vim.g.tilt_lsp not set: the server does not start by itself", {
    'call require("tilt_lsp").setup() in your config, or set vim.g.tilt_lsp = {}',
  })
  return cfg
end

---@param cfg tilt_lsp.Config
---@return boolean found
local function check_server(cfg)
  health.start("tilt_lsp: server")
  local exe = vim.fn.exepath(cfg.cmd[1])
  if exe == "" then
    health.error(("server command not found: %s"):format(cfg.cmd[1]), {
      "pip install tilt-lsp (from a checkout: pip install . or ./scripts/demo)",
      "or point cmd at it: setup({ cmd = { '/path/to/tilt-lsp', 'serve' } })",
    })
    return false
  end
  local argv = vim.list_extend(M.base_cmd(cfg.cmd), { "--version" })
  local result, err = run(argv, 10000)
  if not result or result.code ~= 0 then
    health.error(("`%s` failed: %s"):format(table.concat(argv, " "), err or vim.trim(result.stderr or "")), {
      "reinstall tilt-lsp, or check cmd in your options",
    })
    return false
  end
  health.ok(("%s (%s)"):format(vim.trim(result.stdout), exe))
  for _, client in ipairs(lsp.clients()) do
    health.info(("running for %s (client id %d)"):format(client.root_dir or "?", client.id))
  end
  return true
end

---@param cfg tilt_lsp.Config
---@return string? tiltfile
local function check_tiltfile(cfg)
  health.start("tilt_lsp: project")
  local cwd = vim.fn.getcwd()
  local root = vim.fs.root(cwd, cfg.root_markers)
  if not root then
    health.warn(("no %s in %s or its parents"):format(table.concat(cfg.root_markers, " or "), cwd), {
      "open Neovim in (or under) the folder that holds your Tiltfile",
    })
    return nil
  end
  local tiltfile = vim.fs.joinpath(root, cfg.tiltfile or "Tiltfile")
  if vim.fn.filereadable(tiltfile) ~= 1 then
    health.warn(("project root %s has no %s"):format(root, cfg.tiltfile or "Tiltfile"), {
      "set the tiltfile option to its path relative to the root",
    })
    return nil
  end
  health.ok("Tiltfile: " .. tiltfile)
  return tiltfile
end

--- Report one `tilt-lsp doctor` line: "[ok ] NAME: DETAIL", "[ERR] …" (the Tiltfile needs
--- it) or "[-- ] …" (missing, not needed by this Tiltfile); "fix:" lines are advice.
---@param mark string
---@param text string
---@param fix string?
local function report(mark, text, fix)
  local advice = fix and { fix } or nil
  if mark == "ok" then
    health.ok(text)
  elseif mark == "ERR" then
    health.error(text, advice)
  else
    health.info(text .. " — not needed by this Tiltfile" .. (fix and (" (to set it up: " .. fix .. ")") or ""))
  end
end

--- Fallback when doctor cannot run: is there a Docker socket at all?
local function check_docker_socket()
  local host = vim.env.DOCKER_HOST or "unix:///var/run/docker.sock"
  local path = host:match("^unix://(.*)$")
  if not path then
    health.info("Docker: DOCKER_HOST=" .. host .. " (not checked)")
    return
  end
  local stat = vim.uv.fs_stat(path)
  if stat and stat.type == "socket" then
    health.ok("Docker: socket " .. path .. " exists")
  else
    health.warn("Docker: no socket at " .. path, {
      "Docker is needed for docker_build and docker_compose resources; local_resource works without it",
    })
  end
end

---@param cfg tilt_lsp.Config
---@param tiltfile string?
local function check_machine(cfg, tiltfile)
  health.start("tilt_lsp: machine (tilt-lsp doctor)")
  local argv = vim.list_extend(M.base_cmd(cfg.cmd), { "doctor" })
  if tiltfile then
    vim.list_extend(argv, { "--file", tiltfile })
  end
  local result, err = run(argv, 30000)
  local out = result and result.stdout or ""
  if not out:find("%[") then
    health.warn(("`%s` did not run: %s"):format(table.concat(argv, " "), err or vim.trim(result and result.stderr or "")))
    check_docker_socket()
    return
  end
  local pending ---@type { [1]: string, [2]: string }?
  for line in (out .. "\n"):gmatch("(.-)\n") do
    local mark, text = line:match("^%[(%S+)%s*%]%s+(.*)$")
    local fix = line:match("^%s+fix:%s+(.*)$")
    if fix and pending then
      report(pending[1], pending[2], fix)
      pending = nil
    elseif mark then
      if pending then
        report(pending[1], pending[2])
      end
      -- Without a Tiltfile for the cwd doctor reports it missing; the project section did.
      pending = (tiltfile or not text:match("^Tiltfile:")) and { mark, text } or nil
    end
  end
  if pending then
    report(pending[1], pending[2])
  end
end

function M.check()
  health.start("tilt_lsp: Neovim")
  local v = vim.version()
  local version = ("%d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. version)
  else
    health.error("Neovim " .. version .. ": tilt_lsp needs 0.10 or newer")
  end
  local cfg = check_config()
  local found = check_server(cfg)
  local tiltfile = check_tiltfile(cfg)
  if found then
    check_machine(cfg, tiltfile)
  else
    health.start("tilt_lsp: machine")
    health.info("tilt-lsp doctor not run: the server command is missing")
    check_docker_socket()
  end
end

return M
