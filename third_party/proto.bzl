"""cc_grpc_proto: protoc + grpc_cpp_plugin from Debian, one line per .proto.

    cc_grpc_proto(name = "snapshot_cc_grpc", src = "snapshot.proto", deps = [":records_cc_proto"])

makes a cc_library over x.pb.{h,cc} (and x.grpc.pb.{h,cc} when grpc = True). Paths are relative
to the workspace root (`-I.`), so imports read `import "proto/records.proto";`.
"""

def cc_grpc_proto(name, src, deps = [], grpc = True, visibility = None):
    base = src[:-len(".proto")]
    pkg = native.package_name()
    outs = [base + ".pb.h", base + ".pb.cc"]
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    proto_deps = [d + "_srcs" for d in deps]
    cmd = "protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin "
    cmd += pkg + "/" + src
    native.filegroup(name = name + "_srcs", srcs = [src] + proto_deps, visibility = visibility)
    native.genrule(
        name = name + "_gen",
        srcs = [src] + proto_deps,
        outs = outs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
