#pragma once
// Byte views and bounds-checked big-endian readers/writers for wire formats.
// Parsers are views over caller-owned buffers: nothing here allocates.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace sb::util {

using ByteView = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;
using Bytes = std::vector<uint8_t>;

inline uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
inline uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t load_be64(const uint8_t* p) { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }
inline void store_be16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8); p[1] = uint8_t(v); }
inline void store_be24(uint8_t* p, uint32_t v) { p[0] = uint8_t(v >> 16); p[1] = uint8_t(v >> 8); p[2] = uint8_t(v); }
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24); p[1] = uint8_t(v >> 16); p[2] = uint8_t(v >> 8); p[3] = uint8_t(v);
}
inline void store_be64(uint8_t* p, uint64_t v) { store_be32(p, uint32_t(v >> 32)); store_be32(p + 4, uint32_t(v)); }

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Reads big-endian fields from a view. Every read checks bounds; after the
/// first failed read `ok()` is false and all further reads return zero.
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }

  uint8_t u8() { return need(1) ? data_[pos_++] : 0; }
  uint16_t u16() { return need(2) ? advance(2, load_be16(&data_[pos_])) : 0; }
  uint32_t u24() { return need(3) ? advance(3, load_be24(&data_[pos_])) : 0; }
  uint32_t u32() { return need(4) ? advance(4, load_be32(&data_[pos_])) : 0; }
  uint64_t u64() { return need(8) ? advance(8, load_be64(&data_[pos_])) : 0; }
  ByteView bytes(size_t n) {
    if (!need(n)) return {};
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(size_t n) { if (need(n)) pos_ += n; }

 private:
  bool need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) { ok_ = false; return false; }
    return true;
  }
  template <typename T> T advance(size_t n, T v) { pos_ += n; return v; }

  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

/// Writes big-endian fields into a caller-owned buffer. Overflow sets
/// `ok()` false and stops writing; the caller checks once at the end.
class ByteWriter {
 public:
  explicit ByteWriter(MutableBytes out) : out_(out) {}

  bool ok() const { return ok_; }
  size_t size() const { return pos_; }
  MutableBytes written() const { return out_.first(pos_); }
  uint8_t* data() const { return out_.data(); }

  void u8(uint8_t v) { if (need(1)) out_[pos_++] = v; }
  void u16(uint16_t v) { if (need(2)) { store_be16(&out_[pos_], v); pos_ += 2; } }
  void u24(uint32_t v) { if (need(3)) { store_be24(&out_[pos_], v); pos_ += 3; } }
  void u32(uint32_t v) { if (need(4)) { store_be32(&out_[pos_], v); pos_ += 4; } }
  void u64(uint64_t v) { if (need(8)) { store_be64(&out_[pos_], v); pos_ += 8; } }
  void bytes(ByteView b) {
    if (need(b.size()) && !b.empty()) { std::memcpy(&out_[pos_], b.data(), b.size()); pos_ += b.size(); }
  }
  void zeros(size_t n) { if (need(n)) { std::memset(&out_[pos_], 0, n); pos_ += n; } }
  /// Patches a 16-bit field written earlier (e.g. a length known only at the end).
  void patch_u16(size_t at, uint16_t v) { if (ok_ && at + 2 <= pos_) store_be16(&out_[at], v); }

 private:
  bool need(size_t n) {
    if (!ok_ || out_.size() - pos_ < n) { ok_ = false; return false; }
    return true;
  }
  MutableBytes out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sb::util
