-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The calls of LIBBOX_1.1 from Lua: images (a private store), users by
-- name, bridge networking and port maps (in the test's throwaway network
-- namespace), boxes made again under their id, OCI bundles.
local t = require "tap"
local env = t.setup(22)
local box = env.box
local ENOENT = 2

local store = t.tmpdir()
local ctx = assert(box.context { state_dir = env.state, store_dir = store,
				 cgroup_parent = env.cgroup_parent })

local function image_cfg(settings)
	settings.image = settings.image or "busybox"
	settings.stdio = { false, false, false }
	return box.config(settings)
end

t.section("the default image", 3, function()
	local id, msg = ctx:default_image()
	t.ok(id and id:match("^sha256:%x+$"), "default_image gives its id", msg)
	local list = ctx:images()
	t.ok(list and list:find("busybox", 1, true), "images lists busybox", list)
	local doc = ctx:image_inspect("busybox:latest")
	t.ok(doc and doc:find(id, 1, true), "image_inspect names it by its id")
end)

t.section("boxes on an image", 4, function()
	local code = ctx:run(assert(image_cfg { argv = { "sh", "-c", "grep -q libbox /etc/os-release" } }))
	t.is(code, 0, "a box runs on the image's layers")
	code = ctx:run(assert(image_cfg { user = "nobody", argv = { "sh", "-c", "[ $(id -u):$(id -g) = 65534:65534 ]" } }))
	t.is(code, 0, "user = \"nobody\": looked up in the image's /etc/passwd")
	local _, msg, err = ctx:run(assert(image_cfg { user = "nosuchuser", argv = { "true" } }))
	t.ok(err == ENOENT and msg:find("no user nosuchuser", 1, true), "an unknown user: ENOENT, named", msg)
	_, msg, err = ctx:run(assert(image_cfg { image = "nosuchimage", argv = { "true" } }))
	t.ok(err == ENOENT, "an unknown image: ENOENT", msg)
end)

t.section("commit", 3, function()
	local b = assert(ctx:create(assert(image_cfg { argv = { "sh", "-c", "echo kept > /made-here" } })))
	assert(b:start())
	t.is(b:wait(), 0, "the box wrote a file")
	local id, msg = b:commit("lua-commit:1")
	t.ok(id and id:match("^sha256:"), "commit gives the new image's id", msg)
	b:destroy()
	local code = ctx:run(assert(image_cfg { image = "lua-commit:1", argv = { "grep", "-q", "kept", "/made-here" } }))
	t.is(code, 0, "a box of the new image has the file")
	assert(ctx:remove_image("lua-commit:1"))
end)

t.section("made again under its id, with its writable layer", 3, function()
	local cfg = assert(image_cfg { argv = { "sh", "-c", "echo x >> /count; [ $(wc -l < /count) = 2 ]" } })
	local b = assert(ctx:create(cfg))
	assert(b:start())
	local id = b:id()
	t.ok(b:wait() ~= 0, "first life: one line")
	local upper = store .. "/kept-upper"
	assert(os.rename(store .. "/boxes/" .. id .. "/upper", upper))
	b:destroy()
	assert(cfg:set { id = id, upper = upper })
	b = assert(ctx:create(cfg))
	t.is(b:id(), id, "the same id")
	assert(b:start())
	t.is(b:wait(), 0, "second life: the layer kept, two lines")
	b:destroy()
end)

t.section("bridge networking", 6, function()
	local b = assert(ctx:create(assert(box.config {
		rootfs = env.rootfs, stdio = { false, false, false }, argv = { "sleep", "60" },
		network = "bridge", ports = { { host_port = 18080, box_port = 80 },
					      { host_port = 18053, box_port = 53, proto = "udp" } },
		dns = { "192.0.2.53" } })))
	assert(b:start())
	local ip = b:ip()
	t.ok(ip and ip:match("^10%.88%.%d+%.%d+$"), "b:ip() is in the default subnet", ip)
	local net = ctx:network_inspect()
	t.ok(net and net:find("box0", 1, true), "network_inspect shows the bridge", net)
	local _, msg = ctx:create(assert(box.config {
		rootfs = env.rootfs, argv = { "true" }, network = "bridge",
		ports = { { host_port = 18080, box_port = 81 } } }))
	t.ok(msg and msg:find("18080", 1, true), "a host port already mapped is refused, named", msg)
	b:destroy()
	local c, m = box.config { network = "wifi" }
	t.ok(c == nil and m:find("none, host or bridge", 1, true), "network = \"wifi\" is refused", m)
	c, m = box.config { ports = { { host_port = 1, box_port = 2, proto = "sctp" } } }
	t.ok(c == nil and m:find("tcp or udp", 1, true), "proto = \"sctp\" is refused", m)
	c, m = box.config { ports = { { host_port = 70000, box_port = 2 } } }
	t.ok(c == nil and m ~= nil, "a port past 65535 is refused", m)
end)

t.section("OCI bundles", 3, function()
	local _, msg, err = box.config_from_oci("/nonexistent/bundle")
	t.ok(err == ENOENT, "a missing bundle: ENOENT", msg)
	local dir = t.tmpdir()
	local f = assert(io.open(dir .. "/config.json", "w"))
	f:write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["true"], "cwd": "/"},'
		.. ' "linux": {"namespaces": [{"type": "mount"}], "resources": {"memory": {"limit": "lots"}}}}')
	f:close()
	_, msg = box.config_from_oci(dir)
	t.ok(msg and msg:find("linux.resources.memory.limit", 1, true), "a bad value names its JSON path", msg)
	f = assert(io.open(dir .. "/config.json", "w"))
	f:write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["true"], "cwd": "/"},'
		.. ' "linux": {"namespaces": [{"type": "mount"}]}}')
	f:close()
	local cfg = box.config_from_oci(dir)
	t.ok(cfg ~= nil, "a good one gives a config")
end)

t.done()
