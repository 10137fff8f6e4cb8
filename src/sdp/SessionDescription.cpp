#include "sdp/SessionDescription.hpp"

#include "sdp/Codec.hpp"
#include "sdp/SdpParser.hpp"
#include "sdp/SdpWriter.hpp"

namespace sb::sdp {

util::Result<SessionDescription> SessionDescription::parse(std::string_view text) {
  return SdpParser::parse(text);
}

std::string SessionDescription::to_string() const { return SdpWriter::write(*this); }

const Group* SessionDescription::find_group(std::string_view semantics) const {
  for (const auto& g : groups)
    if (iequals(g.semantics, semantics)) return &g;
  return nullptr;
}

bool SessionDescription::is_bundled(std::string_view mid) const {
  for (const auto& g : groups)
    if (iequals(g.semantics, "BUNDLE") && g.contains(mid)) return true;
  return false;
}

const MediaSection* SessionDescription::find_media(std::string_view mid) const {
  for (const auto& m : media)
    if (!m.mid.empty() && m.mid == mid) return &m;
  return nullptr;
}

MediaSection* SessionDescription::find_media(std::string_view mid) {
  for (auto& m : media)
    if (!m.mid.empty() && m.mid == mid) return &m;
  return nullptr;
}

TransportAttributes SessionDescription::transport_for(const MediaSection& m) const {
  TransportAttributes t = m.transport;
  if (!t.ice_ufrag) t.ice_ufrag = transport.ice_ufrag;
  if (!t.ice_pwd) t.ice_pwd = transport.ice_pwd;
  if (t.ice_options.empty()) t.ice_options = transport.ice_options;
  if (t.fingerprints.empty()) t.fingerprints = transport.fingerprints;
  if (!t.setup) t.setup = transport.setup;
  return t;
}

const Attribute* SessionDescription::find_attribute(std::string_view name) const {
  for (const auto& a : other_attributes)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace sb::sdp
