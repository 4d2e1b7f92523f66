#pragma once
// Files built into the binary (api/CMakeLists.txt embeds them with cmake/embed.cmake): the
// dashboard (api/dashboard/) and the OpenAPI document (api/openapi.json).

#include <optional>
#include <string_view>

namespace daybook::api {

// The bytes of an embedded file by name ("index.html", "app.js", "style.css", "openapi.json").
std::optional<std::string_view> asset(std::string_view name);

}  // namespace daybook::api
