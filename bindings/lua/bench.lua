-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The Lua binding's overhead over C: create-to-exit of /bin/true.
--
--   lua5.4 bindings/lua/bench.lua BUILD_DIR [ROOTFS]      (as root)
--
-- Times N ctx:run() of /bin/true (after W untimed ones) in this process,
-- with the same config as BUILD_DIR/tests/bench/bench_start's box mode
-- (BOX_NS_DEFAULT, stdio /dev/null, the default seccomp profile, a
-- cgroup under a parent of its own, state in the default directory), and
-- runs `bench_start box -n N -w W ROOTFS`, alternating, ROUNDS times;
-- prints each median, the median of the rounds' medians for both and the
-- median of the rounds' differences; then the cost of one call through
-- the binding alone (a method that only reads the handle).
-- Environment: BENCH_N (30), BENCH_WARMUP (2), BENCH_ROUNDS (7).
-- ROOTFS: default LIBBOX_TEST_ROOTFS, else BUILD_DIR/tests/rootfs, else
-- one made with tests/rootfs/mkbusybox.sh in a temporary directory.
local build = arg[1]
if not build then
	io.stderr:write("usage: lua5.4 bench.lua BUILD_DIR [ROOTFS]\n")
	os.exit(2)
end
package.cpath = build .. "/bindings/lua/?.so;" .. package.cpath
local box = require "box"

local N = tonumber(os.getenv("BENCH_N") or "30")
local W = tonumber(os.getenv("BENCH_WARMUP") or "2")
local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "7")

local function q(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function exists(p)
	return os.rename(p, p) ~= nil
end

local here = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."
local rootfs, tmp = arg[2] or os.getenv("LIBBOX_TEST_ROOTFS"), nil
if not rootfs or rootfs == "" then
	if exists(build .. "/tests/rootfs/bin/busybox") then
		rootfs = build .. "/tests/rootfs"
	else
		tmp = io.popen("mktemp -d /tmp/libbox-lua-bench.XXXXXX"):read("l")
		rootfs = tmp .. "/rootfs"
		assert(os.execute(q(here .. "/../../tests/rootfs/mkbusybox.sh") .. " " .. q(rootfs)))
	end
end
local bench_start = build .. "/tests/bench/bench_start"
assert(exists(bench_start), bench_start .. " is not built (meson -Dtests=true)")

local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
local parent = "/libbox-bench-lua-" .. pid
local ctx = assert(box.context { cgroup_parent = parent })
local cfg = assert(box.config {
	rootfs = rootfs, argv = { "/bin/true" }, namespaces = box.NS.DEFAULT,
	stdio = { false, false, false }, init = false,
})

local function median(v)
	table.sort(v)
	local n = #v
	return n % 2 == 1 and v[(n + 1) // 2] or (v[n // 2] + v[n // 2 + 1]) / 2
end

local function lua_round()
	local t = {}
	for i = 1 - W, N do
		local t0 = box.monotonic()
		local code, sig = ctx:run(cfg)
		local t1 = box.monotonic()
		if code ~= 0 then
			error(("run %d: %s %s"):format(i + W, tostring(sig), tostring(code)))
		end
		if i >= 1 then
			t[#t + 1] = (t1 - t0) * 1e3
		end
	end
	return median(t)
end

local function c_round()
	local p = io.popen(("%s box -n %d -w %d %s"):format(q(bench_start), N, W, q(rootfs)))
	local out = p:read("a")
	p:close()
	local m = out:match("median_ms=([%d.]+)")
	assert(m, "bench_start: " .. out)
	return tonumber(m)
end

local cm, lm, dm = {}, {}, {}
print(("bench.lua: %d runs of /bin/true per round (+%d warm-up), %d rounds, rootfs %s"):format(N, W, ROUNDS, rootfs))
for r = 1, ROUNDS do
	cm[r] = c_round()
	lm[r] = lua_round()
	dm[r] = lm[r] - cm[r]
	print(("round %d: C box_run median %.3f ms, Lua ctx:run median %.3f ms (%+.3f)"):format(r, cm[r], lm[r], lm[r] - cm[r]))
end
local c, l = median(cm), median(lm)
print(("C   (bench_start box -n %d): median %.3f ms"):format(N, c))
print(("Lua (ctx:run, %d runs):       median %.3f ms"):format(N, l))
print(("Lua - C: %+.3f ms (median of the rounds' differences: %+.3f ms; target: within 0.5 ms)"):format(
	l - c, median(dm)))

-- the binding alone: a method call on a box handle that only reads it
local b = assert(ctx:create(cfg))
local calls = 1000000
local t0 = box.monotonic()
for _ = 1, calls do
	b:pid()
end
local t1 = box.monotonic()
b:destroy()
print(("one call through the binding (b:pid()): %.0f ns"):format((t1 - t0) / calls * 1e9))

-- the cgroup parent this run made, in every hierarchy
ctx:close()
for line in io.lines("/proc/self/mountinfo") do
	local pre, fstype = line:match("^(.-) %- (%S+)")
	if fstype == "cgroup" or fstype == "cgroup2" then
		local root, mnt = pre:match("^%S+ %S+ %S+ (%S+) (%S+)")
		if root == "/" and exists(mnt .. parent) then
			os.execute("find " .. q(mnt .. parent) .. " -depth -type d -exec rmdir {} +")
		end
	end
end
if tmp then
	os.execute("rm -rf " .. q(tmp))
end
