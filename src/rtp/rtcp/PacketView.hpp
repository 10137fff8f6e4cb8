#pragma once
// One RTCP packet inside a (possibly compound) datagram: the common header of
// RFC 3550 §6.4.1 (V, P, count/FMT, PT, length) validated, padding stripped.
#include <cstddef>
#include <cstdint>

#include "rtp/ParseError.hpp"
#include "rtp/Types.hpp"
#include "util/Bytes.hpp"

namespace sb::rtp::rtcp {

inline constexpr size_t kHeaderSize = 4;

enum class PacketType : uint8_t {
  kSr = 200,     ///< RFC 3550 §6.4.1
  kRr = 201,     ///< RFC 3550 §6.4.2
  kSdes = 202,   ///< RFC 3550 §6.5
  kBye = 203,    ///< RFC 3550 §6.6
  kApp = 204,    ///< RFC 3550 §6.7
  kRtpfb = 205,  ///< transport layer feedback, RFC 4585 §6.2
  kPsfb = 206,   ///< payload-specific feedback, RFC 4585 §6.3
  kXr = 207,     ///< RFC 3611
};

// Feedback message types (the FMT field).
inline constexpr uint8_t kFmtNack = 1;               ///< RTPFB, RFC 4585 §6.2.1
inline constexpr uint8_t kFmtTransportFeedback = 15; ///< RTPFB, transport-wide CC draft §3.1
inline constexpr uint8_t kFmtPli = 1;                ///< PSFB, RFC 4585 §6.3.1
inline constexpr uint8_t kFmtFir = 4;                ///< PSFB, RFC 5104 §4.3.1
inline constexpr uint8_t kFmtAfb = 15;               ///< PSFB application layer (REMB)

class PacketView {
 public:
  /// Parses the packet at the start of `data`; the rest of `data` is ignored
  /// (size() tells where the next packet starts).
  static Parsed<PacketView> parse(util::ByteView data);

  /// Reception report / source count, or FMT for feedback packets.
  uint8_t count() const { return data_[0] & 0x1F; }
  uint8_t fmt() const { return count(); }
  bool has_padding() const { return (data_[0] & 0x20) != 0; }
  uint8_t type_value() const { return data_[1]; }
  PacketType type() const { return PacketType(data_[1]); }
  bool is(PacketType t, uint8_t fmt_value) const { return type() == t && fmt() == fmt_value; }

  /// The whole packet: header, body and padding.
  util::ByteView data() const { return data_; }
  size_t size() const { return data_.size(); }
  /// After the 4-byte header, padding excluded.
  util::ByteView body() const { return body_; }

 private:
  PacketView() = default;
  util::ByteView data_;
  util::ByteView body_;
};

/// Writes a common header for a packet of `total_size` bytes (a multiple of 4,
/// header and padding included).
void write_header(util::ByteWriter& w, uint8_t count_or_fmt, PacketType type, size_t total_size,
                  bool padding = false);

/// RFC 4585 §6.1: every feedback packet starts with these two SSRCs.
struct FeedbackHeader {
  Ssrc sender_ssrc{};
  Ssrc media_ssrc{};
};
inline constexpr size_t kFeedbackHeaderSize = kHeaderSize + 8;

/// Checks type/FMT and reads the two SSRCs; `fci` receives the rest of the body.
Parsed<FeedbackHeader> parse_feedback(const PacketView& p, PacketType type, uint8_t fmt, util::ByteView& fci);

}  // namespace sb::rtp::rtcp
