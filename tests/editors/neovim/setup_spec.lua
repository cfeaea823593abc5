-- Options: readable errors from setup(), vim.g.tilt_lsp merging, the lazily defined :Tilt.
-- Runs with no server start: only the plugin's own behaviour.
local H = dofile(vim.env.TILT_LSP_SPEC_DIR .. "/harness.lua")

H.run(function()
  H.it(":Tilt is defined by plugin/ without loading the plugin's modules", function(data)
    data.command_exists = vim.fn.exists(":Tilt") == 2
    data.commands_loaded = package.loaded["tilt_lsp.commands"] ~= nil
    data.init_loaded = package.loaded["tilt_lsp"] ~= nil
    H.truthy(data.command_exists, ":Tilt is not defined after start-up")
    H.eq(data.commands_loaded, false, "tilt_lsp.commands loaded at start-up")
    H.eq(data.init_loaded, false, "tilt_lsp loaded at start-up (setup ran without vim.g.tilt_lsp)")
    H.eq(#vim.lsp.get_clients(), 0, "clients without setup()")
  end)

  H.it("subcommands complete without a server", function(data)
    data.all = vim.fn.getcompletion("Tilt ", "cmdline")
    data.re = vim.fn.getcompletion("Tilt re", "cmdline")
    for _, want in ipairs({ "restart", "rebuild", "trigger", "enable", "disable", "status", "logs" }) do
      H.truthy(vim.tbl_contains(data.all, want), "missing subcommand " .. want .. " in " .. vim.inspect(data.all))
    end
    H.eq(data.re, { "rebuild", "restart" }, "completion of 'Tilt re'")
  end)

  ---@param opts any
  ---@return string? message what the user was told
  local function bad(opts)
    local before = #H.messages
    local ok, err = require("tilt_lsp").setup(opts)
    H.eq(ok, false, "setup(" .. vim.inspect(opts) .. ") accepted")
    local shown = H.messages[before + 1]
    H.truthy(shown and shown.level == vim.log.levels.ERROR, "no error shown for " .. vim.inspect(opts))
    H.eq(shown.msg, err, "message shown vs returned")
    return err
  end

  H.it("a wrongly typed option is a readable error naming it", function(data)
    data.watch = bad({ watch = "yes" })
    H.truthy(data.watch:find("^tilt_lsp: invalid option watch: expected boolean, got string"), data.watch)
    data.cmd = bad({ cmd = "tilt-lsp serve" })
    H.truthy(data.cmd:find("cmd: expected a non%-empty list of strings"), data.cmd)
    data.log_lines = bad({ log_lines = -3 })
    H.truthy(data.log_lines:find("log_lines: expected a whole number"), data.log_lines)
    data.not_table = bad("watch")
    H.truthy(data.not_table:find("options must be a table, got string"), data.not_table)
  end)

  H.it("an unknown option is an error that suggests the right name", function(data)
    data.msg = bad({ wacth = false })
    H.truthy(data.msg:find("unknown option 'wacth' %(did you mean 'watch'%?%)"), data.msg)
    H.truthy(data.msg:find("known options: autostart, capabilities, cmd"), data.msg)
  end)

  H.it("a bad option in vim.g.tilt_lsp says where it came from", function(data)
    vim.g.tilt_lsp = { follow_logs = 1 }
    data.msg = bad({})
    vim.g.tilt_lsp = nil
    H.truthy(data.msg:find("follow_logs: expected boolean, got number %(in vim.g.tilt_lsp%)"), data.msg)
  end)

  H.it("vim.g.tilt_lsp and setup() options merge, setup() winning", function(data)
    vim.g.tilt_lsp = { watch = false, cmd = { "my-tilt-lsp", "serve", "--log-file", "/tmp/x" }, log_lines = 5 }
    local ok = require("tilt_lsp").setup({ log_lines = 50, autostart = false })
    vim.g.tilt_lsp = nil
    H.eq(ok, true, "setup() with good options")
    local cfg = require("tilt_lsp.config").current
    data.cfg = { watch = cfg.watch, cmd = cfg.cmd, log_lines = cfg.log_lines, follow_logs = cfg.follow_logs }
    H.eq(data.cfg, {
      watch = false,
      cmd = { "my-tilt-lsp", "serve", "--log-file", "/tmp/x" },
      log_lines = 50,
      follow_logs = true,
    }, "merged options")
    data.init_options = require("tilt_lsp").init_options(cfg)
    H.eq(data.init_options, { watch = false, logNotifications = true }, "initializationOptions")
  end)

  H.it(":Tilt with no server says what to do", function(data)
    local before = #H.messages
    vim.cmd("Tilt restart greeter")
    data.msg = (H.messages[before + 1] or {}).msg
    H.truthy(data.msg and data.msg:find("no tilt%-lsp server for this buffer"), vim.inspect(data.msg))
    before = #H.messages
    vim.cmd("Tilt bogus")
    data.unknown = (H.messages[before + 1] or {}).msg
    H.truthy(data.unknown and data.unknown:find("unknown subcommand 'bogus'; use one of: disable, enable"), vim.inspect(data.unknown))
  end)

  H.it("the help file indexes, and documents every option and subcommand", function(data)
    local plugin = vim.api.nvim_get_runtime_file("doc/tilt_lsp.txt", false)[1]
    H.truthy(plugin, "doc/tilt_lsp.txt is not on the runtimepath")
    -- :helptags writes a tags file: index a copy, not the checkout.
    local dir = vim.fn.tempname()
    vim.fn.mkdir(dir .. "/doc", "p")
    vim.fn.writefile(vim.fn.readfile(plugin), dir .. "/doc/tilt_lsp.txt")
    vim.cmd("helptags " .. vim.fn.fnameescape(dir .. "/doc")) -- errors on duplicate tags
    local tags = {}
    for _, line in ipairs(vim.fn.readfile(dir .. "/doc/tags")) do
      tags[line:match("^[^\t]+")] = true
    end
    data.tags = vim.tbl_keys(tags)
    table.sort(data.tags)
    for _, name in ipairs(require("tilt_lsp.config").option_names()) do
      H.truthy(tags["tilt_lsp-option-" .. name], "no help tag for option " .. name)
    end
    local text = table.concat(vim.fn.readfile(plugin), "\n")
    for _, name in ipairs(require("tilt_lsp.commands").names()) do
      H.truthy(text:find("\n    " .. name .. "[ \n]"), "subcommand " .. name .. " is not in the :Tilt table")
    end
    vim.opt.runtimepath:prepend(dir)
    vim.cmd("help :Tilt")
    data.help_buffer = vim.fn.expand("%:t")
    H.eq(data.help_buffer, "tilt_lsp.txt", ":help :Tilt opens")
    vim.cmd("helpclose")
  end)
end)
