#pragma once
// SecureBuffer: secret bytes in sodium_malloc memory (guard pages, mlock'd),
// wiped with sodium_memzero and freed on destruction. Not copyable; movable.
// It has no formatter or stream operator on purpose: secrets cannot be logged.

#include <cstddef>
#include <cstdint>
#include <span>

namespace hpan::crypto {

class SecureBuffer {
 public:
  // Allocates `size` bytes of guarded, locked memory, zero-filled.
  // Throws std::bad_alloc when sodium_malloc fails.
  explicit SecureBuffer(std::size_t size);
  ~SecureBuffer();
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }

  // Constant-time comparison (sodium_memcmp); false when sizes differ.
  bool equals(std::span<const std::uint8_t> other) const noexcept;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hpan::crypto
