// The version this build reports (--version, eventlogger_build_info): the
// project version CMakeLists.txt declares.
#pragma once

#include <string_view>

namespace eventlogger {

inline constexpr std::string_view kVersion = EVENTLOGGER_VERSION;

}  // namespace eventlogger
