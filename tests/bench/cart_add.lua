-- wrk script: POST /api/cart/add alternating +1 / -1 on one product, so the
-- cart line stays near its prefilled quantity however long the run is.
local token = os.getenv("EMPORIUM_BENCH_TOKEN")
local product = os.getenv("EMPORIUM_BENCH_PRODUCT") or "1"
local up = '{"productId":' .. product .. ',"quantity":1}'
local down = '{"productId":' .. product .. ',"quantity":-1}'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/cart/add",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
    (n % 2 == 1) and up or down)
end
