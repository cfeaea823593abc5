-- tilt-lsp: defines :Tilt (its code loads on first use). The server starts only after
-- require("tilt_lsp").setup(), or here at start-up when vim.g.tilt_lsp is set.
if vim.g.loaded_tilt_lsp then
  return
end
vim.g.loaded_tilt_lsp = 1

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.api.nvim_echo({ { "tilt_lsp needs Neovim 0.10 or newer", "WarningMsg" } }, true, {})
  return
end

vim.api.nvim_create_user_command("Tilt", function(opts)
  require("tilt_lsp.commands").run(opts)
end, {
  nargs = "*",
  complete = function(...)
    return require("tilt_lsp.commands").complete(...)
  end,
  desc = "tilt-lsp: restart|rebuild|trigger|enable|disable|logs {resource}, status, stop",
})

if vim.g.tilt_lsp ~= nil and vim.g.tilt_lsp ~= false and vim.g.tilt_lsp ~= 0 then
  require("tilt_lsp").setup()
end
