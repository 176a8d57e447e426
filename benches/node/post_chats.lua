-- wrk script of `cargo bench --bench cluster`: the hello message from 64 group chats in turn,
-- so the load spreads over the inbound partitions (one chat always lands in one partition).
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"im":"qq","user":"1","user_name":"load","chat":"g%d","text":"hello"}', n % 64)
  return wrk.format("POST", "/api/messages", {["Content-Type"] = "application/json"}, body)
end
