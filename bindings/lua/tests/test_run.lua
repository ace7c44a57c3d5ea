-- SPDX-License-Identifier: LGPL-2.1-or-later
-- ctx:run and the create/start/wait steps: exit codes and signals, the
-- config settings reaching the box, and box.sandbox.
local t = require "tap"
local env = t.setup(28)
local box, ctx = env.box, env.ctx

-- run sh -c SCRIPT with stdout to a file; returns code, signal, output
local function capture(script, extra)
	local out = t.tmpfile()
	local f = assert(io.open(out, "w"))
	local cfg = { argv = { "sh", "-c", script }, stdio = { false, f, f } }
	for k, v in pairs(extra or {}) do
		cfg[k] = v
	end
	local code, sig = ctx:run(assert(env.cfg(cfg)))
	f:close()
	return code, sig, t.read_file(out)
end

t.section("exit codes", 4, function()
	local cfg = assert(env.cfg { argv = { "true" } })
	local code, sig = ctx:run(cfg)
	t.ok(code == 0 and sig == 0, "run true: 0, 0", code, sig)
	code, sig = ctx:run(env.cfg { argv = { "sh", "-c", "exit 3" } })
	t.ok(code == 3 and sig == 0, "run exit 3: 3, 0", code, sig)
	code, sig = ctx:run(env.cfg { argv = { "sh", "-c", "exit 255" } })
	t.is(code, 255, "run exit 255")
	-- one config, many boxes
	local all = true
	for _ = 1, 3 do
		all = all and ctx:run(cfg) == 0
	end
	t.ok(all, "a config runs three boxes")
end)

t.section("signals", 6, function()
	-- sh as pid 1 ignores what has no handler, but not SIGKILL from outside
	local b = assert(ctx:create(env.cfg { argv = { "sleep", "30" } }))
	t.is(b:status(), "created", "status after create")
	t.ok(b:start(), "start")
	t.is(b:status(), "running", "status after start")
	t.ok(b:kill("KILL"), "kill KILL")
	local code, sig = b:wait()
	t.ok(code == -1 and sig == 9, "killed: exit_code -1, signal 9", code, sig)
	b:destroy()
	-- with the built-in init, a TERM reaches the command and its death is
	-- reported as it was
	b = assert(ctx:create(env.cfg { argv = { "sleep", "30" }, init = true }))
	assert(b:start())
	os.execute("sleep 0.2")
	b:kill() -- SIGTERM by default
	code, sig = b:wait()
	t.ok(code == -1 and sig == box.signals.TERM, "init forwards TERM: signal 15", code, sig)
	b:destroy()
end)

t.section("settings reach the box", 9, function()
	local code, _, out = capture("hostname; echo $FOO; pwd; id -u; id -g", {
		hostname = "lua-box", env = { FOO = "bar" }, cwd = "/tmp", user = { 1000, 1001 },
	})
	t.is(code, 0, "run with hostname, env, cwd, user")
	t.is(out, "lua-box\nbar\n/tmp\n1000\n1001\n", "hostname, env, cwd, uid, gid")
	code, _, out = capture("touch /x 2>/dev/null && echo rw || echo ro", { readonly_root = true })
	t.is(out, "ro\n", "readonly_root")
	local dir = t.tmpdir()
	local f = assert(io.open(dir .. "/f", "w"))
	f:write("hello\n")
	f:close()
	code, _, out = capture("cat /m/f; touch /m/g 2>/dev/null || echo ro; mount | grep -c ' /t type tmpfs'", {
		mounts = { { source = dir, target = "/m", options = "ro" },
			{ type = "tmpfs", target = "/t", options = { "size=1m", "mode=755" } } },
	})
	t.is(out, "hello\nro\n1\n", "a read-only bind and a tmpfs mount")
	code, _, out = capture("ulimit -n", { rlimits = { nofile = { 123, 456 } } })
	t.is(out, "123\n", "rlimits nofile")
	code, _, out = capture("grep CapEff /proc/self/status", { cap_drop = { "ALL" }, cap_add = { "CHOWN" } })
	t.is(out, "CapEff:\t0000000000000001\n", "cap_drop ALL + cap_add CHOWN")
	code, _, out = capture("grep Seccomp: /proc/self/status", { seccomp = "unconfined" })
	t.is(out, "Seccomp:\t0\n", "seccomp unconfined")
	code, _, out = capture("ls /sys/class/net", { namespaces = box.NS.DEFAULT })
	t.is(out, "lo\n", "own network namespace: lo only")
	code, _, out = capture("echo $$", { init = true })
	t.ok(out ~= "1\n", "with init, the command is not pid 1", out)
end)

t.section("tty", 2, function()
	local b = assert(ctx:create(env.cfg { argv = { "sh", "-c", "test -t 0 && test -t 1" }, tty = true }))
	t.ok(math.type(b:tty_fd()) == "integer", "tty_fd is an fd: " .. tostring(b:tty_fd()))
	assert(b:start())
	local code = b:wait()
	t.is(code, 0, "stdin and stdout are a terminal")
	b:destroy()
end)

t.section("sandbox", 7, function()
	local r, msg = box.sandbox(ctx, env.cfg { argv = { "sh", "-c", "echo out; echo err >&2; touch /x 2>/dev/null || exit 3" } },
		{ timeout_ms = 10000 })
	t.ok(r and r.exit_code == 3 and r.signal == 0, "sandbox: exit 3 (read-only root)", msg,
		r and r.exit_code)
	t.ok(r and r.stdout == "out\n" and r.stderr == "err\n" and not r.timed_out,
		"sandbox: stdout and stderr kept")
	r = ctx:sandbox(env.cfg { argv = { "sleep", "30" } }, { timeout_ms = 300 })
	t.ok(r and r.timed_out and r.signal == 9, "sandbox: timeout kills", r and r.signal)
	r = ctx:sandbox(env.cfg { argv = { "sh", "-c", "yes | head -c 100000" } }, { output_cap = 10 })
	t.ok(r and #r.stdout == 10 and r.stdout_truncated and not r.stderr_truncated, "sandbox: output cap",
		r and #r.stdout)
	t.ok(r and math.type(r.wall_ms) == "integer", "sandbox: wall_ms")
	-- tail of a file with no newline keeps all of it: the OOM killer
	r = ctx:sandbox(env.cfg { argv = { "tail", "/dev/zero" },
		limits = { memory = 32 << 20, memory_swap = 32 << 20 } }, { timeout_ms = 20000 })
	t.ok(r and r.oom and r.signal == 9 and not r.timed_out, "sandbox: oom under a memory limit",
		r and r.signal, r and r.oom)
	t.ok(r and math.type(r.peak_memory) == "integer" and r.peak_memory > (16 << 20)
		and r.peak_memory <= (32 << 20), "sandbox: peak_memory near the limit", r and r.peak_memory)
end)

t.done()
