#pragma once
// Maps request targets to files under the web root, refusing anything that
// would escape it.
#include <filesystem>
#include <optional>
#include <string_view>

namespace sb::http {

/// The file a GET of `target` serves, or nullopt (not found / not allowed).
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root, std::string_view target);
std::string_view mime_type(const std::filesystem::path& file);

}  // namespace sb::http
