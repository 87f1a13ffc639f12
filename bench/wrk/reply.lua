-- Posts replies to one thread as a logged-in member, each with a unique body, and counts the
-- acknowledgements: a redirect to the new post's permalink (/p/<id>), which the app sends only
-- once the reply is committed. Other 2xx/3xx answers (a re-shown form, a redirect to the login
-- page) are counted apart, so "acked" can be compared with the database afterwards.
--
--   wrk ... -H 'Cookie: session=...' -s bench/wrk/reply.lua http://host/t/42/reply -- CSRF TAG
--
-- The Cookie, User-Agent and Accept-Encoding headers come from wrk's -H options.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local function urlencode(s)
   return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local filler = "Thank you all for sharing. My follow-up MRI showed the tumour stable after "
   .. "gamma knife, the tinnitus is about the same and my balance is better since I started "
   .. "the vestibular rehab exercises the physio gave me. Still tired in the afternoons, but "
   .. "walking every morning helps, and the hearing in my left ear has not changed since the "
   .. "last scan. I will post again after the next appointment with the neurosurgeon."

function init(args)
   csrf = args[1]
   tag = args[2] or "bench"
   acked = 0
   other = 0
   failed = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
   counter = counter + 1
   local text = filler .. "\n\nReply " .. tag .. "-" .. id .. "-" .. counter .. "."
   local body = "csrf_token=" .. urlencode(csrf) .. "&body=" .. urlencode(text)
      .. "&submit=Post+reply"
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   local location = headers["Location"] or headers["location"] or ""
   if status >= 300 and status < 400 and string.find(location, "/p/%d+") then
      acked = acked + 1
   elseif status >= 200 and status < 400 then
      other = other + 1
   else
      failed = failed + 1
   end
end

function done(summary, latency, requests)
   local a, o, f = 0, 0, 0
   for _, t in ipairs(threads) do
      a = a + t:get("acked")
      o = o + t:get("other")
      f = f + t:get("failed")
   end
   io.write(string.format("ACKED %d OTHER %d FAILED %d\n", a, o, f))
end
