#include "alerts/merkle.h"

#include <algorithm>
#include <stdexcept>

namespace hpan::alerts::merkle {

Hash leaf_hash(std::string_view data) {
  std::vector<std::uint8_t> buf;
  buf.reserve(data.size() + 1);
  buf.push_back(0x00);
  buf.insert(buf.end(), data.begin(), data.end());
  return crypto::sha256(buf);
}

Hash node_hash(const Hash& left, const Hash& right) {
  std::array<std::uint8_t, 65> buf{};
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 33);
  return crypto::sha256(buf);
}

Hash empty_root() { return crypto::sha256(std::string_view()); }

namespace {
// The largest power of two smaller than n (n > 1).
std::size_t split_point(std::size_t n) {
  std::size_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}
}  // namespace

Hash root(std::span<const Hash> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = split_point(leaves.size());
  return node_hash(root(leaves.first(k)), root(leaves.subspan(k)));
}

void CompactTree::append(const Hash& leaf) {
  stack_.push_back({leaf, 0});
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].height == stack_[stack_.size() - 2].height) {
    Node right = stack_.back();
    stack_.pop_back();
    Node& left = stack_.back();
    left.hash = node_hash(left.hash, right.hash);
    left.height += 1;
  }
  ++size_;
}

Hash CompactTree::root() const {
  if (stack_.empty()) return empty_root();
  Hash acc = stack_.back().hash;
  for (auto it = stack_.rbegin() + 1; it != stack_.rend(); ++it) acc = node_hash(it->hash, acc);
  return acc;
}

std::vector<std::uint8_t> CompactTree::save() const {
  std::vector<std::uint8_t> out;
  for (const auto& n : stack_) {
    out.insert(out.end(), n.hash.begin(), n.hash.end());
    out.push_back(static_cast<std::uint8_t>(n.height));
  }
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(size_) >> (8 * i)));
  return out;
}

void CompactTree::restore(std::span<const std::uint8_t> state) {
  if (state.size() < 8 || (state.size() - 8) % 33 != 0) throw std::invalid_argument("bad tree state");
  stack_.clear();
  const std::size_t nodes = (state.size() - 8) / 33;
  for (std::size_t i = 0; i < nodes; ++i) {
    Node n{};
    std::copy_n(state.begin() + static_cast<long>(i * 33), 32, n.hash.begin());
    n.height = state[i * 33 + 32];
    stack_.push_back(n);
  }
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= static_cast<std::uint64_t>(state[nodes * 33 + static_cast<std::size_t>(i)]) << (8 * i);
  size_ = static_cast<std::int64_t>(size);
}

std::vector<Hash> inclusion_proof(std::size_t index, std::span<const Hash> leaves) {
  std::vector<Hash> path;
  if (leaves.size() <= 1 || index >= leaves.size()) return path;
  const std::size_t k = split_point(leaves.size());
  if (index < k) {
    path = inclusion_proof(index, leaves.first(k));
    path.push_back(root(leaves.subspan(k)));
  } else {
    path = inclusion_proof(index - k, leaves.subspan(k));
    path.push_back(root(leaves.first(k)));
  }
  return path;
}

bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size,
                      std::span<const Hash> proof, const Hash& root_hash) {
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = node_hash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root_hash;
}

}  // namespace hpan::alerts::merkle
