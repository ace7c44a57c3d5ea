#!/usr/bin/env python3
# Turn a file into a C array (the built-in seccomp profile).
# usage: embed-json.py INPUT OUTPUT SYMBOL
import sys

data = open(sys.argv[1], "rb").read()
sym = sys.argv[3]
with open(sys.argv[2], "w") as out:
    out.write("/* generated from %s; do not edit */\n#include <stddef.h>\n" % sys.argv[1].split("/")[-1])
    out.write("const char %s[] = {\n" % sym)
    for i in range(0, len(data), 16):
        out.write("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
    out.write("};\nconst size_t %s_len = %d;\n" % (sym, len(data)))
