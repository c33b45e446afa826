# One INTERFACE target carries the project's compile flags and warnings; every
# target of ours links it PRIVATE.
add_library(hpan_flags INTERFACE)
target_compile_options(hpan_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  -fstack-protector-strong)
target_compile_definitions(hpan_flags INTERFACE _FORTIFY_SOURCE=2)
if(HPAN_WERROR)
  target_compile_options(hpan_flags INTERFACE -Werror)
endif()
if(HPAN_SANITIZE)
  target_compile_options(hpan_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined
                         # g++ 12 misreports coroutine frames (Asio awaitables) as mismatched
                         # new/delete when sanitizers are on.
                         -Wno-mismatched-new-delete)
  target_link_options(hpan_flags INTERFACE -fsanitize=address,undefined)
endif()
if(HPAN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HPAN_FUZZ needs clang (CC=clang CXX=clang++)")
  endif()
  target_compile_options(hpan_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(hpan_flags INTERFACE -fsanitize=address,undefined)
endif()
# The include root is the repository root: #include "crypto/keys.h".
target_include_directories(hpan_flags INTERFACE ${PROJECT_SOURCE_DIR})
# Not enabled: -Wnull-dereference. With g++ 12 at -O2 it fires inside inlined Boost.Asio
# code (scheduler.ipp), which system-header status does not silence.
