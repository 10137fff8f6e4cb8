#include "sdp/MediaSection.hpp"

#include <algorithm>
#include <charconv>

namespace sb::sdp {

MediaKind MediaSection::kind() const {
  if (media == "audio") return MediaKind::Audio;
  if (media == "video") return MediaKind::Video;
  if (media == "application") return MediaKind::Application;
  return MediaKind::Other;
}

bool MediaSection::is_rtp() const { return protocol.find("RTP/") != std::string::npos; }

std::vector<PayloadType> MediaSection::payload_types() const {
  std::vector<PayloadType> out;
  if (!is_rtp()) return out;
  for (const auto& f : formats) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec == std::errc() && p == f.data() + f.size() && v <= 127) out.push_back(PayloadType(v));
  }
  return out;
}

const Codec* MediaSection::find_codec(PayloadType pt) const {
  for (const auto& c : codecs)
    if (c.pt == pt) return &c;
  return nullptr;
}

Codec* MediaSection::find_codec(PayloadType pt) {
  for (auto& c : codecs)
    if (c.pt == pt) return &c;
  return nullptr;
}

std::vector<const Codec*> MediaSection::codecs_named(std::string_view name) const {
  std::vector<const Codec*> out;
  for (const auto& c : codecs)
    if (c.is(name)) out.push_back(&c);
  return out;
}

std::optional<PayloadType> MediaSection::rtx_payload_type(PayloadType pt) const {
  for (const auto& c : codecs)
    if (c.is_rtx() && c.apt() == pt) return c.pt;
  return std::nullopt;
}

std::optional<uint16_t> MediaSection::extmap_id(std::string_view uri) const {
  for (const auto& e : extmaps)
    if (e.uri == uri) return e.id;
  return std::nullopt;
}

const Extmap* MediaSection::find_extmap(uint16_t id) const {
  for (const auto& e : extmaps)
    if (e.id == id) return &e;
  return nullptr;
}

std::vector<Ssrc> MediaSection::primary_ssrcs() const {
  std::vector<Ssrc> repair;
  for (const auto& g : ssrc_groups)
    if (g.semantics == "FID" && g.ssrcs.size() >= 2) repair.insert(repair.end(), g.ssrcs.begin() + 1, g.ssrcs.end());
  std::vector<Ssrc> out;
  auto add = [&](Ssrc s) {
    if (std::find(repair.begin(), repair.end(), s) != repair.end()) return;
    if (std::find(out.begin(), out.end(), s) != out.end()) return;
    out.push_back(s);
  };
  // Groups first so that a SIM group gives the layer order; then any SSRC
  // signalled only through a=ssrc lines.
  for (const auto& g : ssrc_groups)
    for (Ssrc s : g.ssrcs) add(s);
  for (const auto& a : ssrcs) add(a.ssrc);
  return out;
}

std::optional<Ssrc> MediaSection::rtx_ssrc(Ssrc primary) const {
  for (const auto& g : ssrc_groups)
    if (g.semantics == "FID" && g.ssrcs.size() >= 2 && g.ssrcs[0] == primary) return g.ssrcs[1];
  return std::nullopt;
}

std::optional<std::string_view> MediaSection::ssrc_attribute(Ssrc ssrc, std::string_view name) const {
  for (const auto& a : ssrcs)
    if (a.ssrc == ssrc && a.name == name) return std::string_view(a.value);
  return std::nullopt;
}

const SsrcGroup* MediaSection::find_ssrc_group(std::string_view semantics) const {
  for (const auto& g : ssrc_groups)
    if (g.semantics == semantics) return &g;
  return nullptr;
}

const Rid* MediaSection::find_rid(std::string_view id) const {
  for (const auto& r : rids)
    if (r.id == id) return &r;
  return nullptr;
}

const Attribute* MediaSection::find_attribute(std::string_view name) const {
  for (const auto& a : other_attributes)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace sb::sdp
