#include <gtest/gtest.h>

#include "rtp/Keyframe.hpp"

using namespace sb::rtp;
using sb::util::Bytes;

namespace {

bool key(VideoCodec c, const Bytes& b) { return is_keyframe(c, b); }
bool start(VideoCodec c, const Bytes& b) { return is_frame_start(c, b); }

/// Truncated before `min_size` bytes, a keyframe's first packet is rejected.
void expect_prefixes_rejected(VideoCodec c, const Bytes& b, size_t min_size) {
  ASSERT_TRUE(is_keyframe(c, b));
  ASSERT_TRUE(is_keyframe(c, Bytes(b.begin(), b.begin() + long(min_size))));
  for (size_t n = 0; n < min_size; ++n) {
    EXPECT_FALSE(is_keyframe(c, Bytes(b.begin(), b.begin() + long(n)))) << "prefix " << n;
  }
}

// VP8 payload starts (RFC 6386 §9.1): a 3-byte frame tag (bit 0 = P, inverse
// keyframe flag), then for keyframes the start code 9d 01 2a and dimensions.
const Bytes kVp8Key = {0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
const Bytes kVp8Delta = {0x51, 0x10, 0x00, 0x11, 0x22};

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST(Keyframe, CodecFromName) {
  EXPECT_EQ(codec_from_name("VP8"), VideoCodec::kVp8);
  EXPECT_EQ(codec_from_name("vp8"), VideoCodec::kVp8);
  EXPECT_EQ(codec_from_name("VP9"), VideoCodec::kVp9);
  EXPECT_EQ(codec_from_name("AV1X"), VideoCodec::kAv1);  // every name Capabilities accepts has a detector
  EXPECT_EQ(codec_from_name("H264"), VideoCodec::kH264);
  EXPECT_EQ(codec_from_name("h264"), VideoCodec::kH264);
  EXPECT_EQ(codec_from_name("AV1"), VideoCodec::kAv1);
  EXPECT_EQ(codec_from_name("opus"), VideoCodec::kOther);
  EXPECT_EQ(codec_from_name("H265"), VideoCodec::kOther);
  EXPECT_EQ(codec_from_name(""), VideoCodec::kOther);
  EXPECT_FALSE(key(VideoCodec::kOther, cat({0x10}, kVp8Key)));
  EXPECT_FALSE(start(VideoCodec::kOther, cat({0x10}, kVp8Key)));
}

TEST(Keyframe, EmptyPayloadIsNothing) {
  for (VideoCodec c : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264, VideoCodec::kAv1}) {
    EXPECT_FALSE(is_keyframe(c, {}));
    EXPECT_FALSE(is_frame_start(c, {}));
  }
}

// ---- VP8, RFC 7741 §4.2: X|R|N|S|R|PID, then optional I|L|T|K extension.

TEST(Keyframe, Vp8MinimalDescriptor) {
  const Bytes k = cat({0x10}, kVp8Key);  // S=1, PID=0
  EXPECT_TRUE(key(VideoCodec::kVp8, k));
  EXPECT_TRUE(start(VideoCodec::kVp8, k));
  const Bytes d = cat({0x10}, kVp8Delta);
  EXPECT_FALSE(key(VideoCodec::kVp8, d));
  EXPECT_TRUE(start(VideoCodec::kVp8, d));
  expect_prefixes_rejected(VideoCodec::kVp8, k, 11);
  EXPECT_TRUE(key(VideoCodec::kVp8, cat(k, {0x12, 0x34})));
}

TEST(Keyframe, Vp8NotStartOfFirstPartition) {
  EXPECT_FALSE(key(VideoCodec::kVp8, cat({0x00}, kVp8Key)));  // S=0
  EXPECT_FALSE(start(VideoCodec::kVp8, cat({0x00}, kVp8Key)));
  EXPECT_FALSE(key(VideoCodec::kVp8, cat({0x11}, kVp8Key)));  // PID=1
  EXPECT_FALSE(start(VideoCodec::kVp8, cat({0x11}, kVp8Key)));
}

TEST(Keyframe, Vp8WithAllExtensions) {
  // X=1, S=1; I|L|T|K; M=1 15-bit PictureID; TL0PICIDX; TID|Y|KEYIDX.
  const Bytes k = cat({0x90, 0xf0, 0x80 | 0x12, 0x34, 0x07, 0x20}, kVp8Key);
  EXPECT_TRUE(key(VideoCodec::kVp8, k));
  EXPECT_TRUE(start(VideoCodec::kVp8, k));
  EXPECT_FALSE(key(VideoCodec::kVp8, cat({0x90, 0xf0, 0x92, 0x34, 0x07, 0x20}, kVp8Delta)));
  expect_prefixes_rejected(VideoCodec::kVp8, k, 16);
  // The same payload read with a descriptor one byte short misreads the tag.
  EXPECT_FALSE(key(VideoCodec::kVp8, cat({0x90, 0xf0, 0x92, 0x34, 0x07}, kVp8Key)));
}

TEST(Keyframe, Vp8WithShortPictureIdOnly) {
  const Bytes k = cat({0x90, 0x80, 0x12}, kVp8Key);  // I, M=0: 7-bit PictureID
  EXPECT_TRUE(key(VideoCodec::kVp8, k));
  const Bytes tk = cat({0x90, 0x10, 0x40}, kVp8Key);  // K only
  EXPECT_TRUE(key(VideoCodec::kVp8, tk));
  const Bytes l = cat({0x90, 0x40, 0x09}, kVp8Key);  // L only
  EXPECT_TRUE(key(VideoCodec::kVp8, l));
}

TEST(Keyframe, Vp8KeyframeWithoutStartCodeIsRejected) {
  Bytes k = cat({0x10}, kVp8Key);
  k[5] = 0x00;
  EXPECT_FALSE(key(VideoCodec::kVp8, k));
}

// ---- VP9, RFC 9628 §4.2: I|P|L|F|B|E|V|Z.

TEST(Keyframe, Vp9MinimalDescriptor) {
  EXPECT_TRUE(key(VideoCodec::kVp9, {0x08, 0x82, 0x49}));   // B
  EXPECT_TRUE(key(VideoCodec::kVp9, {0x0c, 0x82, 0x49}));   // B, E
  EXPECT_FALSE(key(VideoCodec::kVp9, {0x48, 0x86, 0x00}));  // P: inter-predicted
  EXPECT_TRUE(start(VideoCodec::kVp9, {0x48, 0x86, 0x00}));
  EXPECT_FALSE(key(VideoCodec::kVp9, {0x04, 0x82, 0x49}));  // not the start
  EXPECT_FALSE(start(VideoCodec::kVp9, {0x04, 0x82, 0x49}));
  EXPECT_FALSE(key(VideoCodec::kVp9, {0x08}));  // no payload after the descriptor
}

TEST(Keyframe, Vp9NonFlexibleWithLayers) {
  // I|L|B; M=1 15-bit picture ID; TID|U|SID|D; TL0PICIDX.
  const Bytes k = {0xa8, 0x81, 0x23, 0x00, 0x05, 0x82, 0x49, 0x83};
  EXPECT_TRUE(key(VideoCodec::kVp9, k));
  EXPECT_TRUE(start(VideoCodec::kVp9, k));
  expect_prefixes_rejected(VideoCodec::kVp9, k, 6);
  // Spatial layer 1 of the keyframe picture: a layer frame start, not the keyframe start.
  const Bytes s1 = {0xa8, 0x81, 0x23, 0x02, 0x05, 0x82, 0x49, 0x83};
  EXPECT_FALSE(key(VideoCodec::kVp9, s1));
  EXPECT_TRUE(start(VideoCodec::kVp9, s1));
  // Inter-predicted.
  EXPECT_FALSE(key(VideoCodec::kVp9, {0xe8, 0x81, 0x23, 0x00, 0x05, 0x86}));
}

TEST(Keyframe, Vp9FlexibleMode) {
  // I|L|F|B, 7-bit picture ID, layer indices without TL0PICIDX.
  const Bytes k = {0xb8, 0x05, 0x00, 0x82, 0x49};
  expect_prefixes_rejected(VideoCodec::kVp9, k, 4);
  // I|P|L|F|B with two reference indices (N=1, then N=0).
  const Bytes d = {0xf8, 0x05, 0x00, 0x03, 0x04, 0x86};
  EXPECT_FALSE(key(VideoCodec::kVp9, d));
  EXPECT_TRUE(start(VideoCodec::kVp9, d));
  EXPECT_FALSE(start(VideoCodec::kVp9, {0xf8, 0x05, 0x00, 0x03, 0x05}));  // references run out
}

TEST(Keyframe, Vp9WithScalabilityStructure) {
  // I|B|V; picture ID; SS: N_S=0, Y, G; 640x480; N_G=1: TID 0, R=1, P_DIFF 1.
  const Bytes k = {0x8a, 0x01, 0x18, 0x02, 0x80, 0x01, 0xe0, 0x01, 0x04, 0x01, 0x82, 0x49};
  expect_prefixes_rejected(VideoCodec::kVp9, k, 11);
  // Three spatial layers, resolutions only.
  Bytes three = {0x8a, 0x01, 0x50};
  for (int i = 0; i < 3; ++i) three.insert(three.end(), {0x01, 0x40, 0x00, 0xf0});
  three.push_back(0x82);
  expect_prefixes_rejected(VideoCodec::kVp9, three, three.size());
}

// ---- H.264, RFC 6184: F|NRI|Type NAL header.

TEST(Keyframe, H264SingleNalUnits) {
  EXPECT_TRUE(key(VideoCodec::kH264, {0x65, 0x88, 0x84}));  // IDR slice
  EXPECT_TRUE(start(VideoCodec::kH264, {0x65, 0x88, 0x84}));
  EXPECT_TRUE(key(VideoCodec::kH264, {0x67, 0x42, 0xc0, 0x1f}));  // SPS
  EXPECT_TRUE(start(VideoCodec::kH264, {0x67, 0x42, 0xc0, 0x1f}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x68, 0xce, 0x3c, 0x80}));  // PPS
  EXPECT_TRUE(start(VideoCodec::kH264, {0x68, 0xce, 0x3c, 0x80}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x41, 0x9a, 0x02}));  // non-IDR slice
  EXPECT_TRUE(start(VideoCodec::kH264, {0x41, 0x9a, 0x02}));  // first_mb_in_slice 0
  EXPECT_FALSE(start(VideoCodec::kH264, {0x41, 0x40, 0x02}));  // a later slice
  EXPECT_FALSE(key(VideoCodec::kH264, {0x65}));  // header only
  EXPECT_FALSE(key(VideoCodec::kH264, {0x60, 0x00}));  // type 0 is unspecified
}

TEST(Keyframe, H264StapA) {
  // STAP-A: SPS, PPS, IDR slice, each with a 16-bit size.
  const Bytes k = {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce, 0x00, 0x03, 0x65, 0x88, 0x80};
  EXPECT_TRUE(key(VideoCodec::kH264, k));
  EXPECT_TRUE(start(VideoCodec::kH264, k));
  const Bytes d = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x41, 0x9a};
  EXPECT_FALSE(key(VideoCodec::kH264, d));
  EXPECT_TRUE(start(VideoCodec::kH264, d));  // SEI first
  // A size running past the end, a zero size, or no units at all: malformed.
  EXPECT_FALSE(key(VideoCodec::kH264, {0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x09, 0x65, 0x88}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x78, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x78, 0x00}));
  // Cut inside a unit: malformed. Cut after the SPS unit: still an SPS.
  for (size_t n : {1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13}) {
    EXPECT_FALSE(key(VideoCodec::kH264, Bytes(k.begin(), k.begin() + long(n)))) << n;
  }
  EXPECT_TRUE(key(VideoCodec::kH264, Bytes(k.begin(), k.begin() + 5)));
}

TEST(Keyframe, H264FuA) {
  // FU indicator (type 28), FU header S|E|R|Type.
  EXPECT_TRUE(key(VideoCodec::kH264, {0x7c, 0x85, 0x88, 0x84}));   // start of an IDR slice
  EXPECT_TRUE(start(VideoCodec::kH264, {0x7c, 0x85, 0x88, 0x84}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x7c, 0x05, 0x12, 0x34}));  // middle
  EXPECT_FALSE(start(VideoCodec::kH264, {0x7c, 0x05, 0x12, 0x34}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x7c, 0x45, 0x12}));        // end
  EXPECT_FALSE(key(VideoCodec::kH264, {0x5c, 0x81, 0x9a}));        // start of a non-IDR slice
  EXPECT_TRUE(start(VideoCodec::kH264, {0x5c, 0x81, 0x9a}));
  EXPECT_FALSE(key(VideoCodec::kH264, {0x7c, 0x85}));              // no fragment bytes
}

// ---- AV1 RTP specification §4.4: Z|Y|W|N aggregation header.

TEST(Keyframe, Av1NewCodedVideoSequence) {
  // W=1, N=1, then a sequence header OBU (type 1, has_size).
  const Bytes k = {0x18, 0x0a, 0x0b, 0x00, 0x00, 0x00};
  EXPECT_TRUE(key(VideoCodec::kAv1, k));
  EXPECT_TRUE(start(VideoCodec::kAv1, k));
  // W=0: each element has a leb128 length.
  EXPECT_TRUE(key(VideoCodec::kAv1, {0x08, 0x03, 0x0a, 0x0b, 0x00}));
  // W=2: the first element has a length, the last does not.
  EXPECT_TRUE(key(VideoCodec::kAv1, {0x28, 0x02, 0x0a, 0x00, 0x32, 0x01}));
  // N=1 with Z=1 contradicts the specification.
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x98, 0x0a, 0x0b}));
}

TEST(Keyframe, Av1DeltaFramesAndFragments) {
  const Bytes frame = {0x10, 0x32, 0x10, 0x00};  // W=1, frame OBU (type 6)
  EXPECT_FALSE(key(VideoCodec::kAv1, frame));
  EXPECT_TRUE(start(VideoCodec::kAv1, frame));
  EXPECT_FALSE(start(VideoCodec::kAv1, {0x90, 0x32, 0x10}));  // Z: continues a fragment
  EXPECT_FALSE(start(VideoCodec::kAv1, {0x10, 0x22, 0x10}));  // tile group OBU
  EXPECT_TRUE(start(VideoCodec::kAv1, {0x10, 0x12, 0x00}));   // temporal delimiter
}

TEST(Keyframe, Av1MalformedElements) {
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x18}));                    // no OBU element
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x08, 0x0a, 0x0a, 0x0b}));  // length past the end
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x08, 0x00, 0x0a}));        // zero length
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x08, 0x80, 0x80}));        // unterminated leb128
  EXPECT_FALSE(key(VideoCodec::kAv1, {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x0a}));
  // A two-byte leb128 length (130) fits exactly.
  Bytes big = {0x08, 0x82, 0x01};
  big.resize(3 + 130, 0x0a);
  EXPECT_TRUE(key(VideoCodec::kAv1, big));
  big.pop_back();
  EXPECT_FALSE(key(VideoCodec::kAv1, big));
}
