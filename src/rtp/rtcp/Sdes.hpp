#pragma once
// Source description, RFC 3550 §6.5. We only ever send CNAME; we read every item.
#include <optional>
#include <span>
#include <string_view>

#include "rtp/rtcp/PacketView.hpp"

namespace sb::rtp::rtcp {

enum class SdesItemType : uint8_t {
  kEnd = 0, kCname = 1, kName = 2, kEmail = 3, kPhone = 4, kLoc = 5, kTool = 6, kNote = 7, kPriv = 8,
};

class Sdes {
 public:
  struct Chunk {
    Ssrc ssrc{};
    std::string_view cname;  ///< at most 255 bytes
  };

  /// Validates every chunk: items within bounds, each list ended by a null item.
  static Parsed<Sdes> parse(const PacketView& p);
  /// One chunk per entry with a single CNAME item. Returns the size written, 0
  /// if it does not fit, a CNAME is longer than 255 or there are > 31 chunks.
  static size_t write(util::MutableBytes out, std::span<const Chunk> chunks);

  size_t chunk_count() const { return count_; }
  /// Calls f(Ssrc, SdesItemType, std::string_view text) for every item.
  template <typename F>
  void for_each_item(F&& f) const { walk(body_, count_, f); }
  /// CNAME of `ssrc`, if present.
  std::optional<std::string_view> cname(Ssrc ssrc) const;

 private:
  Sdes() = default;
  template <typename F>
  static bool walk(util::ByteView body, size_t count, F&& f);

  util::ByteView body_;
  size_t count_ = 0;
};

template <typename F>
bool Sdes::walk(util::ByteView body, size_t count, F&& f) {
  size_t off = 0;
  for (size_t c = 0; c < count; ++c) {
    if (body.size() - off < 4) return false;
    const Ssrc ssrc{util::load_be32(&body[off])};
    off += 4;
    for (;;) {
      if (off >= body.size()) return false;  // item list not terminated
      const uint8_t type = body[off];
      if (type == 0) {
        // Null item, then null octets to the next 32-bit boundary (the body
        // itself starts on one).
        off = (off + 4) & ~size_t(3);
        if (off > body.size()) return false;
        break;
      }
      if (body.size() - off < 2) return false;
      const size_t len = body[off + 1];
      if (body.size() - off - 2 < len) return false;
      f(ssrc, SdesItemType(type), util::as_string(body.subspan(off + 2, len)));
      off += 2 + len;
    }
  }
  return true;
}

}  // namespace sb::rtp::rtcp
