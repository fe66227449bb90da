-- wrk script: GET /api/cart as one user (token in EMPORIUM_BENCH_TOKEN).
local token = os.getenv("EMPORIUM_BENCH_TOKEN")
request = function()
  return wrk.format("GET", "/api/cart", {["Authorization"] = "Bearer " .. token})
end
