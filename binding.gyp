{
  "targets": [
    {
      "target_name": "alpha_dpo_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/tensor_handle.cc",
        "native/src/convert.cc",
        "native/src/core.cc",
        "native/src/linear_token_logps.cc",
        "native/src/chunked_attention.cc",
        "native/src/embedding_into_grad.cc",
        "native/src/distributed.cc",
        "native/src/ops.generated.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/find-libtorch.mjs --include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<!(node scripts/find-libtorch.mjs --abi)",
        "<!@(node scripts/find-libtorch.mjs --c10d)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=<!(node scripts/find-libtorch.mjs --std)", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node scripts/find-libtorch.mjs --libdir)",
        "-Wl,-rpath,<!(node scripts/find-libtorch.mjs --libdir)",
        "-Wl,--no-as-needed",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10",
        "<!@(node scripts/find-libtorch.mjs --cuda-libs)"
      ]
    }
  ]
}
