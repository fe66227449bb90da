-- wrk script: catalog searches sorted by price, each with a needle the
-- catalog has not been asked for recently. The needles are every substring
-- of 4+ letters of the demo catalog's product nouns (~1,400, each matching
-- a realistic share of the catalog, like "kettle"), taken in turn; the
-- node remembers the matches of the last 256 needles at most
-- (actors/catalog/text_index.hpp), so no needle is remembered when it comes
-- round again: this row measures a search's full cost, the "kettle" row a
-- popular term's.
local nouns = {
  "headphones", "bluetooth speaker", "charger", "smart watch", "reader", "webcam",
  "mechanical keyboard", "wireless mouse", "knife", "cast iron skillet", "french press",
  "cutting board", "stand mixer", "tea kettle", "spice rack", "mixing bowl set", "cookbook",
  "travel guide", "mystery novel", "science fiction anthology", "field guide to birds",
  "poetry collection", "history of maps", "programming handbook", "rain jacket",
  "wool sweater", "denim jeans", "linen shirt", "hiking socks", "baseball cap",
  "leather belt", "running shorts", "yoga mat", "tennis racket", "water bottle",
  "dumbbell pair", "jump rope", "cycling gloves", "climbing chalk bag", "foam roller",
  "table lamp", "throw blanket", "scented candle", "wall clock", "plant pot",
}
local needles = {}
local seen = {}
for _, noun in ipairs(nouns) do
  for from = 1, #noun do
    for to = from + 3, #noun do
      local s = noun:sub(from, to)
      if not s:find("^ ") and not s:find(" $") and not seen[s] then
        seen[s] = true
        needles[#needles + 1] = s
      end
    end
  end
end

local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter)
end

local n = 0
request = function()
  n = n + 1
  -- Threads start half the list apart, so they do not ask the same needle.
  local k = (n + (offset or 1) * math.floor(#needles / 2)) % #needles + 1
  local needle = needles[k]:gsub(" ", "%%20")
  return wrk.format("GET", "/api/products?search=" .. needle .. "&sortBy=price&page=1&pageSize=20")
end
