-- SPDX-License-Identifier: LGPL-2.1-or-later
-- A CI step in a sandbox: build and run a C program with the host's
-- compiler, which the box sees read-only, on a busybox root.
--
--   lua5.4 ci_sandbox.lua ROOTFS WORKSPACE
--
-- The same as ci_sandbox.c, through the Lua binding.
local box = require "box"

local rootfs, work = arg[1], arg[2]
local f = assert(io.open(work .. "/hello.c", "w"))
f:write('#include <stdio.h>\n',
	'int main(void) { printf("hello from the sandbox: %d\\n", 6 * 7); return 0; }\n')
f:close()

local ctx <close> = assert(box.context {
	state_dir = os.getenv("LIBBOX_STATE"),
	cgroup_parent = os.getenv("LIBBOX_CGROUP_PARENT"),
})
local mounts = { { type = "bind", source = work, target = "/work", options = "rw" } }
for _, d in ipairs { "/usr", "/lib", "/lib64" } do
	if io.open(d) then
		mounts[#mounts + 1] = { type = "bind", source = d, target = d, options = "ro" }
	end
end
local cfg = assert(box.config {
	rootfs = rootfs, cwd = "/work", mounts = mounts,
	argv = { "/bin/sh", "-c", "gcc -O2 -o hello hello.c && ./hello" },
	limits = { memory = 512 << 20, pids = 256, cpu_quota = 100000 },
})
local r = assert(ctx:sandbox(cfg, { timeout_ms = 60000, output_cap = 1 << 16 }))
print(string.format("exit code %d, signal %d, oom %d, timed out %d, peak memory %d KiB, %d ms",
	r.exit_code, r.signal, r.oom and 1 or 0, r.timed_out and 1 or 0,
	(r.peak_memory or 0) // 1024, r.wall_ms))
io.write("stdout: ", r.stdout)
if #r.stderr > 0 then io.write("stderr: ", r.stderr) end
os.exit(r.exit_code == 0 and 0 or 1)
