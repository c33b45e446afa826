#pragma once
// hpan::Result<T>: a value or an Error. The project builds as C++20, so this
// stands in for std::expected (see docs/decisions/0001-result-type.md).

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace hpan {

// An error that a caller can act on and a person can read.
//   code:    stable, machine-readable, snake_case ("bad_signature", "invalid_field").
//   message: one line for a person; never contains personal data or secrets.
//   field:   the offending field, key path or file when there is one ("concern.description").
struct Error {
  std::string code;
  std::string message;
  std::string field;
};

inline Error make_error(std::string code, std::string message, std::string field = {}) {
  return Error{std::move(code), std::move(message), std::move(field)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace hpan

// Early return of an error, like `?` elsewhere:
//   HPAN_TRY(store.put(x));                    // Status or Result<T>
//   HPAN_TRY_ASSIGN(key, read_key_file(path)); // declares `key` from a Result<T>
#define HPAN_TRY(expr)                                 \
  do {                                                 \
    auto hpan_try_result_ = (expr);                    \
    if (!hpan_try_result_) return std::move(hpan_try_result_).error(); \
  } while (0)
#define HPAN_TRY_ASSIGN(var, expr)                 \
  auto var##_result_ = (expr);                     \
  if (!var##_result_) return std::move(var##_result_).error(); \
  auto var = std::move(*var##_result_)
