-- GETs the paths of a file in turn (one per line, cycling; wrk's -H headers on each), then
-- prints report.lua's WRK_JSON line. Usage: wrk ... -s paths.lua URL -- /path/to/paths.txt
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

local paths = {}
local index = 0

init = function(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
end

request = function()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
