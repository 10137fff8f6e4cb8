#include "rtp/Keyframe.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace sb::rtp {

namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// ---- VP8, RFC 7741 §4.2

struct Vp8Descriptor {
  bool start_of_partition = false;  ///< S
  uint8_t partition_id = 0;         ///< PID
  util::ByteView payload;           ///< the VP8 payload after the descriptor
};

std::optional<Vp8Descriptor> parse_vp8(util::ByteView p) {
  util::ByteReader r(p);
  const uint8_t b0 = r.u8();
  Vp8Descriptor d;
  d.start_of_partition = (b0 & 0x10) != 0;
  d.partition_id = b0 & 0x07;
  if (b0 & 0x80) {  // X: extension octet I|L|T|K|RSV
    const uint8_t x = r.u8();
    if (x & 0x80) r.skip((r.u8() & 0x80) ? 1 : 0);  // I: PictureID, M selects 15 bits
    if (x & 0x40) r.skip(1);                        // L: TL0PICIDX
    if (x & 0x30) r.skip(1);                        // T or K: TID|Y|KEYIDX
  }
  if (!r.ok() || r.remaining() == 0) return std::nullopt;
  d.payload = p.subspan(r.position());
  return d;
}

bool vp8_frame_start(const Vp8Descriptor& d) { return d.start_of_partition && d.partition_id == 0; }

/// RFC 6386 §9.1: 3-byte frame tag, start code, 2-byte width and height.
constexpr size_t kVp8KeyframeHeaderSize = 10;

bool vp8_keyframe(util::ByteView p) {
  auto d = parse_vp8(p);
  if (!d || !vp8_frame_start(*d)) return false;
  // RFC 7741 §4.3: P (inverse keyframe flag) is bit 0 of the frame tag; a
  // keyframe's header then carries the start code 9d 01 2a.
  const util::ByteView f = d->payload;
  return f.size() >= kVp8KeyframeHeaderSize && (f[0] & 0x01) == 0 && f[3] == 0x9d && f[4] == 0x01 &&
         f[5] == 0x2a;
}

// ---- VP9, RFC 9628 §4.2

struct Vp9Descriptor {
  bool inter_predicted = false;  ///< P
  bool start_of_frame = false;   ///< B
  uint8_t spatial_id = 0;        ///< SID, 0 without layer indices
};

void skip_vp9_scalability_structure(util::ByteReader& r) {
  // §4.2.1: N_S|Y|G|-|-|-|, then N_S+1 resolutions if Y, then a picture group if G.
  const uint8_t ss = r.u8();
  const size_t spatial_layers = size_t(ss >> 5) + 1;
  if (ss & 0x10) r.skip(4 * spatial_layers);
  if (ss & 0x08) {
    const uint8_t pictures = r.u8();
    for (uint8_t i = 0; i < pictures && r.ok(); ++i) {
      const uint8_t desc = r.u8();  // TID|U|R|-|-
      r.skip((desc >> 2) & 0x03);   // R reference P_DIFFs
    }
  }
}

std::optional<Vp9Descriptor> parse_vp9(util::ByteView p) {
  util::ByteReader r(p);
  const uint8_t b0 = r.u8();
  const bool has_picture_id = b0 & 0x80;  // I
  const bool inter = b0 & 0x40;           // P
  const bool has_layers = b0 & 0x20;      // L
  const bool flexible = b0 & 0x10;        // F
  const bool has_ss = b0 & 0x02;          // V
  Vp9Descriptor d;
  d.inter_predicted = inter;
  d.start_of_frame = b0 & 0x08;  // B
  if (has_picture_id) r.skip((r.u8() & 0x80) ? 1 : 0);  // M: 15-bit picture ID
  if (has_layers) {
    d.spatial_id = (r.u8() >> 1) & 0x07;  // TID|U|SID|D
    if (!flexible) r.skip(1);             // TL0PICIDX
  }
  if (flexible && inter) {
    // Up to 3 reference indices P_DIFF|N, N set when another follows.
    for (int i = 0; i < 3 && r.ok(); ++i) {
      if ((r.u8() & 0x01) == 0) break;
    }
  }
  if (has_ss) skip_vp9_scalability_structure(r);
  if (!r.ok() || r.remaining() == 0) return std::nullopt;
  return d;
}

// ---- H.264, RFC 6184 §5.6–§5.8

constexpr uint8_t kNalSlice = 1;
constexpr uint8_t kNalIdr = 5;
constexpr uint8_t kNalSei = 6;
constexpr uint8_t kNalSps = 7;
constexpr uint8_t kNalPps = 8;
constexpr uint8_t kNalAud = 9;
constexpr uint8_t kStapA = 24;
constexpr uint8_t kFuA = 28;

uint8_t nal_type(uint8_t header) { return header & 0x1F; }
bool h264_key_nal(uint8_t type) { return type == kNalIdr || type == kNalSps; }

/// Whether a NAL unit of `type`, whose bytes after the NAL header start with
/// `first`, begins a new access unit (H.264 §7.4.1.2.3). first_mb_in_slice is
/// the slice header's first ue(v) field: zero is coded as a single 1 bit.
bool h264_starts_access_unit(uint8_t type, uint8_t first) {
  switch (type) {
    case kNalAud: case kNalSei: case kNalSps: case kNalPps: return true;
    case kNalSlice: case kNalIdr: return (first & 0x80) != 0;
    default: return false;
  }
}

/// Calls f(nal) for each NAL unit of a STAP-A (§5.7.1); false if malformed.
template <typename F>
bool for_each_stap_a_nal(util::ByteView p, F&& f) {
  util::ByteReader r(p.subspan(1));
  size_t units = 0;
  while (r.remaining() > 0) {
    const uint16_t size = r.u16();
    const util::ByteView nal = r.bytes(size);
    if (!r.ok() || size == 0) return false;
    if (!f(nal)) return true;
    ++units;
  }
  return units > 0;
}

bool h264_keyframe(util::ByteView p) {
  if (p.size() < 2) return false;
  const uint8_t type = nal_type(p[0]);
  if (type >= 1 && type <= 23) return h264_key_nal(type);
  if (type == kStapA) {
    bool key = false;
    const bool ok = for_each_stap_a_nal(p, [&](util::ByteView nal) {
      key = key || h264_key_nal(nal_type(nal[0]));
      return true;
    });
    return ok && key;
  }
  if (type == kFuA) {
    // FU indicator, FU header S|E|R|Type, then at least one payload byte.
    return p.size() >= 3 && (p[1] & 0x80) != 0 && h264_key_nal(nal_type(p[1]));
  }
  return false;
}

bool h264_frame_start(util::ByteView p) {
  if (p.size() < 2) return false;
  const uint8_t type = nal_type(p[0]);
  if (type >= 1 && type <= 23) return h264_starts_access_unit(type, p[1]);
  if (type == kStapA) {
    bool start = false;
    const bool ok = for_each_stap_a_nal(p, [&](util::ByteView nal) {
      start = nal.size() >= 2 && h264_starts_access_unit(nal_type(nal[0]), nal[1]);
      return false;  // only the first NAL unit matters
    });
    return ok && start;
  }
  if (type == kFuA) return p.size() >= 3 && (p[1] & 0x80) != 0 && h264_starts_access_unit(nal_type(p[1]), p[2]);
  return false;
}

// ---- AV1, AV1 RTP specification §4.4–§4.5

constexpr uint8_t kObuSequenceHeader = 1;
constexpr uint8_t kObuTemporalDelimiter = 2;
constexpr uint8_t kObuFrameHeader = 3;
constexpr uint8_t kObuFrame = 6;

struct Av1Packet {
  bool continuation = false;   ///< Z: starts inside an OBU fragment
  bool new_sequence = false;   ///< N
  util::ByteView first_element;
};

/// leb128() of the AV1 specification §4.10.5: at most 8 bytes.
std::optional<uint64_t> read_leb128(util::ByteReader& r) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    const uint8_t b = r.u8();
    if (!r.ok()) return std::nullopt;
    value |= uint64_t(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  return std::nullopt;
}

std::optional<Av1Packet> parse_av1(util::ByteView p) {
  util::ByteReader r(p);
  const uint8_t h = r.u8();  // Z|Y|W|N|-|-|-
  if (!r.ok()) return std::nullopt;
  Av1Packet a;
  a.continuation = h & 0x80;
  a.new_sequence = h & 0x08;
  const uint8_t w = (h >> 4) & 0x03;
  // With W=1 the only element has no length field; otherwise the first has one.
  uint64_t size = r.remaining();
  if (w != 1) {
    auto len = read_leb128(r);
    if (!len) return std::nullopt;
    size = *len;
  }
  if (size == 0 || size > r.remaining()) return std::nullopt;
  a.first_element = r.bytes(size_t(size));
  return a;
}

bool av1_keyframe(util::ByteView p) {
  auto a = parse_av1(p);
  // A new coded video sequence cannot start inside a fragment (§4.4: N=1 implies Z=0).
  return a && a->new_sequence && !a->continuation;
}

bool av1_frame_start(util::ByteView p) {
  auto a = parse_av1(p);
  if (!a || a->continuation) return false;
  // OBU header (AV1 §5.3.2): forbidden|type(4)|extension|has_size|reserved.
  const uint8_t type = (a->first_element[0] >> 3) & 0x0F;
  return a->new_sequence || type == kObuSequenceHeader || type == kObuTemporalDelimiter ||
         type == kObuFrameHeader || type == kObuFrame;
}

}  // namespace

VideoCodec codec_from_name(std::string_view name) {
  if (equals_ignore_case(name, "VP8")) return VideoCodec::kVp8;
  if (equals_ignore_case(name, "VP9")) return VideoCodec::kVp9;
  if (equals_ignore_case(name, "H264")) return VideoCodec::kH264;
  // "AV1X" is the name early Chromium versions used before the RTP format was final.
  if (equals_ignore_case(name, "AV1") || equals_ignore_case(name, "AV1X")) return VideoCodec::kAv1;
  return VideoCodec::kOther;
}

bool is_keyframe(VideoCodec codec, util::ByteView payload) {
  switch (codec) {
    case VideoCodec::kVp8:
      return vp8_keyframe(payload);
    case VideoCodec::kVp9: {
      auto d = parse_vp9(payload);
      return d && d->start_of_frame && !d->inter_predicted && d->spatial_id == 0;
    }
    case VideoCodec::kH264:
      return h264_keyframe(payload);
    case VideoCodec::kAv1:
      return av1_keyframe(payload);
    case VideoCodec::kOther:
      break;
  }
  return false;
}

bool is_frame_start(VideoCodec codec, util::ByteView payload) {
  switch (codec) {
    case VideoCodec::kVp8: {
      auto d = parse_vp8(payload);
      return d && vp8_frame_start(*d);
    }
    case VideoCodec::kVp9: {
      auto d = parse_vp9(payload);
      return d && d->start_of_frame;
    }
    case VideoCodec::kH264:
      return h264_frame_start(payload);
    case VideoCodec::kAv1:
      return av1_frame_start(payload);
    case VideoCodec::kOther:
      break;
  }
  return false;
}

}  // namespace sb::rtp
