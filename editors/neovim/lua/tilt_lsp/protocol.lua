---@brief Names shared with the server: one place for every tilt-lsp method and command.
--- Keep in sync with tilt_lsp/lsp/protocol.py (and docs/protocol.md).

---@class tilt_lsp.Protocol
local M = {}

--- `workspace/executeCommand` commands, keyed by their `:Tilt` subcommand.
---@type table<string, string>
M.commands = {
  restart = "tilt.restart",
  rebuild = "tilt.rebuild",
  trigger = "tilt.trigger",
  enable = "tilt.enable",
  disable = "tilt.disable",
}

M.execute_command = "workspace/executeCommand"

--- Requests (client → server).
M.request = {
  resources = "tilt/resources",
  logs = "tilt/logs",
}

--- Notifications (server → client).
M.notification = {
  status = "tilt/status",
  log = "tilt/log",
}

--- The resource name under which the server keeps the Tiltfile's own output.
M.tiltfile_resource = "(Tiltfile)"

return M
