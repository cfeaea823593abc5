-- Starlark reads like Python: Python's syntax highlighting and comments; the tree-sitter
-- starlark parser when it is installed.
if vim.b.did_ftplugin then
  return
end
vim.b.did_ftplugin = true
vim.bo.commentstring = "# %s"
vim.bo.shiftwidth = 4
vim.bo.expandtab = true
if not pcall(vim.treesitter.start, 0, "starlark") then
  vim.bo.syntax = "python"
end
vim.b.undo_ftplugin = "setlocal commentstring< shiftwidth< expandtab< syntax<"
