/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seccomp: a profile in Docker's (or the OCI runtime spec's) JSON form is
 * read with jansson, turned into a filter with libseccomp and exported as
 * BPF in the parent, so that the child only has to hand it to the kernel.
 * The built-in default profile is seccomp-default.json, compiled in. */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/filter.h>
#include <nettle/sha2.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "internal.h"

extern const char box_seccomp_default_json[];
extern const size_t box_seccomp_default_json_len;

struct profile_ctx {
	const char *name;   /* for messages: "the default seccomp profile" or a path */
	uint64_t caps;      /* capabilities the box keeps */
	const char *goarch; /* the native arch in Docker's naming */
	uint32_t native;    /* SCMP_ARCH_* */
};

#define PERR(pc, err, ...) perr(pc, err, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static int perr(const struct profile_ctx *pc, int err,
						       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return box_err(err, "seccomp profile %s: %s", pc->name, msg);
}

static const char *native_goarch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64 via libseccomp's names. */
static uint32_t arch_from_name(const char *name)
{
	char low[32];
	size_t i = 0;

	if (strncmp(name, "SCMP_ARCH_", 10) == 0)
		name += 10;
	for (; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
	low[i] = '\0';
	return seccomp_arch_resolve_name(low);
}

static int parse_action(const struct profile_ctx *pc, const char *path, const char *s,
			json_t *errno_ret, uint32_t *out)
{
	int e = EPERM;

	if (errno_ret) {
		if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
		    json_integer_value(errno_ret) > 4095)
			return PERR(pc, EINVAL, "%s: errnoRet is not an errno number", path);
		e = (int)json_integer_value(errno_ret);
	}
	if (!s)
		return PERR(pc, EINVAL, "%s: missing action", path);
	if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO((uint16_t)e);
	else if (strcmp(s, "SCMP_ACT_KILL") == 0 || strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(s, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE((uint16_t)e);
	else
		return PERR(pc, EINVAL, "%s: unsupported action \"%s\"", path, s);
	return 0;
}

static int parse_op(const char *s, enum scmp_compare *op)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE },	    { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE },	    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE },	    { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};

	for (size_t i = 0; s && i < ARRAY_SIZE(ops); i++) {
		if (strcmp(s, ops[i].name) == 0) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -EINVAL;
}

static bool kernel_at_least(const char *want)
{
	struct utsname u;
	unsigned a = 0, b = 0, x = 0, y = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) < 1 ||
	    sscanf(want, "%u.%u", &x, &y) < 1)
		return false;
	return a > x || (a == x && b >= y);
}

static bool string_in(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static bool any_cap_kept(const struct profile_ctx *pc, json_t *caps)
{
	size_t i;
	json_t *v;

	json_array_foreach(caps, i, v) {
		int c = json_is_string(v) ? box_cap_from_name(json_string_value(v)) : -1;

		if (c >= 0 && (pc->caps & (1ull << c)))
			return true;
	}
	return false;
}

/* Docker's includes/excludes: whether a rule applies to this box. */
static bool rule_applies(const struct profile_ctx *pc, json_t *rule)
{
	json_t *inc = json_object_get(rule, "includes");
	json_t *exc = json_object_get(rule, "excludes");
	json_t *v;

	if (json_is_object(inc)) {
		if ((v = json_object_get(inc, "caps")) && json_array_size(v) &&
		    !any_cap_kept(pc, v))
			return false;
		if ((v = json_object_get(inc, "arches")) && json_array_size(v) &&
		    !string_in(v, pc->goarch))
			return false;
		if ((v = json_object_get(inc, "minKernel")) && json_is_string(v) &&
		    !kernel_at_least(json_string_value(v)))
			return false;
	}
	if (json_is_object(exc)) {
		if ((v = json_object_get(exc, "caps")) && any_cap_kept(pc, v))
			return false;
		if ((v = json_object_get(exc, "arches")) && string_in(v, pc->goarch))
			return false;
		if ((v = json_object_get(exc, "minKernel")) && json_is_string(v) &&
		    kernel_at_least(json_string_value(v)))
			return false;
	}
	return true;
}

static int add_arches(const struct profile_ctx *pc, scmp_filter_ctx sc, json_t *root)
{
	json_t *arches = json_object_get(root, "architectures");
	json_t *map = json_object_get(root, "archMap");
	json_t *subs = NULL, *v, *e;
	size_t i;

	json_array_foreach(map, i, e) {
		json_t *a = json_object_get(e, "architecture");

		if (json_is_string(a) && arch_from_name(json_string_value(a)) == pc->native)
			subs = json_object_get(e, "subArchitectures");
	}
	for (int pass = 0; pass < 2; pass++) {
		json_array_foreach(pass ? subs : arches, i, v) {
			uint32_t arch;
			int r;

			if (!json_is_string(v))
				return PERR(pc, EINVAL, "architectures[%zu]: not a string", i);
			arch = arch_from_name(json_string_value(v));
			if (!arch)
				return PERR(pc, EINVAL, "unknown architecture \"%s\"",
					    json_string_value(v));
			r = seccomp_arch_add(sc, arch);
			if (r < 0 && r != -EEXIST)
				return PERR(pc, -r, "cannot add architecture %s",
					    json_string_value(v));
		}
	}
	return 0;
}

static int add_rule(const struct profile_ctx *pc, scmp_filter_ctx sc, uint32_t def,
		    json_t *rule, size_t idx)
{
	char path[64];
	struct scmp_arg_cmp args[6];
	unsigned nargs = 0;
	json_t *names, *v, *a;
	uint32_t action;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "syscalls[%zu]", idx);
	if (!json_is_object(rule))
		return PERR(pc, EINVAL, "%s: not an object", path);
	if (!rule_applies(pc, rule))
		return 0;
	v = json_object_get(rule, "action");
	r = parse_action(pc, path, json_is_string(v) ? json_string_value(v) : NULL,
			 json_object_get(rule, "errnoRet"), &action);
	if (r < 0)
		return r;
	json_array_foreach(json_object_get(rule, "args"), i, a) {
		json_t *ix = json_object_get(a, "index"), *val = json_object_get(a, "value");
		json_t *v2 = json_object_get(a, "valueTwo"), *op = json_object_get(a, "op");
		enum scmp_compare cmp;

		if (nargs >= 6)
			return PERR(pc, EINVAL, "%s.args: more than 6 conditions", path);
		if (!json_is_integer(ix) || json_integer_value(ix) < 0 || json_integer_value(ix) > 5)
			return PERR(pc, EINVAL, "%s.args[%zu].index: not 0 to 5", path, i);
		if (!json_is_integer(val) || (v2 && !json_is_integer(v2)))
			return PERR(pc, EINVAL, "%s.args[%zu].value: not an integer", path, i);
		if (parse_op(json_string_value(op), &cmp) < 0)
			return PERR(pc, EINVAL, "%s.args[%zu].op: unknown operator", path, i);
		/* Docker's MASKED_EQ: value is the mask, valueTwo the datum. */
		args[nargs++] = (struct scmp_arg_cmp){
			.arg = (unsigned)json_integer_value(ix),
			.op = cmp,
			.datum_a = (scmp_datum_t)json_integer_value(val),
			.datum_b = v2 ? (scmp_datum_t)json_integer_value(v2) : 0,
		};
	}
	if (action == def)
		return 0; /* libseccomp refuses rules that repeat the default */
	names = json_object_get(rule, "names");
	if (!names && (v = json_object_get(rule, "name")))
		names = v; /* the old single-name form */
	if (json_is_string(names)) {
		names = json_pack("[O]", names);
		if (!names)
			return PERR(pc, ENOMEM, "out of memory");
	} else if (json_is_array(names)) {
		json_incref(names);
	} else {
		return PERR(pc, EINVAL, "%s.names: missing", path);
	}
	json_array_foreach(names, i, v) {
		int nr;

		if (!json_is_string(v)) {
			json_decref(names);
			return PERR(pc, EINVAL, "%s.names[%zu]: not a string", path, i);
		}
		nr = seccomp_syscall_resolve_name(json_string_value(v));
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: as Docker, skip it */
		r = seccomp_rule_add_array(sc, action, nr, nargs, args);
		if (r < 0) {
			json_decref(names);
			return PERR(pc, -r, "%s: cannot add a rule for %s", path,
				    json_string_value(v));
		}
	}
	json_decref(names);
	return 0;
}

static int export_bpf(const struct profile_ctx *pc, scmp_filter_ctx sc, struct box_bpf *out)
{
	_cleanup_close_ int fd = memfd_create("libbox-seccomp", MFD_CLOEXEC);
	off_t size;
	void *buf;
	int r;

	if (fd < 0)
		return PERR(pc, errno, "memfd_create: %s", box_strerror(errno));
	r = seccomp_export_bpf(sc, fd);
	if (r < 0)
		return PERR(pc, -r, "cannot export the filter: %s", box_strerror(r));
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return PERR(pc, E2BIG, "the filter has an invalid size (%lld bytes)", (long long)size);
	buf = malloc((size_t)size);
	if (!buf)
		return PERR(pc, ENOMEM, "out of memory");
	if (pread(fd, buf, (size_t)size, 0) != size) {
		free(buf);
		return PERR(pc, EIO, "cannot read the exported filter");
	}
	out->filter = buf;
	out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

static int compile(const struct profile_ctx *pc, json_t *root, struct box_bpf *out)
{
	scmp_filter_ctx sc;
	uint32_t def;
	json_t *v, *rule;
	size_t i;
	int r;

	if (!json_is_object(root))
		return PERR(pc, EINVAL, "not a JSON object");
	v = json_object_get(root, "defaultAction");
	r = parse_action(pc, "defaultAction", json_is_string(v) ? json_string_value(v) : NULL,
			 json_object_get(root, "defaultErrnoRet"), &def);
	if (r < 0)
		return r;
	v = json_object_get(root, "syscalls");
	if (v && !json_is_array(v))
		return PERR(pc, EINVAL, "syscalls: not an array");
	sc = seccomp_init(def);
	if (!sc)
		return PERR(pc, ENOMEM, "seccomp_init failed");
	r = add_arches(pc, sc, root);
	json_array_foreach(v, i, rule) {
		if (r < 0)
			break;
		r = add_rule(pc, sc, def, rule, i);
	}
	if (r == 0)
		r = export_bpf(pc, sc, out);
	seccomp_release(sc);
	return r;
}

/* ---- the compiled-filter cache ----
 * libseccomp needs several milliseconds to compile Docker's profile for
 * three architectures, more than everything else a box start does.  The
 * BPF depends only on the profile's bytes, the capabilities kept (Docker's
 * includes/excludes), the architecture, libseccomp's version and the
 * kernel release (minKernel), so it is cached under STATE/seccomp/ by the
 * sha256 of those.  A cache file is trusted only if it is a regular file
 * owned by us and writable by no one else; any cache failure just means
 * compiling again. */

#define CACHE_FORMAT "libbox-seccomp-cache-1"

static int cache_key(const char *text, size_t len, const struct profile_ctx *pc, char hex[65])
{
	const struct scmp_version *v = seccomp_version();
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	struct utsname u;
	char extra[512];
	int n;

	if (uname(&u) < 0)
		return -errno;
	n = snprintf(extra, sizeof(extra), "%s\n%llx\n%u\n%u.%u.%u\n%s\n", CACHE_FORMAT,
		     (unsigned long long)pc->caps, pc->native, v->major, v->minor, v->micro,
		     u.release);
	sha256_init(&h);
	sha256_update(&h, (size_t)n, (const uint8_t *)extra);
	sha256_update(&h, len, (const uint8_t *)text);
	sha256_digest(&h, sizeof(md), md);
	for (unsigned i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static bool cache_load(const char *path, struct box_bpf *out)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	void *buf = NULL;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		goto fail;
	buf = malloc((size_t)st.st_size);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		goto fail;
	close(fd);
	out->filter = buf;
	out->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	return true;
fail:
	free(buf);
	close(fd);
	return false;
}

static void cache_store(const char *dir, const char *path, const struct box_bpf *bpf)
{
	char tmp[PATH_MAX];
	size_t len = bpf->len * sizeof(struct sock_filter);
	bool ok;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid()) >= (int)sizeof(tmp))
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = write(fd, bpf->filter, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

static int read_profile(const char *path, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return box_err_errno(errno, "seccomp profile %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > (16 << 20))
		return box_err(EINVAL, "seccomp profile %s: not a regular file of at most 16 MiB",
			       path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return box_err(ENOMEM, "seccomp profile %s: out of memory", path);
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		free(buf);
		return box_err_errno(n < 0 ? errno : EIO, "seccomp profile %s: read", path);
	}
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}

int box_seccomp_compile(const struct box_config *cfg, const char *state_dir, struct box_bpf *out)
{
	struct profile_ctx pc = {
		.caps = cfg->caps,
		.goarch = native_goarch(),
		.native = seccomp_arch_native(),
	};
	_cleanup_free_ char *owned = NULL;
	char key[65], dir[PATH_MAX], path[PATH_MAX];
	const char *text;
	json_error_t jerr;
	bool cacheable;
	size_t len = 0;
	json_t *root;
	int r;

	out->filter = NULL;
	out->len = 0;
	if (cfg->seccomp_mode == BOX_SECCOMP_UNCONFINED)
		return 0;
	if (cfg->seccomp_mode == BOX_SECCOMP_PROFILE && cfg->oci && cfg->oci->seccomp_json) {
		pc.name = "linux.seccomp";
		text = cfg->oci->seccomp_json;
		len = strlen(text);
	} else if (cfg->seccomp_mode == BOX_SECCOMP_PROFILE) {
		pc.name = cfg->seccomp_profile;
		r = read_profile(cfg->seccomp_profile, &owned, &len);
		if (r < 0)
			return r;
		text = owned;
	} else {
		pc.name = "(built-in default)";
		text = box_seccomp_default_json;
		len = box_seccomp_default_json_len;
	}

	cacheable = state_dir && cache_key(text, len, &pc, key) == 0 &&
		    snprintf(dir, sizeof(dir), "%s/seccomp", state_dir) < (int)sizeof(dir) &&
		    snprintf(path, sizeof(path), "%s/%s.bpf", dir, key) < (int)sizeof(path);
	if (cacheable && cache_load(path, out))
		return 0;

	root = json_loadb(text, len, 0, &jerr);
	if (!root)
		return PERR(&pc, EINVAL, "line %d: %s", jerr.line, jerr.text);
	r = compile(&pc, root, out);
	json_decref(root);
	if (r == 0 && cacheable && box_mkdir_p(state_dir, 0700) == 0)
		cache_store(dir, path, out);
	return r;
}

void box_bpf_free(struct box_bpf *bpf)
{
	free(bpf->filter);
	bpf->filter = NULL;
	bpf->len = 0;
}
