---@brief Options: defaults, validation with readable errors, and the merge of
--- `vim.g.tilt_lsp` with the table given to `setup()`.

---@class tilt_lsp.Options
---@field cmd? string[] command that starts the language server (default `{ "tilt-lsp", "serve" }`)
---@field tiltfile? string path of the Tiltfile, relative to the root (server default: `Tiltfile` in the root or a parent)
---@field watch? boolean also watch the workspace for changes made outside Neovim (default true)
---@field follow_logs? boolean ask the server for `tilt/log` notifications so `:Tilt logs` follows (default true)
---@field log_lines? integer lines fetched when a log buffer opens; 0 for the whole kept log (default 1000)
---@field root_markers? string[] files that mark a project root (default `{ "Tiltfile" }`)
---@field autostart? boolean start the server for buffers under a root automatically (default true)
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer) called when the server attaches to a buffer
---@field capabilities? table extra client capabilities, merged into Neovim's defaults
---@field timeout_ms? integer how long completion waits for `tilt/resources` (default 500)
---@field codelens? boolean show each resource's state and actions as code lenses in the Tiltfile (default true)

---@class tilt_lsp.Config
---@field cmd string[]
---@field tiltfile string?
---@field watch boolean
---@field follow_logs boolean
---@field log_lines integer
---@field root_markers string[]
---@field autostart boolean
---@field on_attach fun(client: vim.lsp.Client, bufnr: integer)?
---@field capabilities table?
---@field timeout_ms integer
---@field codelens boolean

local M = {}

---@type tilt_lsp.Config
M.defaults = {
  cmd = { "tilt-lsp", "serve" },
  tiltfile = nil,
  watch = true,
  follow_logs = true,
  log_lines = 1000,
  root_markers = { "Tiltfile" },
  autostart = true,
  on_attach = nil,
  capabilities = nil,
  timeout_ms = 500,
  codelens = true,
}

local function is_string_list(v)
  if type(v) ~= "table" or #v == 0 or not vim.islist(v) then
    return false
  end
  for _, item in ipairs(v) do
    if type(item) ~= "string" or item == "" then
      return false
    end
  end
  return true
end

local function is_natural(v)
  return type(v) == "number" and v >= 0 and math.floor(v) == v
end

--- Each option: validator (a type name or a predicate) and, for predicates, what it expects.
---@type table<string, { [1]: string|fun(v: any): boolean, [2]: string? }>
local schema = {
  cmd = { is_string_list, "a non-empty list of strings, e.g. { 'tilt-lsp', 'serve' }" },
  tiltfile = { "string" },
  watch = { "boolean" },
  follow_logs = { "boolean" },
  log_lines = { is_natural, "a whole number ≥ 0" },
  root_markers = { is_string_list, "a non-empty list of file names, e.g. { 'Tiltfile' }" },
  autostart = { "boolean" },
  on_attach = { "function" },
  capabilities = { "table" },
  timeout_ms = { is_natural, "a whole number of milliseconds" },
  codelens = { "boolean" },
}

--- vim.validate in the form this Neovim understands (0.11 added the positional form).
---@return boolean ok, string? err
local function check(name, value, validator, message)
  if value == nil then
    return true -- every option is optional
  end
  if vim.fn.has("nvim-0.11") == 1 then
    return pcall(vim.validate, name, value, validator, message)
  end
  local spec = type(validator) == "function" and { value, validator, message } or { value, validator }
  ---@diagnostic disable-next-line: deprecated
  return pcall(vim.validate, { [name] = spec })
end

--- Edit distance, for "did you mean".
---@param a string
---@param b string
---@return integer
local function distance(a, b)
  local prev = {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The closest known option name, if it is close enough to be a typo.
---@param key string
---@return string?
local function suggest(key)
  local best, best_d
  for name in pairs(schema) do
    local d = distance(key:lower(), name)
    if not best_d or d < best_d then
      best, best_d = name, d
    end
  end
  return best_d and best_d <= math.max(2, math.floor(#key / 3)) and best or nil
end

--- Known option names, sorted.
---@return string[]
function M.option_names()
  local names = vim.tbl_keys(schema)
  table.sort(names)
  return names
end

--- Validate user options.
---@param opts any
---@return boolean ok, string? err a readable message naming the option, what it must be and what it was
function M.validate(opts)
  if opts == nil then
    return true
  end
  if type(opts) ~= "table" then
    return false, ("tilt_lsp: options must be a table, got %s"):format(type(opts))
  end
  local unknown = {}
  for key in pairs(opts) do
    if schema[key] == nil then
      unknown[#unknown + 1] = tostring(key)
    end
  end
  table.sort(unknown)
  if #unknown > 0 then
    local key = unknown[1]
    local hint = type(key) == "string" and suggest(key) or nil
    return false,
      ("tilt_lsp: unknown option '%s'%s; known options: %s"):format(
        key,
        hint and (" (did you mean '%s'?)"):format(hint) or "",
        table.concat(M.option_names(), ", ")
      )
  end
  for _, name in ipairs(M.option_names()) do
    local ok, err = check(name, opts[name], schema[name][1], schema[name][2])
    if not ok then
      -- vim.validate's message looks like "watch: expected boolean, got string".
      return false, ("tilt_lsp: invalid option %s"):format(tostring(err):gsub("^.-:%d+: ", ""))
    end
  end
  return true
end

--- `vim.g.tilt_lsp`, when it is a table.
---@return table?
function M.global()
  local g = vim.g.tilt_lsp
  return type(g) == "table" and g or nil
end

--- Merge defaults, `vim.g.tilt_lsp` and `opts` (later wins), after validating both.
---@param opts tilt_lsp.Options?
---@return tilt_lsp.Config? config, string? err
function M.resolve(opts)
  local g = M.global()
  local gtype = type(vim.g.tilt_lsp)
  if not vim.tbl_contains({ "nil", "table", "boolean", "number" }, gtype) then
    return nil, ("tilt_lsp: vim.g.tilt_lsp must be a table of options, got %s"):format(type(vim.g.tilt_lsp))
  end
  for _, source in ipairs({ { g, "vim.g.tilt_lsp" }, { opts, "setup()" } }) do
    local ok, err = M.validate(source[1])
    if not ok then
      return nil, ("%s (in %s)"):format(err, source[2])
    end
  end
  local merged = vim.tbl_deep_extend("force", {}, M.defaults, g or {}, opts or {})
  -- Lists replace, not merge: { "python", "-m", "tilt_lsp", "serve" } must not keep a default tail.
  for _, key in ipairs({ "cmd", "root_markers" }) do
    local from = (opts and opts[key]) or (g and g[key])
    if from then
      merged[key] = vim.deepcopy(from)
    end
  end
  return merged
end

--- The options in force (set by setup()).
---@type tilt_lsp.Config?
M.current = nil

return M
