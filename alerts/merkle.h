#pragma once
// RFC 6962 Merkle trees (§2.1): leaf hash SHA-256(0x00 || d), node hash
// SHA-256(0x01 || left || right), the tree hash MTH over n leaves, audit paths.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/encoding.h"

namespace hpan::alerts::merkle {

using Hash = crypto::Sha256Digest;

Hash leaf_hash(std::string_view data);
Hash node_hash(const Hash& left, const Hash& right);
Hash empty_root();  // SHA-256 of the empty string

// MTH(D[0:n]) over leaf hashes, computed directly.
Hash root(std::span<const Hash> leaves);

// An append-only accumulator ("compact range"): O(log n) memory, O(1) amortised append,
// the root of the leaves so far in O(log n).
class CompactTree {
 public:
  void append(const Hash& leaf);
  Hash root() const;
  std::int64_t size() const noexcept { return size_; }
  // Serialised state, for undo (AuditBatch) and tests.
  std::vector<std::uint8_t> save() const;
  void restore(std::span<const std::uint8_t> state);

 private:
  struct Node {
    Hash hash;
    int height;
  };
  std::vector<Node> stack_;
  std::int64_t size_ = 0;
};

// PATH(m, D[0:n]) of RFC 6962 §2.1.1 for leaf `index` among `leaves`.
std::vector<Hash> inclusion_proof(std::size_t index, std::span<const Hash> leaves);
// RFC 9162 §2.1.3.2: true when `proof` proves `leaf` at `index` in a tree of `size` with `root`.
bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                      std::span<const Hash> proof, const Hash& root);

}  // namespace hpan::alerts::merkle
