-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Handles and their lifetimes (to-be-closed, __gc), exec, cgroups (stats,
-- limits, pause/resume), and boxes on disk (list, open, gc, rename).
local t = require "tap"
local env = t.setup(42)
local box, ctx = env.box, env.ctx
local ENOENT = 2

-- running (a zombie is not: a box whose creator's handle was closed is
-- not reaped until its creator, this process, exits)
local function alive(pid)
	local stat = pid and t.read_file("/proc/" .. pid .. "/stat")
	return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end

local function sleeper(extra)
	local cfg = { argv = { "sleep", "60" } }
	for k, v in pairs(extra or {}) do
		cfg[k] = v
	end
	local b = assert(ctx:create(assert(env.cfg(cfg))))
	assert(b:start())
	return b
end

local function collect()
	collectgarbage()
	collectgarbage()
end

t.section("to-be-closed destroys", 4, function()
	local id, pid
	do
		local b <close> = sleeper()
		id, pid = b:id(), b:pid()
		t.ok(alive(pid), "the box runs inside the block")
	end
	t.ok(not alive(pid), "its process is gone after the block")
	local b, _, err = ctx:open(id)
	t.ok(b == nil and err == ENOENT, "its record is gone (open: ENOENT)", err)
	-- an error leaving the block destroys it too
	local ok = pcall(function()
		local b2 <close> = sleeper()
		pid = b2:pid()
		error("boom")
	end)
	t.ok(not ok and not alive(pid), "an error out of the block destroys the box")
end)

t.section("__gc closes, it does not destroy", 6, function()
	local b = sleeper { name = "keeper" }
	local pid = b:pid()
	-- a handle opened and forgotten: the box goes on
	do
		local o = assert(ctx:open("keeper"))
		t.is(o:id(), b:id(), "open by name gives the same box")
	end
	collect()
	t.ok(alive(pid) and b:status() == "running", "collecting an opened handle leaves the box running")
	-- a to-be-closed opened handle only closes too
	do
		local o <close> = assert(ctx:open(b:id():sub(1, 12)))
		t.is(o:name(), "keeper", "open by a 12-character id prefix")
	end
	t.ok(alive(pid) and b:status() == "running", "closing an opened handle leaves the box running")
	-- the creator's handle, forgotten: box_close, the box goes on
	local id = b:id()
	b = nil -- luacheck: ignore
	collect()
	t.ok(alive(pid), "collecting the creator's handle leaves the box running")
	local o = assert(ctx:open(id))
	t.ok(o:destroy() and not alive(pid), "destroy through an opened handle ends it")
end)

t.section("exec", 5, function()
	local b = sleeper { hostname = "exec-test" }
	local out = t.tmpfile()
	local f = assert(io.open(out, "w"))
	local e = assert(b:exec { argv = { "sh", "-c", "hostname; exit 7" }, stdio = { false, f, f } })
	local code, sig = e:wait()
	f:close()
	t.ok(code == 7 and sig == 0, "exec: its exit code", code, sig)
	t.is(t.read_file(out), "exec-test\n", "exec runs in the box's uts namespace")
	t.ok(e:destroy(), "destroy the exec handle")
	t.is(b:status(), "running", "the box goes on after its exec'd process is destroyed")
	local e2 = assert(b:exec { argv = { "sleep", "60" }, stdio = { false, false, false } })
	local pids = b:pids()
	local seen = false
	for _, p in ipairs(pids) do
		seen = seen or p == e2:pid()
	end
	t.ok(#pids == 2 and seen, "pids: the first process and the exec'd one", #pids)
	e2:destroy()
	b:destroy()
end)

t.section("cgroup: stats, limits, pause", 13, function()
	local b = sleeper { limits = { memory = 64 << 20, pids = 32 } }
	t.ok(type(b:cgroup()) == "string" and b:cgroup():find(env.cgroup_parent, 1, true) == 1,
		"cgroup under the parent: " .. tostring(b:cgroup()))
	local s = b:stats()
	t.is(s.memory_limit, 64 << 20, "stats: memory_limit")
	t.ok(math.type(s.memory_current) == "integer" and s.memory_current > 0, "stats: memory_current",
		s.memory_current)
	t.is(s.pids_current, 1, "stats: pids_current")
	t.ok(math.type(s.cpu_user) == "integer", "stats: cpu_user")
	t.ok(b:update_limits { limits = { memory = 32 << 20 } }, "update_limits")
	t.is(b:stats().memory_limit, 32 << 20, "stats after update_limits")
	t.ok(b:pause(), "pause")
	t.is(b:status(), "paused", "status paused")
	local e, _, err = b:exec { argv = { "true" } }
	t.ok(e == nil and err == 11, "exec in a paused box: EAGAIN", err)
	t.ok(b:resume() and b:status() == "running", "resume")
	t.ok(b:kill_all() and select(2, b:wait()) == 9, "kill_all: SIGKILL to all")
	t.is(b:oom_killed(), false, "oom_killed: false")
	b:destroy()
end)

t.section("boxes on disk", 8, function()
	local b = sleeper { name = "disk-one", annotations = { owner = "lua" } }
	local ids = assert(ctx:list())
	local found = false
	for _, id in ipairs(ids) do
		found = found or id == b:id()
	end
	t.ok(found, "list has the box's id")
	local js = assert(b:inspect())
	t.ok(js:match('"id": *"' .. b:id() .. '"') and js:match('"owner": *"lua"'), "inspect: JSON with id and annotations")
	t.ok(b:rename("disk-two") and b:name() == "disk-two", "rename")
	t.ok(ctx:open("disk-two") ~= nil and ctx:open("disk-one") == nil, "open by the new name only")
	b:destroy()

	-- a creator that dies without destroying its box: gc cleans up after it
	local lua = (arg and arg[-1]) or "lua5.4"
	local child = ([[
		local box = require "box"
		local ctx = assert(box.context { state_dir = %q, cgroup_parent = %q })
		local b = assert(ctx:create(assert(box.config { rootfs = %q, argv = { "true" },
			name = "orphan", stdio = { false, false, false } })))
		assert(b:start())
		os.exit(0, false)
	]]):format(env.state, env.cgroup_parent, env.rootfs)
	t.ok(os.execute(t.sh_quote(lua) .. " -e " .. t.sh_quote(child)), "a child makes a box and dies")
	local o = ctx:open("orphan")
	local st = o and o:status()
	for _ = 1, 50 do
		if st == "unknown" then
			break
		end
		os.execute("sleep 0.1")
		st = o:status()
	end
	t.is(st, "unknown", "its box's status is unknown")
	if o then
		o:close()
	end
	local n = ctx:gc()
	t.ok(n and n >= 1, "gc cleans it up", n)
	t.ok(ctx:open("orphan") == nil, "and it is gone")
end)

t.section("contexts outlive their handles", 6, function()
	local c = assert(box.context { state_dir = env.state, cgroup_parent = env.cgroup_parent })
	local b = assert(c:create(env.cfg { argv = { "sleep", "60" } }))
	assert(b:start())
	t.ok(c:close(), "close the context with a box handle alive")
	local ok = pcall(c.list, c)
	t.ok(not ok, "a closed context throws on use")
	t.is(b:status(), "running", "the box handle still works")
	t.ok(b:destroy(), "and destroys its box")
	-- a context and a box both collected at once
	local pid
	do
		local c2 = assert(box.context { state_dir = env.state, cgroup_parent = env.cgroup_parent })
		local b2 = assert(c2:create(env.cfg { argv = { "sleep", "60" }, name = "dropped" }))
		assert(b2:start())
		pid = b2:pid()
	end
	collect()
	t.ok(alive(pid), "a box whose handle and context were collected runs on")
	local o = assert(ctx:open("dropped"))
	t.ok(o:destroy() and not alive(pid), "and is destroyed through another handle")
end)

t.done()
