// Keyframe and frame-start detection over arbitrary payloads, for every codec.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "rtp/Keyframe.hpp"

using namespace sb::rtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sb::util::ByteView input(data, size);
  (void)codec_from_name(std::string_view(reinterpret_cast<const char*>(data), size));
  for (VideoCodec c : {VideoCodec::kVp8, VideoCodec::kVp9, VideoCodec::kH264, VideoCodec::kAv1, VideoCodec::kOther}) {
    const bool key = is_keyframe(c, input);
    const bool start = is_frame_start(c, input);
    // Outside H.264 (where an IDR slice other than the first still counts as
    // keyframe data), the first packet of a keyframe starts a frame.
    if (key && !start && c != VideoCodec::kH264) std::abort();
    if ((key || start) && c == VideoCodec::kOther) std::abort();
  }
  return 0;
}
