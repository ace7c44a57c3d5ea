-- SPDX-License-Identifier: LGPL-2.1-or-later
-- What the Lua tests share: TAP output and the environment of real boxes.
--
--   local t = require "tap"
--   local env = t.setup(N)   -- "1..N", or "1..0 # SKIP" and exit when not
--                            -- root (CI=true: a failing line instead)
--   t.ok(cond, name) t.is(got, want, name) t.diag(...)
--   env.box, env.ctx, env.rootfs, env.state, env.cgroup_parent
--   env.cfg{...}             -- box.config on env.rootfs, stdio to /dev/null
--   t.done()                 -- destroys leftover boxes, removes the state
--                            -- dir and the cgroup parent, exits 0 or 1
--
-- run.sh runs each test in its own network and mount namespace; a test can
-- also be run alone (as root):
--   LUA_CPATH='BUILD/bindings/lua/?.so' LUA_PATH='bindings/lua/tests/?.lua' \
--     lua5.4 bindings/lua/tests/test_run.lua
-- LIBBOX_TEST_ROOTFS names the busybox root; without it one is made with
-- tests/rootfs/mkbusybox.sh in a temporary directory.
local M = {}

local n, failed, planned = 0, 0, nil
local env
local cleanups = {}

local function sh_quote(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.sh_quote = sh_quote

local function here()
	local src = debug.getinfo(1, "S").source:match("^@(.*)$") or "./tap.lua"
	return src:match("^(.*)/[^/]*$") or "."
end

function M.diag(...)
	local parts = {}
	for i = 1, select("#", ...) do
		parts[#parts + 1] = tostring((select(i, ...)))
	end
	for line in (table.concat(parts, " ") .. "\n"):gmatch("([^\n]*)\n") do
		io.write("# ", line, "\n")
	end
	io.flush()
end

function M.ok(cond, name, ...)
	n = n + 1
	if cond then
		io.write(("ok %d - %s\n"):format(n, name))
	else
		failed = failed + 1
		io.write(("not ok %d - %s\n"):format(n, name))
		if select("#", ...) > 0 then
			M.diag(...)
		end
	end
	io.flush()
	return cond
end

function M.is(got, want, name)
	return M.ok(got == want, name, ("got %s, want %s"):format(tostring(got), tostring(want)))
end

-- Run fn(); a Lua error in it is a failed test (its message shown), so that
-- one broken part does not end the script before its plan is met.
function M.section(name, count, fn)
	local before = n
	local ok, err = xpcall(fn, debug.traceback)
	if not ok then
		M.ok(false, name .. ": raised an error", err)
	end
	while n - before < count do
		M.ok(false, name .. ": not reached")
	end
end

local function read_all(cmd)
	local p = assert(io.popen(cmd, "r"))
	local out = p:read("a")
	p:close()
	return out
end
M.read_all = read_all

local function read_file(path)
	local f = io.open(path, "r")
	if not f then
		return nil
	end
	local s = f:read("a")
	f:close()
	return s
end
M.read_file = read_file

-- the cgroup and cgroup2 mount points, from /proc/self/mountinfo
local function cgroup_mounts()
	local out = {}
	for line in io.lines("/proc/self/mountinfo") do
		local pre, post = line:match("^(.-) %- (.*)$")
		local fstype = post and post:match("^(%S+)")
		if fstype == "cgroup" or fstype == "cgroup2" then
			local root, mnt = pre:match("^%S+ %S+ %S+ (%S+) (%S+)")
			if root == "/" then
				out[#out + 1] = mnt
			end
		end
	end
	return out
end

-- the directories of the cgroup parent that exist, in every hierarchy
function M.cgroup_dirs()
	local out = {}
	for _, mnt in ipairs(cgroup_mounts()) do
		local d = mnt .. env.cgroup_parent
		if os.rename(d, d) then
			out[#out + 1] = d
		end
	end
	return out
end

-- Plan N tests and make the environment: a context with a temporary state
-- directory and a unique cgroup parent, the busybox root.
function M.setup(count)
	local uid = read_all("id -u"):match("%d+")
	if uid ~= "0" then
		if os.getenv("CI") == "true" then
			io.write("1..1\nnot ok 1 - the Lua binding tests need root (CI=true: no skipping)\n")
			os.exit(1)
		end
		io.write("1..0 # SKIP the Lua binding tests need root\n")
		os.exit(0)
	end
	planned = count
	io.write(("1..%d\n"):format(count))
	io.flush()

	local box = require "box"
	local pid = read_file("/proc/self/stat"):match("^(%d+)")
	env = { box = box, pid = tonumber(pid) }
	env.state = read_all("mktemp -d /tmp/libbox-lua-state.XXXXXX"):gsub("%s+$", "")
	cleanups[#cleanups + 1] = function()
		os.execute("rm -rf " .. sh_quote(env.state))
	end
	env.cgroup_parent = ("/libbox-lua-test-%s"):format(pid)
	env.rootfs = os.getenv("LIBBOX_TEST_ROOTFS")
	if not env.rootfs or env.rootfs == "" then
		local dir = read_all("mktemp -d /tmp/libbox-lua-rootfs.XXXXXX"):gsub("%s+$", "")
		cleanups[#cleanups + 1] = function()
			os.execute("rm -rf " .. sh_quote(dir))
		end
		env.rootfs = dir .. "/rootfs"
		local mk = here() .. "/../../../tests/rootfs/mkbusybox.sh"
		assert(os.execute(sh_quote(mk) .. " " .. sh_quote(env.rootfs)), "mkbusybox.sh failed")
	end
	env.ctx = assert(box.context { state_dir = env.state, cgroup_parent = env.cgroup_parent })
	function env.cfg(t)
		t.rootfs = t.rootfs or env.rootfs
		t.stdio = t.stdio or { false, false, false }
		return box.config(t)
	end
	return env
end

-- A temporary file's name (removed by done).
function M.tmpfile()
	local name = os.tmpname()
	cleanups[#cleanups + 1] = function()
		os.remove(name)
	end
	return name
end

-- A temporary directory's name (removed by done).
function M.tmpdir()
	local name = read_all("mktemp -d /tmp/libbox-lua-test.XXXXXX"):gsub("%s+$", "")
	cleanups[#cleanups + 1] = function()
		os.execute("rm -rf " .. sh_quote(name))
	end
	return name
end

function M.done()
	-- boxes the test left: destroy them, then the cgroup parent goes
	if env and env.ctx then
		local ids = env.ctx:list() or {}
		for _, id in ipairs(ids) do
			local b = env.ctx:open(id)
			if b then
				b:destroy()
			end
		end
		env.ctx:gc()
		collectgarbage()
		collectgarbage()
		for _, d in ipairs(M.cgroup_dirs()) do
			-- deepest first; a box's last task may take a moment to leave
			for _ = 1, 50 do
				os.execute("find " .. sh_quote(d) .. " -depth -type d -exec rmdir {} + 2>/dev/null")
				if not os.rename(d, d) then
					break
				end
				os.execute("sleep 0.1")
			end
		end
		local left = M.cgroup_dirs()
		if #left > 0 then
			M.diag("cgroup directories left behind: " .. table.concat(left, " "))
			failed = failed + 1
		end
	end
	for i = #cleanups, 1, -1 do
		cleanups[i]()
	end
	if planned and n ~= planned then
		M.diag(("planned %d tests, ran %d"):format(planned, n))
		failed = failed + 1
	end
	os.exit(failed == 0 and 0 or 1, true)
end

return M
