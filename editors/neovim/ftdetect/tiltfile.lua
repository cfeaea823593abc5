-- Tiltfiles are Starlark: give them a filetype of their own (Neovim has none for them).
vim.filetype.add({
  filename = { Tiltfile = "tiltfile" },
  pattern = { [".*%.Tiltfile"] = "tiltfile", ["Tiltfile%..*"] = "tiltfile" },
})
