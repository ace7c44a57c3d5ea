-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Bad input: nil, message, errno for what libbox (or the config table)
-- refuses; a thrown error for misuse (wrong Lua types, closed handles).
local t = require "tap"
local env = t.setup(27)
local box, ctx = env.box, env.ctx
local ENOENT, EINVAL, EEXIST = 2, 22, 17

t.section("module", 3, function()
	t.ok(type(box.version()) == "string" and box.version():match("^%d+%.%d+%.%d+"),
		"box.version() is x.y.z: " .. tostring(box.version()))
	t.is(box.NS.DEFAULT, box.NS.MOUNT | box.NS.UTS | box.NS.IPC | box.NS.PID | box.NS.NET | box.NS.CGROUP,
		"box.NS.DEFAULT is Docker's set")
	t.is(box.strerror(ENOENT), "No such file or directory", "box.strerror")
end)

t.section("config errors", 9, function()
	local cfg, msg, err = box.config { argv = { "true" }, cap_add = { "NO_SUCH_CAP" } }
	t.ok(cfg == nil and err == EINVAL and msg:match("unknown capability"),
		"unknown capability: nil, message, EINVAL", msg, err)
	cfg, msg, err = box.config { argv = { "true" }, colour = "blue" }
	t.ok(cfg == nil and err == EINVAL and msg:match('unknown setting "colour"'),
		"unknown setting: nil, message, EINVAL", msg, err)
	cfg, msg, err = box.config { argv = {} }
	t.ok(cfg == nil and err == EINVAL, "empty argv: EINVAL", msg, err)
	cfg, msg, err = box.config { argv = "true" }
	t.ok(cfg == nil and err == EINVAL and msg:match("argv must be a table"), "argv not a table: EINVAL", msg)
	cfg, msg, err = box.config { argv = { "true" }, rlimits = { nofile = { 10, 5 } } }
	t.ok(cfg == nil and err == EINVAL, "rlimit soft > hard: EINVAL", msg, err)
	cfg, msg, err = box.config { argv = { "true" }, limits = { memroy = 1 } }
	t.ok(cfg == nil and err == EINVAL and msg:match("unknown limit"), "unknown limit: EINVAL", msg)
	cfg, msg, err = box.config { argv = { "true" }, namespaces = { "mount", "bogus" } }
	t.ok(cfg == nil and err == EINVAL, "unknown namespace: EINVAL", msg)
	cfg, msg, err = box.config { name = "no/slash" }
	t.ok(cfg == nil and err == EINVAL, "bad name: EINVAL", msg)
	local ctx2
	ctx2, msg, err = box.context { state_dir = "relative" }
	t.ok(ctx2 == nil and err == EINVAL, "relative state_dir: EINVAL", msg)
end)

t.section("create errors", 6, function()
	local b, msg, err = ctx:create(env.cfg { rootfs = "/nonexistent/rootfs", argv = { "true" } })
	t.ok(b == nil and err == ENOENT and type(msg) == "string" and msg ~= "",
		"missing rootfs: nil, message, ENOENT", msg, err)
	t.diag("message: " .. tostring(msg))
	local code
	code, msg, err = ctx:run(env.cfg { argv = { "/no/such/command" } })
	t.ok(code == nil and err == ENOENT and msg:match("/no/such/command"), "missing command: ENOENT", msg, err)
	b, msg, err = ctx:open("no-such-box")
	t.ok(b == nil and err == ENOENT, "open of a missing box: ENOENT", msg, err)
	-- a table where a config goes: made into one on the fly, errors and all
	b, msg, err = ctx:create { argv = { "true" }, cap_drop = { "WHAT" } }
	t.ok(b == nil and err == EINVAL, "config table with a bad capability: EINVAL", msg)
	local a = assert(ctx:create(env.cfg { argv = { "sleep", "30" }, name = "taken" }))
	b, msg, err = ctx:create(env.cfg { argv = { "true" }, name = "taken" })
	t.ok(b == nil and err == EEXIST, "a name in use: EEXIST", msg, err)
	t.ok(a:destroy(), "destroy")
end)

t.section("misuse is thrown", 6, function()
	local ok, e = pcall(box.config, "not a table")
	t.ok(not ok and e:match("table expected"), "box.config(string) throws", e)
	local b = assert(ctx:create(env.cfg { argv = { "true" } }))
	t.ok(b:destroy(), "destroy returns true")
	ok, e = pcall(b.start, b)
	t.ok(not ok and e:match("closed box"), "a destroyed handle throws on use", e)
	t.ok(b:destroy() == true and b:closed(), "destroy again is harmless; closed() is true")
	ok, e = pcall(b.kill, b, "NOSIG")
	t.ok(not ok, "an unknown signal name throws", e)
	ok, e = pcall(ctx.create, ctx, 42)
	t.ok(not ok and e:match("box.config expected"), "create(42) throws", e)
end)

t.section("exec and update on the wrong box", 3, function()
	local b = assert(ctx:create(env.cfg { argv = { "true" } }))
	assert(b:start())
	assert(b:wait())
	local e, msg, err = b:exec { argv = { "true" } }
	t.ok(e == nil and err == 3, "exec in an exited box: ESRCH", msg, err) -- ESRCH = 3
	local ok
	ok, msg, err = b:update_limits { limits = { bogus = 1 } }
	t.ok(ok == nil and err == EINVAL, "update_limits with a bad table: EINVAL", msg)
	t.ok(b:destroy(), "destroy")
end)

t.done()
