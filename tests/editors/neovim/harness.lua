-- A small spec runner for headless Neovim, driven by tests/editors/test_neovim.py.
--
--   local H = dofile(vim.env.TILT_LSP_SPEC_DIR .. "/harness.lua")
--   H.it("does something", function(data) ... data.seen = x ... end)
--   H.finish()
--
-- Each `it` records {name, ok, error, seconds, data} into the JSON file named by
-- $TILT_LSP_SPEC_RESULTS; `data` is what the spec saw, for pytest to show and check.
-- vim.notify is captured (H.messages) so specs can assert on what the plugin told the user.

local H = {}

---@type { name: string, ok: boolean, error: string?, seconds: number, data: table }[]
H.results = {}
---@type { msg: string, level: integer? }[]
H.messages = {}

vim.notify = function(msg, level)
  H.messages[#H.messages + 1] = { msg = tostring(msg), level = level }
  io.stderr:write(("[notify %s] %s\n"):format(tostring(level), tostring(msg)))
end

---@param name string
---@param fn fun(data: table)
function H.it(name, fn)
  local data = {}
  local t0 = vim.uv.hrtime()
  local ok, err = xpcall(fn, debug.traceback, data)
  local seconds = (vim.uv.hrtime() - t0) / 1e9
  H.results[#H.results + 1] = { name = name, ok = ok, error = ok and vim.NIL or tostring(err), seconds = seconds, data = data }
  io.stderr:write(("[spec] %s %s (%.2f s)%s\n"):format(ok and "ok  " or "FAIL", name, seconds, ok and "" or ("\n" .. tostring(err))))
end

--- Wait (processing events) until cond() is truthy; fail with `what` on timeout.
---@generic T
---@param timeout_ms integer
---@param cond fun(): T
---@param what string|fun(): string
---@return T
function H.wait(timeout_ms, cond, what)
  local value
  local ok = vim.wait(timeout_ms, function()
    value = cond()
    return value and true or false
  end, 50)
  if not ok then
    local desc = type(what) == "function" and what() or tostring(what)
    -- A condition that can describe itself (tostring) says what it saw last.
    if type(cond) == "table" then
      desc = desc .. " (" .. tostring(cond) .. ")"
    end
    error(("timed out after %d ms waiting for %s"):format(timeout_ms, desc), 2)
  end
  return value
end

function H.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(("%s: expected %s, got %s"):format(what, vim.inspect(want), vim.inspect(got)), 2)
  end
end

function H.truthy(v, what)
  if not v then
    error(what, 2)
  end
  return v
end

--- Messages shown with vim.notify since index `from` whose text matches `pattern`.
---@param pattern string
---@param from? integer
---@return string[]
function H.notified(pattern, from)
  local out = {}
  for i = from or 1, #H.messages do
    if H.messages[i].msg:find(pattern) then
      out[#out + 1] = H.messages[i].msg
    end
  end
  return out
end

--- The lines of a buffer as one string.
---@param bufnr integer
---@return string
function H.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

--- Write the results and quit. Always called, even if a spec errors outside `it`.
function H.finish()
  local path = assert(vim.env.TILT_LSP_SPEC_RESULTS, "TILT_LSP_SPEC_RESULTS not set")
  local f = assert(io.open(path, "w"))
  f:write(vim.json.encode({ results = H.results, messages = H.messages }))
  f:close()
  vim.cmd("qall!")
end

--- Run a spec file's body, then finish whatever happens.
---@param body fun()
function H.run(body)
  local ok, err = xpcall(body, debug.traceback)
  if not ok then
    H.results[#H.results + 1] = { name = "(spec body)", ok = false, error = tostring(err), seconds = 0, data = {} }
    io.stderr:write("[spec] FAIL (spec body)\n" .. tostring(err) .. "\n")
  end
  H.finish()
end

return H
