"""Names shared with the editors (see docs/protocol.md). Keep in sync with
editors/vscode/src/constants.ts and editors/neovim/lua/tilt_lsp/protocol.lua."""

CMD_RESTART = "tilt.restart"
CMD_REBUILD = "tilt.rebuild"
CMD_TRIGGER = "tilt.trigger"
CMD_ENABLE = "tilt.enable"
CMD_DISABLE = "tilt.disable"
COMMANDS = (CMD_RESTART, CMD_REBUILD, CMD_TRIGGER, CMD_ENABLE, CMD_DISABLE)

REQ_RESOURCES = "tilt/resources"
REQ_LOGS = "tilt/logs"
NOTIFY_STATUS = "tilt/status"
NOTIFY_LOG = "tilt/log"

DIAGNOSTIC_SOURCE = "tilt-lsp"

# Client-side commands (the editor implements them; code lenses and code actions use them).
CMD_SHOW_LOGS = "tilt.showLogs"  # [{resource, around?}]: the log, at the line matching `around`
CMD_OPEN_LINK = "tilt.openLink"  # [url]
