#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <new>
#include <utility>

#include "crypto/encoding.h"

namespace hpan::crypto {

SecureBuffer::SecureBuffer(std::size_t size) : size_(size) {
  ensure_initialized();
  data_ = static_cast<std::uint8_t*>(sodium_malloc(size == 0 ? 1 : size));
  if (data_ == nullptr) throw std::bad_alloc();
  sodium_memzero(data_, size == 0 ? 1 : size);
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before freeing
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool SecureBuffer::equals(std::span<const std::uint8_t> other) const noexcept {
  if (other.size() != size_ || data_ == nullptr) return false;
  return sodium_memcmp(data_, other.data(), size_) == 0;
}

}  // namespace hpan::crypto
