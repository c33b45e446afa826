#pragma once
// A temporary folder removed at the end of the test.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>

namespace hpan::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hpan-t-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace hpan::testing
