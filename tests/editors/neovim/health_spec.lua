-- :checkhealth tilt_lsp in the project folder, after setup(): the report's text is
-- recorded for pytest (which checks it has no ERROR), and a missing server is an ERROR.
local H = dofile(vim.env.TILT_LSP_SPEC_DIR .. "/harness.lua")

--- Run :checkhealth tilt_lsp; return the report's text and close it.
---@return string
local function checkhealth()
  vim.cmd("checkhealth tilt_lsp")
  -- Checks run synchronously; the report is the checkhealth buffer.
  local buf = H.wait(5000, function()
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == "checkhealth" and H.text(b):find("tilt_lsp: machine") then
        return b
      end
    end
  end, "the tilt_lsp report")
  local text = H.text(buf)
  vim.cmd("enew")
  vim.api.nvim_buf_delete(buf, { force = true })
  return text
end

H.run(function()
  vim.cmd.cd(vim.env.TILT_LSP_WORKSPACE)

  H.it(":checkhealth tilt_lsp with the server installed and a Tiltfile", function(data)
    require("tilt_lsp").setup({ cmd = { vim.env.TILT_LSP_SERVER, "serve" }, autostart = false })
    data.text = checkhealth()
    H.truthy(data.text:find("tilt%-lsp %d+%.%d+"), "the server version")
    H.truthy(data.text:find("Tiltfile: " .. vim.pesc(vim.env.TILT_LSP_WORKSPACE) .. "/Tiltfile"), "the Tiltfile")
    H.truthy(data.text:find("Docker engine"), "the Docker check")
  end)

  H.it(":checkhealth tilt_lsp with a server command that does not exist", function(data)
    require("tilt_lsp").setup({ cmd = { "tilt-lsp-not-installed", "serve" }, autostart = false })
    data.text = checkhealth()
    H.truthy(data.text:find("ERROR[^\n]*server command not found: tilt%-lsp%-not%-installed"), "the missing server as an ERROR")
  end)
end)
