-- wrk script: POST /api/cart/add for many users (tokens in
-- EMPORIUM_BENCH_TOKENS, comma-separated), alternating +1 / -1 so each cart
-- line stays near its prefilled quantity. Each connection sticks to a user
-- picked round-robin, so the load spreads over the users' shards.
local tokens = {}
for t in string.gmatch(os.getenv("EMPORIUM_BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = t
end
local up = '{"productId":1,"quantity":1}'
local down = '{"productId":1,"quantity":-1}'
local counter = 0
local n = 0
local token

setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter)
end

init = function()
  token = tokens[((offset or 1) - 1) % #tokens + 1]
end

request = function()
  n = n + 1
  -- a different user every request, spread over all of them
  local t = tokens[((n + (offset or 0) * 7) % #tokens) + 1]
  return wrk.format("POST", "/api/cart/add",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. t},
    (math.floor((n - 1) / #tokens) % 2 == 0) and up or down)
end
