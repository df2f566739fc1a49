// Entity tags (RFC 9110 §8.8.3) for GET answers, and the If-None-Match
// check that turns a repeated read into a 304.
#pragma once

#include <string>
#include <string_view>

namespace eventlogger::http {

// A strong tag for exactly these bytes: "\"<32 hex digits>\"", the XXH3-128
// digest of the body. Equal bodies get equal tags in every instance and
// every run, so tags stay valid behind a load balancer and across restarts.
std::string StrongEntityTag(std::string_view body);

// Whether one If-None-Match field value ("*", or a comma-separated list of
// tags, weak or strong) matches `tag` under the weak comparison RFC 9110
// §13.1.2 prescribes for it. A malformed list matches nothing.
bool IfNoneMatchMatches(std::string_view field_value, std::string_view tag);

}  // namespace eventlogger::http
