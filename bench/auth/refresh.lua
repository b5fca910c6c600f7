-- POST /api/auth/refresh with a fresh single-use refresh token per request, taken in order
-- from the file named by the TOKENS_FILE environment variable (one token a line).
local tokens = {}
local index = 0

function init(args)
  local path = os.getenv("TOKENS_FILE")
  for line in io.lines(path) do
    tokens[#tokens + 1] = line
  end
end

function request()
  index = index + 1
  local token = tokens[((index - 1) % #tokens) + 1]
  return wrk.format("POST", "/api/auth/refresh", {["Content-Type"] = "application/json"},
    '{"refreshToken":"' .. token .. '"}')
end
