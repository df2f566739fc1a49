// Appending JSON to a std::string on the hot paths (responses, stored
// documents), where the stored jsonDetails text is spliced in as is and only
// our own short strings need escaping. Tests check the output against
// RapidJSON's parser.
#pragma once

#include <string>
#include <string_view>

namespace eventlogger {

// Appends `value` as a JSON string literal (with quotes). REQUIRES: `value`
// is valid UTF-8; it is copied through, with only '"', '\\' and control
// characters escaped.
void AppendJsonString(std::string& out, std::string_view value);

// Whether AppendJsonString would escape anything in `value` (a '"', '\\'
// or control character): false means the literal is '"' + value + '"'.
bool JsonStringNeedsEscape(std::string_view value);

}  // namespace eventlogger
